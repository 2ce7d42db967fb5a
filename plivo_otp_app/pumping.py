"""The SMS-pumping and cost policy: whether a send may go, decided once, before the provider is paid.

Three rules, all on by default, each configurable in `PumpingSettings` (`PUMPING_*`):

- **country policy**: the high-risk destinations get no code unless the operator allows them;
- **conversion watch**: per number range (E.164 without its last 4 digits), block (without
  its last 6) and country, the sends and the verified sends of a sliding window. A group
  with at least N unverified sends whose verified share is below the threshold gets no new
  codes until the window forgets them. Codes already sent can still be checked (a check
  never asks here). Codes to an account's own verified phone are counted but never refused
  by the watch: strangers pumping the owner's range must not stop the owner's login;
- **spend budget**: each send's estimated price (per country, else a default) held against
  hourly and daily caps (UTC clock hours and days), over all countries and per country.

`admit` makes the decision and its counting one transaction. The watch's rows of the send's
groups are written first, so concurrent sends to one group wait for each other and each
reads the counts of those before it (row locks on PostgreSQL; SQLite has one writer). Each
budget is a conditional upsert (`spent + price <= cap`) whose returned row decides, so
parallel sends overshoot no cap, however many workers share the database. A refusal rolls
all of it back and is then counted by reason (and by group, for the watch), audited and logged:
a `send_blocked` event each, a `budget_tripped` once per budget and hour or day, a `group_flagged`
once per group and window.

A decision is an `Action` with its reason. Before refusing, the policy challenges
(`Action.CHALLENGE`: a proof of work, `challenge/`) when the risk is high but not yet
certain: a watched group past its threshold (refused only at `PUMPING_REFUSE_FACTOR` times
it), an address that asked for many first codes in the window (`PUMPING_ADDRESS_SENDS`), an
address new to the window while the whole deployment is in a burst (`PUMPING_BURST_SENDS`
first codes nobody entered), and a number whose prefix always needs it (`PUMPING_CHALLENGE_PREFIXES`).
A send whose client presented a solved challenge (`solved`) goes on; one without is rolled
back like a refusal and counted by reason in scope "challenged". Codes to an account's own
verified phone are never challenged (the password came first).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import phonenumbers
from sqlalchemy import Connection, and_, bindparam, case, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from . import log
from .audit import Audit, AuditKind
from .config import AuditSettings, PumpingSettings
from .db import autocommit, transaction
from .errors import ChallengeRequired, SendRefused
from .models import GroupFlag, SendTally
from .phone import Phone, mask

#: Money is counted in millionths of the price table's currency, so sums and caps are exact.
MICROS = 1_000_000
#: The watch's window is summed from this many buckets (the newest one still filling).
BUCKETS_PER_WINDOW = 12
#: The watched groups of a number, narrowest first: the reason names the first that trips.
WIDTHS = ("range", "block", "country")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_t = SendTally.__table__  # type: ignore[attr-defined]
_c = _t.c
_VALUES = {
    "scope": bindparam("scope"),
    "key": bindparam("key"),
    "bucket": bindparam("bucket"),
    "sends": bindparam("sends"),
    "verified": bindparam("verified"),
    "spent": bindparam("spent"),
}


def _add(insert: Callable[[Any], Any]) -> Any:
    """Add to a row's counts, creating it at those counts."""
    statement = insert(_t).values(_VALUES)
    return statement.on_conflict_do_update(
        index_elements=[_c.scope, _c.key, _c.bucket],
        set_={
            "sends": _c.sends + statement.excluded.sends,
            "verified": _c.verified + statement.excluded.verified,
            "spent": _c.spent + statement.excluded.spent,
        },
    )


def _spend(insert: Callable[[Any], Any]) -> Any:
    """Add a price to each budget row of a send only while the row stays within its cap: the
    rows returned are the budgets it went into (a row created at the price is within its cap,
    which `_budget` checks first). One statement for all of a send's budgets."""
    statement = insert(_t).values(_VALUES)
    cap = case(
        (and_(_c.scope == "spend-hour", _c.key == "*"), bindparam("cap_hour")),
        (_c.scope == "spend-hour", bindparam("cap_country_hour")),
        (_c.key == "*", bindparam("cap_day")),
        else_=bindparam("cap_country_day"),
    )
    return statement.on_conflict_do_update(
        index_elements=[_c.scope, _c.key, _c.bucket],
        set_={"spent": _c.spent + statement.excluded.spent},
        where=_c.spent + statement.excluded.spent <= cap,
    ).returning(_c.scope, _c.key)


_ADD = {"postgresql": _add(postgresql.insert), "sqlite": _add(sqlite.insert)}
#: Adds one row and returns its count: 1 when this refusal is the first of its rule's bucket.
_FIRST = {name: statement.returning(_c.sends) for name, statement in _ADD.items()}
_SPEND = {"postgresql": _spend(postgresql.insert), "sqlite": _spend(sqlite.insert)}
_WINDOW = (
    select(_c.scope, func.sum(_c.sends).label("sends"), func.sum(_c.verified).label("verified"))
    .where(
        or_(
            *(
                and_(_c.scope == scope, _c.key == bindparam(f"k_{scope}"))
                for scope in (*WIDTHS, "address", "all")
            )
        ),
        _c.bucket >= bindparam("since"),
    )
    .group_by(_c.scope)
)
_flags = GroupFlag.__table__  # type: ignore[attr-defined]
#: An operator's live decisions (`/admin`) about a send's groups: "lift" (no watch) or "block".
_FLAGS = select(_flags.c.scope, _flags.c.action).where(
    or_(*(and_(_flags.c.scope == width, _flags.c.key == bindparam(f"k_{width}")) for width in WIDTHS)),
    _flags.c.until > bindparam("now"),
)
_COUNTS = (
    select(_c.key, func.sum(_c.sends).label("sends"))
    .where(_c.scope == bindparam("scope"), _c.bucket >= bindparam("since"))
    .group_by(_c.key)
)


#: Each budget's reason and the parameter of its cap in `_SPEND`.
_CAPS = {
    "budget-country-hour": "cap_country_hour",
    "budget-country-day": "cap_country_day",
    "budget-hour": "cap_hour",
    "budget-day": "cap_day",
}


class Action(enum.StrEnum):
    """What the policy decides for one send."""

    SEND = "send"
    #: Send only to a client that solved a challenge.
    CHALLENGE = "challenge"
    REFUSE = "refuse"


@dataclass(frozen=True)
class Decision:
    """An action and the rule behind it (empty for a send)."""

    action: Action
    reason: str = ""


SEND = Decision(Action.SEND)


@dataclass(frozen=True)
class Sender:
    """Who asked for a send, as the audit trail records a refusal."""

    channel: str = ""
    address: str = ""
    user_id: int | None = None


@dataclass(frozen=True)
class Admission:
    """What one admitted send was counted as: given back whole when nothing was sent."""

    region: str
    #: The watch's groups the send counted in (none for a resend: the watch counts flows).
    groups: tuple[tuple[str, str], ...]
    bucket: datetime
    cost: int
    hour: datetime
    day: datetime


def groups(e164: str, region: str) -> tuple[tuple[str, str], ...]:
    """The watched groups of a number: its range, block and country."""
    return (("range", e164[:-4]), ("block", e164[:-6]), ("country", region))


def _group_name(phone: Phone, width: str) -> str:
    """A watched group as counted and shown: `block:+14155`."""
    return f"{width}:{dict(groups(phone.e164, phone.region))[width]}"


def _risk_groups(address: str) -> tuple[tuple[str, str], ...]:
    """The challenge's counted groups of a first code: its address, and all first codes."""
    return (("address", address[:64]), ("all", "*")) if address else (("all", "*"),)


class Pumping:
    """The pumping and cost policy of one deployment, counting in its database."""

    def __init__(
        self, settings: PumpingSettings, db_url: str | None = None, audit: Audit | None = None
    ) -> None:
        self.settings = settings
        self._db_url = db_url
        #: The audit trail of refusals, trips and flags (the verification service passes its own).
        self._audit = audit or Audit(AuditSettings(), db_url)
        self._bucket_seconds = settings.window_minutes * 60 // BUCKETS_PER_WINDOW
        self._thresholds = {
            "range": settings.range_unverified,
            "block": settings.block_unverified,
            "country": settings.country_unverified,
        }
        #: With every count at 0 the watch is off, and counts nothing either.
        self._watching = any(self._thresholds.values())
        #: The challenge's address and burst rules count first codes by address and in all.
        self._risk_counting = bool(settings.address_sends or settings.burst_sends)

    def admit(
        self,
        phone: Phone,
        now: datetime,
        *,
        new_flow: bool,
        owner: bool,
        then: Callable[[Connection], None] | None = None,
        address: str = "",
        solved: bool = False,
        sender: Sender | None = None,
        challengeable: bool = True,
    ) -> Admission:
        """Decide and count one send to `phone`: a first code of a flow (`new_flow`) or a resend;
        `owner` for a code to an account's own verified phone. `then` is the caller's write that
        goes with an admitted send (recording it): in the same transaction, so both commit or
        neither does. `address` is the client's; `solved`: it presented a solved challenge;
        `sender` is who asked (for the audit trail of a refusal or a challenge).
        `challengeable=False` for a send no challenge can hold (a password reset: its number is
        an account's verified phone, and the reset must not tell a held send from a decoy): the
        rules that would challenge it let it pass; those that refuse still refuse.

        Raises:
            SendRefused: A rule refused it (counted and logged; nothing of it was counted).
            ChallengeRequired: A rule wants a solved challenge first (counted, logged, audited).
            SQLAlchemyError: The database failed (the caller answers 503).
        """
        region = phone.region
        if region in self.settings.high_risk_countries and region not in self.settings.allow_high_risk:
            self._refused(Decision(Action.REFUSE, "country-high-risk"), phone, now, sender)
        prefixed = not owner and phone.e164.startswith(self.settings.challenge_prefixes)
        if prefixed and not solved and challengeable:
            self._challenged(Decision(Action.CHALLENGE, "prefix"), phone, now, address, sender)
        counted = groups(phone.e164, region) if self._watching else ()
        if self._risk_counting and not owner:
            counted += _risk_groups(address)
        cost = round(self.settings.price(region) * MICROS)
        admission = Admission(
            region=region,
            groups=counted if new_flow else (),
            bucket=self._bucket(now),
            cost=cost,
            hour=now.replace(minute=0, second=0, microsecond=0),
            day=now.replace(hour=0, minute=0, second=0, microsecond=0),
        )
        if not counted and not self._budgets(admission):  # every rule that counts is off
            if then is not None:
                with self._transaction() as db:
                    then(db)
            return admission
        try:
            with self._transaction() as db:
                decision = self._decide(
                    db,
                    phone,
                    admission,
                    now,
                    owner=owner,
                    address=address,
                    solved=solved or not challengeable,
                )
                if decision.action is not Action.SEND:
                    raise _Refusal(decision)
                passed = decision.reason or ("prefix" if prefixed else "")
                if passed and challengeable:  # a challenge was needed, and solved
                    self._record_challenge(db, phone, address, sender, "solved", passed)
                if then is not None:
                    then(db)
        except _Refusal as refusal:
            if refusal.decision.action is Action.CHALLENGE:
                self._challenged(refusal.decision, phone, now, address, sender)
            self._refused(refusal.decision, phone, now, sender)
        return admission

    def hold_if_risky(self, phone: Phone, now: datetime, *, owner: bool, address: str = "") -> None:
        """Raise `ChallengeRequired` now if `admit` would want a challenge, read without locks or
        counting: the caller asks before its rate limits, so a held send uses none of them up.
        `admit` still decides (a send racing this one may tip it).

        Raises:
            ChallengeRequired: A rule wants a solved challenge first (counted, logged, audited).
        """
        if owner:
            return
        if phone.e164.startswith(self.settings.challenge_prefixes):
            self._challenged(Decision(Action.CHALLENGE, "prefix"), phone, now, address)
        if not (self._watching or self._risk_counting):
            return
        with self._autocommit() as db:
            decision = self._watch(db, phone, now, address, counted=False)
        if decision.action is Action.CHALLENGE:
            self._challenged(decision, phone, now, address)

    def give_back(self, admission: Admission) -> None:
        """Undo an admitted send that the provider did not make (best effort: logged if it fails)."""
        try:
            with self._autocommit() as db:
                add = _ADD[db.dialect.name]
                rows = [self._row(scope, key, admission.bucket, sends=-1) for scope, key in admission.groups]
                for _reason, scope, key, bucket, _limit in self._budgets(admission):
                    rows.append(self._row(scope, key, bucket, spent=-admission.cost))
                if rows:
                    db.execute(add, rows)
        except SQLAlchemyError as exc:
            log.event("give_back_failed", logging.WARNING, error=type(exc).__name__)

    def verified(self, e164: str, sent_at: datetime) -> None:
        """Count a flow's code as verified, in the bucket its send was counted in (best effort)."""
        if not (self._watching or self._risk_counting):
            return
        try:
            region = phonenumbers.region_code_for_number(phonenumbers.parse(e164)) or ""
            counted = (groups(e164, region) if self._watching else ()) + (
                (("all", "*"),) if self._risk_counting else ()
            )
            with self._autocommit() as db:
                bucket = self._bucket(sent_at)
                rows = [self._row(scope, key, bucket, verified=1) for scope, key in counted]
                db.execute(_ADD[db.dialect.name], rows)
        except (SQLAlchemyError, phonenumbers.NumberParseException) as exc:
            log.event("tally_failed", logging.WARNING, error=type(exc).__name__)

    def refusals(self, since: datetime) -> dict[str, int]:
        """Refused sends by reason since `since` (to the hour)."""
        return self._counts("refused", since)

    def flagged(self, since: datetime) -> dict[str, int]:
        """Refused sends by flagged group (`block:+14155`, ...) since `since` (to the hour)."""
        return self._counts("flagged", since)

    def challenges(self, since: datetime) -> dict[str, int]:
        """Sends held for a challenge by reason since `since` (to the hour)."""
        return self._counts("challenged", since)

    def _decide(
        self,
        db: Connection,
        phone: Phone,
        admission: Admission,
        now: datetime,
        *,
        owner: bool,
        address: str,
        solved: bool,
    ) -> Decision:
        dialect = db.dialect.name
        if admission.groups:
            rows = [self._row(scope, key, admission.bucket, sends=1) for scope, key in admission.groups]
            db.execute(_ADD[dialect], rows)
        passed = ""
        if not owner and (self._watching or self._risk_counting):
            decision = self._watch(db, phone, now, address, counted=bool(admission.groups))
            if decision.action is Action.REFUSE or (decision.action is Action.CHALLENGE and not solved):
                return decision
            passed = decision.reason
        budget = self._budget(db, admission)
        # A send that needed a solved challenge says which rule wanted it.
        return Decision(Action.SEND, passed) if budget.action is Action.SEND else budget

    def _watch(self, db: Connection, phone: Phone, now: datetime, address: str, *, counted: bool) -> Decision:
        """Refuse a send to a group with too many unverified sends and too low a conversion, and
        challenge it first; challenge a busy address, and a new one during a burst. A group an
        operator blocked is refused; one an operator lifted, and the narrower groups inside it,
        are not watched until then (the address rules still are)."""
        group_keys = {f"k_{scope}": key for scope, key in groups(phone.e164, phone.region)}
        flags = {row.scope: row.action for row in db.execute(_FLAGS, {**group_keys, "now": now})}
        if "block" in flags.values():
            return Decision(Action.REFUSE, "operator-block")
        keys = {**group_keys, **{f"k_{scope}": key for scope, key in _risk_groups(address)}}
        keys.setdefault("k_address", "")
        since = self._bucket(now) - timedelta(seconds=self._bucket_seconds * (BUCKETS_PER_WINDOW - 1))
        found = db.execute(_WINDOW, {**keys, "since": since})
        totals = {row.scope: (row.sends, row.verified) for row in found}
        challenge = SEND
        lifted = [i for i, width in enumerate(WIDTHS) if flags.get(width) == "lift"]
        for width in WIDTHS[max(lifted) + 1 :] if lifted else WIDTHS:
            threshold = self._thresholds[width]
            sends, verified = totals.get(width, (0, 0))
            before = int(sends or 0) - (1 if counted else 0)  # the sends before this one
            verified = int(verified or 0)
            if not threshold or verified >= self.settings.min_conversion * before:
                continue
            if before - verified >= threshold * self.settings.refuse_factor:
                return Decision(Action.REFUSE, f"watch-{width}")
            if before - verified >= threshold and challenge is SEND:
                challenge = Decision(Action.CHALLENGE, f"watch-{width}")
        if challenge is not SEND:
            return challenge
        return self._risk(totals, address, counted=counted)

    def _risk(self, totals: dict[str, tuple[int, int]], address: str, *, counted: bool) -> Decision:
        """Challenge an address that asked for many first codes, or a new one during a burst
        (many first codes nobody entered, over all numbers)."""
        if not address:
            return SEND
        mine = int(totals.get("address", (0, 0))[0] or 0) - (1 if counted else 0)
        sends, verified = totals.get("all", (0, 0))
        unverified = int(sends or 0) - (1 if counted else 0) - int(verified or 0)
        if self.settings.address_sends and mine >= self.settings.address_sends:
            return Decision(Action.CHALLENGE, "address")
        if self.settings.burst_sends and unverified >= self.settings.burst_sends and mine == 0:
            return Decision(Action.CHALLENGE, "burst")
        return SEND

    def _budget(self, db: Connection, admission: Admission) -> Decision:
        """Spend the send's price in every budget in one statement, or refuse naming the first
        budget it would overrun (the caller's rollback then takes back what went in)."""
        budgets = self._budgets(admission)
        for reason, _scope, _key, _bucket, limit in budgets:
            if admission.cost > limit:
                return Decision(Action.REFUSE, reason)
        if not budgets:
            return SEND
        caps = dict.fromkeys(_CAPS.values(), 0) | {_CAPS[reason]: limit for reason, *_, limit in budgets}
        rows = [
            {**self._row(scope, key, bucket, spent=admission.cost), **caps}
            for _, scope, key, bucket, _ in budgets
        ]
        went = {(row.scope, row.key) for row in db.execute(_SPEND[db.dialect.name], rows)}
        for reason, scope, key, _bucket, _limit in budgets:
            if (scope, key) not in went:
                return Decision(Action.REFUSE, reason)
        return SEND

    def _budgets(self, admission: Admission) -> list[tuple[str, str, str, datetime, int]]:
        """The caps a send spends in, as (reason, scope, key, bucket, cap in micros); a cap of 0 is off.

        A country's before the global ones, so every lock a send takes comes in the same order.
        """
        country_hourly, country_daily = self.settings.country_caps(admission.region)
        budgets = (
            ("budget-country-hour", "spend-hour", admission.region, admission.hour, country_hourly),
            ("budget-country-day", "spend-day", admission.region, admission.day, country_daily),
            ("budget-hour", "spend-hour", "*", admission.hour, self.settings.hourly_budget),
            ("budget-day", "spend-day", "*", admission.day, self.settings.daily_budget),
        )
        return [(r, scope, key, bucket, round(cap * MICROS)) for r, scope, key, bucket, cap in budgets if cap]

    def _record_challenge(
        self,
        db: Connection,
        phone: Phone,
        address: str,
        sender: Sender | None,
        outcome: str,
        detail: str = "",
    ) -> None:
        """A `send_challenged` event: held (`outcome` the rule) or passed with an answer ("solved")."""
        self._audit.record(
            db,
            AuditKind.SEND_CHALLENGED,
            phone=phone.e164,
            user_id=sender.user_id if sender else None,
            channel=sender.channel if sender else "",
            address=address,
            outcome=outcome,
            detail=detail,
        )

    def _challenged(
        self, decision: Decision, phone: Phone, now: datetime, address: str, sender: Sender | None = None
    ) -> None:
        """Count, log and audit a send held for a challenge, then raise it. A watched group held
        is flagged like a refused one (counted by group; `group_flagged` once per window)."""
        hour = now.replace(minute=0, second=0, microsecond=0)
        width = decision.reason.removeprefix("watch-")
        rows = [self._row("challenged", decision.reason, hour, sends=1)]
        group = ""
        if width in WIDTHS:
            group = _group_name(phone, width)
            rows.append(self._row("flagged", group, hour, sends=1))
        try:
            with self._transaction() as db:
                db.execute(_ADD[db.dialect.name], rows)
                self._record_challenge(db, phone, address, sender, decision.reason)
                if group:
                    count = db.execute(
                        _FIRST[db.dialect.name], self._row("tripped", group, self._window(now), sends=1)
                    )
                    if count.scalar_one() == 1:
                        self._audit.record(
                            db,
                            AuditKind.GROUP_FLAGGED,
                            phone=phone.e164,
                            outcome=decision.reason,
                            detail=group,
                        )
        except SQLAlchemyError as exc:
            log.event("tally_failed", logging.WARNING, error=type(exc).__name__)
        log.event("send_challenged", reason=decision.reason, phone=mask(phone.e164), country=phone.region)
        raise ChallengeRequired(decision.reason)

    def _refused(self, decision: Decision, phone: Phone, now: datetime, sender: Sender | None) -> None:
        """Count, audit and log a refusal, then raise it.

        One transaction counts it and writes its `send_blocked` event; the first refusal of a
        budget in its hour or day, or of a group in its window, also writes `budget_tripped` or
        `group_flagged` (a "tripped" count whose upsert returns 1 decides, so once under
        concurrency too).
        """
        hour = now.replace(minute=0, second=0, microsecond=0)
        width = decision.reason.removeprefix("watch-")
        rows = [self._row("refused", decision.reason, hour, sends=1)]
        first: tuple[AuditKind, str, datetime] | None = None
        if width in WIDTHS:
            group = _group_name(phone, width)
            rows.append(self._row("flagged", group, hour, sends=1))
            first = (AuditKind.GROUP_FLAGGED, group, self._window(now))
        elif decision.reason in _CAPS:
            country = "-country-" in decision.reason
            key = f"{decision.reason}:{phone.region}" if country else decision.reason
            bucket = hour if decision.reason.endswith("-hour") else hour.replace(hour=0)
            first = (AuditKind.BUDGET_TRIPPED, key, bucket)
        who = sender or Sender()
        try:
            with self._transaction() as db:
                db.execute(_ADD[db.dialect.name], rows)
                self._audit.record(
                    db,
                    AuditKind.SEND_BLOCKED,
                    phone=phone.e164,
                    user_id=who.user_id,
                    channel=who.channel,
                    address=who.address,
                    outcome=decision.reason,
                )
                if first is not None:
                    kind, key, bucket = first
                    count = db.execute(_FIRST[db.dialect.name], self._row("tripped", key, bucket, sends=1))
                    if count.scalar_one() == 1:
                        self._audit.record(db, kind, phone=phone.e164, outcome=decision.reason, detail=key)
        except SQLAlchemyError as exc:
            log.event("tally_failed", logging.WARNING, error=type(exc).__name__)
        # The range would complete the masked number; the log names the block and country only.
        log.event(
            "send_refused",
            logging.WARNING,
            reason=decision.reason,
            phone=mask(phone.e164),
            country=phone.region,
            block=phone.e164[:-6] if width == "block" else None,
        )
        raise SendRefused(decision.reason)

    def _counts(self, scope: str, since: datetime) -> dict[str, int]:
        hour = since.replace(minute=0, second=0, microsecond=0)
        with self._autocommit() as db:
            return {row.key: int(row.sends) for row in db.execute(_COUNTS, {"scope": scope, "since": hour})}

    def _window(self, moment: datetime) -> datetime:
        """The start of the whole window `moment` falls in (a group is flagged once per window)."""
        seconds = int((moment - _EPOCH).total_seconds())
        return _EPOCH + timedelta(seconds=seconds - seconds % (self.settings.window_minutes * 60))

    def _bucket(self, moment: datetime) -> datetime:
        """The start of the watch bucket `moment` falls in."""
        seconds = int((moment - _EPOCH).total_seconds())
        return _EPOCH + timedelta(seconds=seconds - seconds % self._bucket_seconds)

    @staticmethod
    def _row(
        scope: str, key: str, bucket: datetime, sends: int = 0, verified: int = 0, spent: int = 0
    ) -> dict:
        return {
            "scope": scope,
            "key": key,
            "bucket": bucket,
            "sends": sends,
            "verified": verified,
            "spent": spent,
        }

    def _transaction(self) -> AbstractContextManager[Connection]:
        return transaction(self._db_url)

    def _autocommit(self) -> AbstractContextManager[Connection]:
        return autocommit(self._db_url)


class _Refusal(Exception):
    """Rolls the admission's transaction back, carrying the decision out of it."""

    def __init__(self, decision: Decision) -> None:
        super().__init__(decision.reason)
        self.decision = decision
