"""The pumping and cost policy on its own, on a real (migrated) SQLite database, from the real defaults.

Each test drives `Pumping.admit` as the send path does and moves time by hand: the watch's
sliding window, clock hours and days for the budgets. The watch's tests refuse at the
threshold (`refuse_factor=1`); the challenge's tests below use the default two-stage watch.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import phonenumbers
import pytest

from plivo_otp_app import messages
from plivo_otp_app.audit import Audit
from plivo_otp_app.config import AuditSettings, ConfigError, PumpingSettings, Settings, load_settings
from plivo_otp_app.db import engine_for
from plivo_otp_app.errors import ChallengeRequired, SendRefused
from plivo_otp_app.phone import Phone, normalise
from plivo_otp_app.pumping import Admission, Pumping

#: Mid-hour, so a test's few minutes stay inside one clock hour and one watch bucket.
T0 = datetime(2026, 12, 1, 10, 12, 30, tzinfo=UTC)
ATTACK_BLOCK = "+14155"


def us(number: str) -> Phone:
    return normalise(number, "US")


def in_range(range_index: int, number: int) -> Phone:
    """A number of the attack block: range +14155RR, subscriber number."""
    return us(f"+14155{range_index:02d}{number:04d}")


def other_blocks(count: int) -> list[Phone]:
    """`count` valid US mobile numbers, each in a block of its own (none the attack block's)."""
    found: list[Phone] = []
    for area in range(205, 990):
        for exchange in range(2, 10):
            number = phonenumbers.parse(f"+1{area}{exchange}550123")
            if phonenumbers.is_valid_number(number) and f"+1{area}{exchange}" != ATTACK_BLOCK:
                found.append(us(f"+1{area}{exchange}550123"))
                if len(found) == count:
                    return found
    raise AssertionError("not enough blocks")


def policy(db_url: str, **changes: object) -> Pumping:
    return Pumping(dataclasses.replace(PumpingSettings(), **{"refuse_factor": 1.0, **changes}), db_url)


def admit(pumping: Pumping, phone: Phone, now: datetime = T0, **kw: object) -> Admission:
    return pumping.admit(
        phone,
        now,
        new_flow=bool(kw.get("new_flow", True)),
        owner=bool(kw.get("owner", False)),
        address=str(kw.get("address", "")),
        solved=bool(kw.get("solved", False)),
    )


def refused(pumping: Pumping, phone: Phone, now: datetime = T0, **kw: object) -> str:
    with pytest.raises(SendRefused) as caught:
        admit(pumping, phone, now, **kw)
    return caught.value.reason


def challenged(pumping: Pumping, phone: Phone, now: datetime = T0, **kw: object) -> str:
    with pytest.raises(ChallengeRequired) as caught:
        admit(pumping, phone, now, **kw)
    return caught.value.reason


def test_the_defaults_are_on():
    defaults = Settings().pumping
    assert defaults == load_settings({}).pumping
    assert (defaults.range_unverified, defaults.block_unverified, defaults.country_unverified) == (5, 10, 50)
    assert defaults.min_conversion == 0.2
    assert defaults.window_minutes == 60
    assert defaults.price("US") == defaults.default_price == 0.05
    assert (defaults.hourly_budget, defaults.daily_budget) == (25.0, 150.0)
    assert defaults.country_caps("US") == (5.0, 25.0)
    assert {"AZ", "TJ", "NG", "PK", "BD"} <= defaults.high_risk_countries
    assert not defaults.allow_high_risk
    assert (defaults.refuse_factor, defaults.address_sends, defaults.burst_sends) == (2.0, 3, 100)
    assert defaults.challenge_prefixes == ("+881", "+882", "+883")


def test_a_range_of_unverified_sends_gets_no_more_codes_and_other_ranges_do(db_url: str):
    pumping = policy(db_url)
    for number in range(5):
        admit(pumping, in_range(0, number))
    assert refused(pumping, in_range(0, 5)) == "watch-range"
    admit(pumping, in_range(1, 0))  # the next range of the same block
    admit(pumping, other_blocks(1)[0])  # and elsewhere in the country


def test_verified_sends_keep_a_group_open(db_url: str):
    pumping = policy(db_url)
    for number in range(30):
        phone = in_range(0, number)
        admit(pumping, phone)
        if number % 4 == 0:  # 8 of 30 verified: 27 %, above the 20 % threshold
            pumping.verified(phone.e164, T0)
    admit(pumping, in_range(0, 99))


def test_a_group_below_the_threshold_share_is_refused_even_with_some_verified(db_url: str):
    pumping = policy(db_url)
    for number in range(10):
        phone = in_range(0, number)
        admit(pumping, phone)
        if number < 2:
            pumping.verified(phone.e164, T0)
    admit(pumping, in_range(0, 50))  # 2 of 10 verified: 20 %, not below
    assert refused(pumping, in_range(0, 51)) == "watch-range"  # 2 of 11: 18 %


def test_sends_spread_over_the_ranges_of_one_block_trip_the_block(db_url: str):
    pumping = policy(db_url)
    for range_index in range(10):
        admit(pumping, in_range(range_index, 1))
    assert refused(pumping, in_range(10, 1)) == "watch-block"
    admit(pumping, us("+14156001234"))  # the next block


def test_sends_spread_over_blocks_trip_the_country_at_its_own_count(db_url: str):
    pumping = policy(db_url, block_unverified=0, range_unverified=0)
    *fifty, last = other_blocks(51)
    for phone in fifty:
        admit(pumping, phone)
    assert refused(pumping, last) == "watch-country"
    admit(pumping, normalise("+447400123456", "GB"))  # another country


def test_the_window_forgets_old_sends(db_url: str):
    pumping = policy(db_url)
    for number in range(5):
        admit(pumping, in_range(0, number))
    assert refused(pumping, in_range(0, 10), T0 + timedelta(minutes=50)) == "watch-range"
    admit(pumping, in_range(0, 10), T0 + timedelta(minutes=61))


def test_an_owner_code_is_counted_but_never_refused_by_the_watch(db_url: str):
    pumping = policy(db_url)
    for number in range(5):
        admit(pumping, in_range(0, number))
    admit(pumping, in_range(0, 20), owner=True)
    assert refused(pumping, in_range(0, 21)) == "watch-range"


def test_a_resend_in_a_flagged_group_is_refused_and_resends_count_no_flow(db_url: str):
    pumping = policy(db_url)
    phone = in_range(0, 0)
    admit(pumping, phone)
    for _ in range(20):  # resends are paid, but the watch counts flows
        admit(pumping, phone, new_flow=False)
    for number in range(1, 5):
        admit(pumping, in_range(0, number))
    assert refused(pumping, phone, new_flow=False) == "watch-range"


def test_the_hourly_budget_stops_at_its_cap_and_the_next_hour_opens(db_url: str):
    pumping = policy(db_url, default_price=1.0, hourly_budget=3.0, country_hourly_budget=0)
    *three, last = other_blocks(4)
    for phone in three:
        admit(pumping, phone)
    assert refused(pumping, last) == "budget-hour"
    admit(pumping, last, T0 + timedelta(hours=1))


def test_a_country_cap_holds_that_country_only_and_its_own_caps_win(db_url: str):
    settings = load_settings(
        {"PUMPING_PRICES": "GB=0.5", "PUMPING_COUNTRY_BUDGETS": "GB=1/1", "PUMPING_DEFAULT_PRICE": "1"}
    )
    pumping = Pumping(settings.pumping, db_url)
    gb = [normalise(f"+4474001234{n:02d}", "GB") for n in range(3)]
    admit(pumping, gb[0])
    admit(pumping, gb[1])
    assert refused(pumping, gb[2]) == "budget-country-hour"
    *five, last = other_blocks(6)
    for phone in five:  # the US has the default caps: 5 at a price of 1
        admit(pumping, phone)
    assert refused(pumping, last) == "budget-country-hour"


def test_the_daily_budget_holds_across_hours(db_url: str):
    pumping = policy(
        db_url,
        default_price=1.0,
        daily_budget=2.0,
        hourly_budget=0,
        country_hourly_budget=0,
        country_daily_budget=0,
    )
    first, second, third = other_blocks(3)
    admit(pumping, first)
    admit(pumping, second, T0 + timedelta(hours=3))
    assert refused(pumping, third, T0 + timedelta(hours=6)) == "budget-day"
    admit(pumping, third, T0 + timedelta(days=1))


def test_a_send_given_back_is_neither_counted_nor_spent(db_url: str):
    pumping = policy(db_url, default_price=1.0, hourly_budget=1.0, country_hourly_budget=0)
    given = admit(pumping, in_range(0, 0))
    pumping.give_back(given)
    admit(pumping, in_range(0, 1))  # the budget's one send is free again
    for number in range(2, 11):
        admission = admit(pumping, in_range(0, number), now=T0 + timedelta(hours=1))
        pumping.give_back(admission)
    admit(pumping, in_range(0, 11), now=T0 + timedelta(hours=1))  # and the range saw 1 + 0 flows


def test_high_risk_countries_get_no_code_unless_allowed(db_url: str):
    azerbaijan = normalise("+994501234567", "AZ")
    assert refused(policy(db_url), azerbaijan) == "country-high-risk"
    admit(policy(db_url, allow_high_risk=frozenset({"AZ"})), azerbaijan)
    assert refused(policy(db_url, allow_high_risk=frozenset({"AZ"})), normalise("+992917123456", "TJ"))


def test_refusals_are_counted_by_reason_and_flagged_group(db_url: str):
    pumping = policy(db_url, default_price=1.0, hourly_budget=7.0, country_hourly_budget=0)
    for number in range(5):
        admit(pumping, in_range(0, number))
    for number in range(10, 13):
        refused(pumping, in_range(0, number))
    first, second, third = other_blocks(3)
    admit(pumping, first)
    admit(pumping, second)
    refused(pumping, third)
    refused(pumping, normalise("+994501234567", "AZ"))
    assert pumping.refusals(T0) == {"watch-range": 3, "budget-hour": 1, "country-high-risk": 1}
    assert pumping.flagged(T0) == {"range:+1415500": 3}


def test_every_refusal_reads_the_same_and_answers_the_same():
    errors = [SendRefused(reason) for reason in ("watch-block", "budget-hour", "country-high-risk")]
    assert {(e.status, e.code, e.user_message()) for e in errors} == {
        (429, "send_refused", messages.SEND_REFUSED)
    }


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PUMPING_PRICES", "US=cheap"),
        ("PUMPING_PRICES", "XX=0.1"),
        ("PUMPING_COUNTRY_BUDGETS", "US=10"),
        ("PUMPING_HOURLY_BUDGET", "-1"),
        ("PUMPING_MIN_CONVERSION", "1.5"),
        ("PUMPING_HIGH_RISK_COUNTRIES", "AZ,QQ"),
        ("PUMPING_WINDOW_MINUTES", "5"),
        ("PUMPING_REFUSE_FACTOR", "0.5"),
        ("PUMPING_CHALLENGE_PREFIXES", "881"),
        ("PUMPING_CHALLENGE_PREFIXES", "+88x"),
    ],
)
def test_bad_settings_name_their_variable(variable: str, value: str):
    with pytest.raises(ConfigError, match=variable):
        load_settings({variable: value})


def test_rules_switched_off_refuse_nothing_and_count_nothing(db_url: str):
    off = {
        "range_unverified": 0,
        "block_unverified": 0,
        "country_unverified": 0,
        "address_sends": 0,
        "burst_sends": 0,
    }
    budgets = {"hourly_budget": 0, "daily_budget": 0, "country_hourly_budget": 0, "country_daily_budget": 0}
    pumping = policy(db_url, **off, **budgets)
    for number in range(50):
        pumping.verified(in_range(0, number).e164, T0)
        admit(pumping, in_range(0, number))
    with engine_for(db_url).connect() as db:
        assert db.exec_driver_sql("SELECT count(*) FROM otp_send_tally").scalar() == 0


def two_stage(db_url: str, **changes: object) -> Pumping:
    """The default two-stage watch (challenged from its threshold, refused from twice it), audited."""
    settings = dataclasses.replace(PumpingSettings(), **{"address_sends": 0, "burst_sends": 0, **changes})
    return Pumping(settings, db_url, Audit(AuditSettings(), db_url))


def test_a_throttled_range_is_challenged_first_and_refused_past_the_harder_limit(db_url: str):
    pumping = two_stage(db_url)
    for number in range(5):
        admit(pumping, in_range(0, number))
    assert challenged(pumping, in_range(0, 5)) == "watch-range"
    for number in range(5, 10):  # a solver gets the five sends between the limits, each solved
        admit(pumping, in_range(0, number), solved=True)
    assert refused(pumping, in_range(0, 10), solved=True) == "watch-range"
    assert challenged(pumping, in_range(1, 0)) == "watch-block"  # its block has 10 unverified now
    admit(pumping, other_blocks(1)[0])  # another block is not challenged


def test_a_challenged_send_counts_nothing_and_is_counted_by_reason(db_url: str):
    pumping = two_stage(db_url)
    for number in range(5):
        admit(pumping, in_range(0, number))
    for _ in range(20):  # unsolved challenges do not bring the refusal nearer
        challenged(pumping, in_range(0, 5))
    admit(pumping, in_range(0, 5), solved=True)
    assert pumping.challenges(T0) == {"watch-range": 20}
    assert pumping.refusals(T0) == {}


def test_many_first_codes_from_one_address_challenge_its_next(db_url: str):
    pumping = two_stage(db_url, address_sends=3)
    phones = other_blocks(6)
    for phone in phones[:3]:
        admit(pumping, phone, address="203.0.113.7")
    assert challenged(pumping, phones[3], address="203.0.113.7") == "address"
    admit(pumping, phones[3], address="203.0.113.7", solved=True)
    admit(pumping, phones[4], address="198.51.100.1")  # another address is not
    admit(pumping, phones[5], T0 + timedelta(minutes=61), address="203.0.113.7")  # the window forgot


def test_during_a_burst_only_a_new_address_is_challenged(db_url: str):
    pumping = two_stage(db_url, burst_sends=4, address_sends=0)
    phones = other_blocks(9)
    for index, phone in enumerate(phones[:6]):
        admit(pumping, phone, address=f"192.0.2.{index}")
        if index < 2:  # entered codes are no burst: 4 of the 6 are not
            pumping.verified(phone.e164, T0)
    assert challenged(pumping, phones[6], address="198.51.100.9") == "burst"
    admit(pumping, phones[7], address="192.0.2.1")  # an address already seen in the window is not
    admit(pumping, phones[8], T0 + timedelta(minutes=61), address="198.51.100.9")  # the burst is over


def test_ordinary_traffic_that_enters_its_codes_is_no_burst(db_url: str):
    pumping = two_stage(db_url, burst_sends=5, address_sends=0)
    phones = other_blocks(21)
    for index, phone in enumerate(phones[:20]):
        admit(pumping, phone, address=f"192.0.2.{index}")  # every one a new address
        if index % 5:  # 80 % entered: 4 of 20 not, one short of a burst
            pumping.verified(phone.e164, T0)
    admit(pumping, phones[20], address="198.51.100.9")


def test_a_challenge_prefix_always_needs_a_solved_challenge_but_an_owner_never_does(db_url: str):
    pumping = two_stage(db_url, challenge_prefixes=("+4474",))
    gb = normalise("+447400123456", "GB")
    assert challenged(pumping, gb) == "prefix"
    admit(pumping, gb, solved=True)
    admit(pumping, gb, owner=True)
    admit(pumping, normalise("+447911123456", "GB"))


def test_challenges_are_audited_when_asked_and_when_solved(db_url: str):
    pumping = two_stage(db_url, challenge_prefixes=("+4474",))
    gb = normalise("+447400123456", "GB")
    challenged(pumping, gb, address="203.0.113.7")
    admit(pumping, gb, address="203.0.113.7", solved=True)
    admit(pumping, normalise("+447911123456", "GB"), solved=True)  # solved, but not needed: no event
    with engine_for(db_url).connect() as db:
        rows = db.exec_driver_sql(
            "SELECT kind, outcome, detail, address, phone_masked FROM otp_audit_event ORDER BY id"
        ).all()
    assert [tuple(row) for row in rows] == [
        ("send_challenged", "prefix", "", "203.0.113.7", "+44******3456"),
        ("send_challenged", "solved", "prefix", "203.0.113.7", "+44******3456"),
    ]


def test_a_challenge_reads_the_same_for_every_reason():
    errors = [ChallengeRequired(reason) for reason in ("watch-block", "address", "burst", "prefix")]
    assert {(e.status, e.code, e.user_message()) for e in errors} == {
        (428, "challenge_required", messages.CHALLENGE_REQUIRED)
    }


def test_the_unlocked_check_before_the_rate_limits_holds_what_admit_would_challenge(db_url: str):
    pumping = two_stage(db_url, address_sends=3)
    for number in range(5):
        pumping.hold_if_risky(in_range(0, number), T0, owner=False, address=f"192.0.2.{number}")
        admit(pumping, in_range(0, number), address=f"192.0.2.{number}")
    with pytest.raises(ChallengeRequired):
        pumping.hold_if_risky(in_range(0, 5), T0, owner=False, address="192.0.2.9")
    pumping.hold_if_risky(in_range(0, 5), T0, owner=True)  # never an owner's code
    pumping.hold_if_risky(in_range(1, 0), T0, owner=False, address="192.0.2.9")  # another range
    assert pumping.challenges(T0) == {"watch-range": 1}
    admit(pumping, in_range(1, 0), address="192.0.2.9")  # nothing of the held one was counted
