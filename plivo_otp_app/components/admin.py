"""The operator dashboard's pieces: the range form, the figures, the charts and the tables.

Charts are Reflex's own recharts components, fed with the few rows the state aggregated in
SQL. Their colours are fixed mid-tones readable on the light and the dark surface; axis
text, grid and tooltip take the theme's colours (styles.css, `.potp .admin-chart`).
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.vars.object import ObjectVar

from ..audit import AuditKind
from ..config import get_settings
from ..i18n import t
from ..state.admin import PRESETS, AdminState
from .fields import Label, error_line, message_line, submit_button

#: A figure or cell with nothing to show.
NONE = "\u2013"
SENT = "#6366f1"
VERIFIED = "#16a34a"
REFUSED = "#dc2626"
SPEND = "#d97706"
#: The delivery mix's slices, in turn.
SLICES = ("#16a34a", "#6366f1", "#d97706", "#dc2626", "#0891b2", "#9333ea", "#64748b")
_TOOLTIP = {
    "content_style": {
        "background": "var(--surface)",
        "border": "1px solid var(--border)",
        "borderRadius": "8px",
        "color": "var(--fg)",
    },
    "label_style": {"color": "var(--fg)", "fontWeight": 600},
}


def _preset_label(days: str) -> rx.Var[str]:
    return {"1": t("24 hours"), "7": t("7 days"), "30": t("30 days"), "90": t("90 days")}[days]


def range_form() -> rx.Component:
    """The date range: presets, or a start and an end date (`#range-form`)."""
    presets = rx.el.div(
        *(
            rx.el.button(
                _preset_label(days),
                id=f"preset-{days}",
                type="button",
                on_click=AdminState.pick_preset(days),
                class_name="preset",
                custom_attrs={"aria-pressed": rx.cond(AdminState.preset == days, "true", "false")},
            )
            for days in PRESETS
        ),
        role="group",
        aria_label=t("Date range"),
        id="range-presets",
        class_name="row wrap presets",
    )
    dates = rx.el.form(
        rx.el.div(
            rx.el.label(t("From"), html_for="range-from"),
            rx.el.input(
                id="range-from",
                name="from",
                type="date",
                default_value=AdminState.range_from,
                key=AdminState.range_from,
                required=True,
            ),
            class_name="stack tight",
        ),
        rx.el.div(
            rx.el.label(t("To"), html_for="range-to"),
            rx.el.input(
                id="range-to",
                name="to",
                type="date",
                default_value=AdminState.range_to,
                key=AdminState.range_to,
                required=True,
            ),
            class_name="stack tight",
        ),
        submit_button(t("Show"), t("Loading…"), AdminState.loading, id="range-apply"),
        on_submit=AdminState.set_range,
        id="range-form",
        class_name="row wrap range-dates",
    )
    return rx.el.div(presets, dates, class_name="admin-range")


def _figure(label: Label, value: Any, element_id: str, note: Label | None = None) -> rx.Component:
    return rx.el.div(
        rx.el.dt(label),
        rx.el.dd(value, id=element_id, class_name="figure-value"),
        *([rx.el.dd(note, class_name="figure-note")] if note is not None else []),
        class_name="figure",
    )


def totals() -> rx.Component:
    """The range's figures (`#admin-totals`)."""
    return rx.el.dl(
        _figure(t("Codes sent"), AdminState.total_sent, "total-sent"),
        _figure(t("Verified"), AdminState.total_verified, "total-verified"),
        _figure(t("Conversion"), AdminState.total_conversion, "total-conversion"),
        _figure(t("Refused"), AdminState.total_refused, "total-refused"),
        _figure(
            t("Estimated spend"),
            AdminState.total_spend,
            "total-spend",
            rx.cond(
                AdminState.budget == 0,
                t("no budget cap"),
                rx.cond(
                    AdminState.hourly,
                    t("hourly budget {budget}", budget=AdminState.total_budget),
                    t("daily budget {budget}", budget=AdminState.total_budget),
                ),
            ),
        ),
        _figure(t("Median time to verify"), AdminState.median, "total-median"),
        id="admin-totals",
        class_name="figures",
    )


def _chart(title: Label, element_id: str, data: Any, chart: rx.Component, note: Label) -> rx.Component:
    """A chart with its heading and what it shows; a sentence instead where the range has no data."""
    return rx.el.section(
        rx.el.h2(title, id=f"{element_id}-title", class_name="section-title"),
        rx.el.p(note, class_name="muted chart-note"),
        rx.cond(
            rx.Var.create(data).length() > 0,  # type: ignore[attr-defined]
            rx.el.div(chart, class_name="admin-chart", role="img", aria_labelledby=f"{element_id}-title"),
            rx.el.p(t("No data in this range."), class_name="muted empty"),
        ),
        id=element_id,
        class_name="chart-card",
    )


def _axes(category: str, **x: Any) -> tuple[rx.Component, ...]:
    return (
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
        rx.recharts.x_axis(data_key=category, **x),
        rx.recharts.y_axis(allow_decimals=False, width=40),
        rx.recharts.graphing_tooltip(**_TOOLTIP),
    )


def _line(key: str, name: Label, colour: str) -> rx.Component:
    # Small dots: a range of one hour or day is one point, which a bare line would not show.
    return rx.recharts.line(
        data_key=key, name=name, stroke=colour, stroke_width=2, dot={"r": 2}, is_animation_active=False
    )


def over_time() -> rx.Component:
    """Sends, verifications and refusals per hour or day."""
    return _chart(
        t("Sends and verifications"),
        "chart-over-time",
        AdminState.over_time,
        rx.recharts.line_chart(
            *_axes("bucket", min_tick_gap=24),
            _line("sent", t("Codes sent"), SENT),
            _line("verified", t("Verified"), VERIFIED),
            _line("refused", t("Refused"), REFUSED),
            rx.recharts.legend(),
            data=AdminState.over_time,
        ),
        t("Codes sent, codes verified and sends refused, by hour for a short range, else by day."),
    )


def _conversion(title: Label, element_id: str, data: Any, category: str, note: Label) -> rx.Component:
    threshold = round(get_settings().pumping.min_conversion * 100)
    return _chart(
        title,
        element_id,
        data,
        rx.recharts.bar_chart(
            rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
            rx.recharts.x_axis(data_key=category, interval=0, tick_size=4),
            rx.recharts.y_axis(domain=[0, 100], unit="%", width=48),
            rx.recharts.graphing_tooltip(**_TOOLTIP),
            rx.recharts.bar(
                data_key="conversion",
                name=t("Conversion"),
                fill=VERIFIED,
                radius=4,
                is_animation_active=False,
                unit="%",
            ),
            rx.recharts.reference_line(
                y=threshold, stroke=REFUSED, stroke_dasharray="4 4", label=t("Watch threshold")
            ),
            data=data,
            max_bar_size=56,
        ),
        note,
    )


def conversion_by_country() -> rx.Component:
    """Verified share of the sends, per country (the busiest first)."""
    return _conversion(
        t("Conversion by country"),
        "chart-country",
        AdminState.by_country,
        "country",
        t("Verified codes per code sent; the dashed line is PUMPING_MIN_CONVERSION."),
    )


def conversion_by_group() -> rx.Component:
    """Verified share of the sends to each flagged group."""
    return _conversion(
        t("Conversion by flagged group"),
        "chart-group",
        AdminState.by_group,
        "group",
        t("Ranges, blocks and countries the watch refused sends to, and how many of their codes were used."),
    )


def refusals() -> rx.Component:
    """Refused sends by reason."""
    return _chart(
        t("Refusals by reason"),
        "chart-refusals",
        AdminState.refusals,
        rx.recharts.bar_chart(
            rx.recharts.cartesian_grid(stroke_dasharray="3 3", horizontal=False),
            rx.recharts.x_axis(type_="number", allow_decimals=False),
            rx.recharts.y_axis(data_key="reason", type_="category", width=150, interval=0),
            rx.recharts.graphing_tooltip(**_TOOLTIP),
            rx.recharts.bar(
                data_key="count", name=t("Refused"), fill=REFUSED, radius=4, is_animation_active=False
            ),
            data=AdminState.refusals,
            layout="vertical",
            max_bar_size=32,
        ),
        t("Which rule refused each send: a watch width, a budget, a high-risk country or a rate limit."),
    )


def spend() -> rx.Component:
    """Estimated spend per hour or day against its cap."""
    return _chart(
        t("Estimated spend against budget"),
        "chart-spend",
        AdminState.spend,
        rx.recharts.bar_chart(
            rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
            rx.recharts.x_axis(data_key="bucket", min_tick_gap=24),
            rx.recharts.y_axis(width=48),
            rx.recharts.graphing_tooltip(**_TOOLTIP),
            rx.recharts.bar(
                data_key="spend", name=t("Estimated spend"), fill=SPEND, radius=4, is_animation_active=False
            ),
            rx.recharts.reference_line(
                y=rx.Var.create(AdminState.budget).to(int),
                stroke=REFUSED,
                stroke_dasharray="4 4",
                label=t("Budget"),
                if_overflow="extendDomain",
            ),
            data=AdminState.spend,
            max_bar_size=56,
        ),
        t("The price table's estimate of each send; the dashed line is the hourly or daily global budget."),
    )


def delivery() -> rx.Component:
    """The providers' delivery reports by status."""
    return _chart(
        t("Delivery status"),
        "chart-delivery",
        AdminState.delivery,
        rx.recharts.pie_chart(
            rx.recharts.pie(
                rx.foreach(
                    AdminState.delivery,
                    lambda _row, index: rx.recharts.cell(
                        fill=rx.Var.create(list(SLICES))[index % len(SLICES)]
                    ),
                ),
                data=AdminState.delivery,
                data_key="count",
                name_key="status",
                inner_radius="55%",
                outer_radius="85%",
                padding_angle=2,
                is_animation_active=False,
            ),
            rx.recharts.graphing_tooltip(**_TOOLTIP),
            rx.recharts.legend(),
        ),
        t("What the provider reported for each attempt: delivered, undelivered, failed…"),
    )


def verify_times() -> rx.Component:
    """How long verified codes took, from the first send to the right code."""
    return _chart(
        t("Time from send to verify"),
        "chart-verify-time",
        AdminState.verify_times,
        rx.recharts.bar_chart(
            *_axes("bucket", interval=0),
            rx.recharts.bar(
                data_key="count", name=t("Verified"), fill=SENT, radius=4, is_animation_active=False
            ),
            data=AdminState.verify_times,
            max_bar_size=56,
        ),
        t("People read and type a code within a minute or two; codes used much later are rare."),
    )


def _cell(heading: rx.Var[str], value: Any, **props: Any) -> rx.Component:
    return rx.el.td(value, custom_attrs={"data-label": heading}, **props)


def _table(
    element_id: str, caption: Label, headings: list[rx.Var[str]], rows: Any, row: Any, cards: bool = True
) -> rx.Component:
    """A table in a scrolling region; on a phone its rows are cards unless `cards` is False (a long,
    dense table stays a table there, scrolled sideways)."""
    return rx.el.div(
        rx.el.table(
            rx.el.caption(caption, class_name="visually-hidden"),
            rx.el.thead(rx.el.tr(*(rx.el.th(h, scope="col") for h in headings))),
            rx.el.tbody(rx.foreach(rows, row)),
            id=element_id,
            class_name="admin-table cards" if cards else "admin-table",
        ),
        class_name="table-scroll",
        tab_index=0,
        role="region",
        aria_label=caption,
    )


def flagged_groups() -> rx.Component:
    """The flagged groups, with lift and extend (`#flagged-groups`)."""
    headings = [t("Group"), t("Refused"), t("Operator's flag"), t("Actions")]

    def row(group: ObjectVar[dict[str, str]]) -> rx.Component:
        flag = rx.cond(
            group["action"] == "lift",
            t("lifted until {until}", until=group["until"]),
            rx.cond(group["action"] == "block", t("blocked until {until}", until=group["until"]), NONE),
        )
        return rx.el.tr(
            _cell(headings[0], rx.el.code(group["id"])),
            _cell(headings[1], group["refused"]),
            _cell(headings[2], flag),
            _cell(
                headings[3],
                rx.el.div(
                    rx.el.button(
                        t("Lift 24 h"),
                        type="button",
                        id="lift-" + group["id"].to(str),
                        class_name="lift",
                        on_click=AdminState.lift(group["id"]),
                    ),
                    rx.el.button(
                        t("Block 24 h"),
                        type="button",
                        id="extend-" + group["id"].to(str),
                        class_name="extend",
                        on_click=AdminState.extend(group["id"]),
                    ),
                    rx.cond(
                        group["action"] != "",
                        rx.el.button(
                            t("Clear"),
                            type="button",
                            class_name="link",
                            on_click=AdminState.clear_flag(group["id"]),
                        ),
                    ),
                    class_name="row wrap",
                ),
            ),
        )

    return _section(
        t("Flagged groups"),
        t(
            "Lift exempts a group (and the narrower ones in it) from the watch; "
            "block refuses every send to it."
        ),
        rx.cond(
            AdminState.groups.length() > 0,  # type: ignore[attr-defined]
            _table("flagged-groups", t("Flagged groups"), headings, AdminState.groups, row),
            rx.el.p(
                t("No group was flagged in this range."), class_name="muted empty", id="no-flagged-groups"
            ),
        ),
    )


def locked_users() -> rx.Component:
    """The accounts whose SMS factor is locked, with unlock (`#locked-users`)."""
    headings = [t("Account"), t("Failures"), t("Locked until"), t("Actions")]

    def row(user: ObjectVar[dict[str, str]]) -> rx.Component:
        return rx.el.tr(
            _cell(headings[0], user["username"]),
            _cell(headings[1], user["failures"]),
            _cell(headings[2], rx.cond(user["until"] != "", user["until"], t("a backup code"))),
            _cell(
                headings[3],
                rx.el.button(
                    t("Unlock"),
                    type="button",
                    id="unlock-" + user["id"].to(str),
                    class_name="unlock",
                    on_click=AdminState.unlock(user["id"]),
                ),
            ),
        )

    return _section(
        t("Locked accounts"),
        t("Accounts locked by wrong codes. Unlock one once you know its owner is the one trying."),
        rx.cond(
            AdminState.locked.length() > 0,  # type: ignore[attr-defined]
            _table("locked-users", t("Locked accounts"), headings, AdminState.locked, row),
            rx.el.p(t("No account is locked."), class_name="muted empty", id="no-locked-users"),
        ),
    )


def _filter(label: Label, element_id: str, name: str, value: Any, **props: Any) -> rx.Component:
    return rx.el.div(
        rx.el.label(label, html_for=element_id),
        rx.el.input(id=element_id, name=name, default_value=value, **props),
        class_name="stack tight",
    )


def audit_events() -> rx.Component:
    """The newest events of the range, filtered (`#audit-events`)."""
    headings = [t("Time"), t("Type"), t("Number"), t("Country"), t("Outcome"), t("Cost"), t("Detail")]
    kinds = rx.el.div(
        rx.el.label(t("Type"), html_for="filter-kind"),
        rx.el.select(
            rx.el.option(t("Any"), value=""),
            *(rx.el.option(str(kind), value=str(kind)) for kind in AuditKind),
            id="filter-kind",
            name="kind",
            default_value=AdminState.filter_kind,
        ),
        class_name="stack tight",
    )
    filters = rx.el.form(
        kinds,
        _filter(
            t("Country"),
            "filter-country",
            "country",
            AdminState.filter_country,
            max_length=2,
            placeholder="US",
            size=4,
        ),
        _filter(t("Outcome"), "filter-outcome", "outcome", AdminState.filter_outcome, max_length=32),
        _filter(
            t("Number"),
            "filter-phone",
            "phone",
            AdminState.filter_phone,
            max_length=24,
            placeholder="2671",
            input_mode="tel",
        ),
        submit_button(t("Filter"), t("Loading…"), AdminState.loading, id="filter-apply"),
        on_submit=AdminState.filter_events,
        id="event-filters",
        class_name="row wrap filters",
    )

    def row(event: ObjectVar[dict[str, str]]) -> rx.Component:
        return rx.el.tr(
            _cell(headings[0], rx.el.time(event["at"])),
            _cell(headings[1], rx.el.code(event["kind"])),
            _cell(headings[2], rx.el.span(event["phone"], dir="ltr"), class_name="masked-cell"),
            _cell(headings[3], event["country"]),
            _cell(headings[4], event["outcome"]),
            _cell(headings[5], event["cost"]),
            _cell(headings[6], event["detail"]),
        )

    return _section(
        t("Audit events"),
        t("The newest 50 events of the range that match the filters; numbers are masked."),
        filters,
        rx.cond(
            AdminState.events.length() > 0,  # type: ignore[attr-defined]
            _table("audit-events", t("Audit events"), headings, AdminState.events, row, cards=False),
            rx.el.p(t("No event matches."), class_name="muted empty", id="no-audit-events"),
        ),
    )


def _section(title: Label, note: Label, *children: rx.Component) -> rx.Component:
    return rx.el.section(
        rx.el.h2(title, class_name="section-title"),
        rx.el.p(note, class_name="muted"),
        *children,
        class_name="stack section admin-section",
    )


def admin_view() -> rx.Component:
    """The whole dashboard, for a session checked to be an admin's."""
    return rx.el.div(
        range_form(),
        message_line(AdminState.message),
        error_line(AdminState.error),
        totals(),
        rx.el.div(
            over_time(),
            spend(),
            conversion_by_country(),
            conversion_by_group(),
            refusals(),
            delivery(),
            verify_times(),
            class_name="admin-charts",
        ),
        flagged_groups(),
        locked_users(),
        audit_events(),
        id="admin-dashboard",
        class_name="stack admin",
    )
