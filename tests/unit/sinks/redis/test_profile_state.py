"""The profile a worker computes (pure logic): order does not matter, the stored string loses nothing."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.inputs import InputEvent, TransactionKind
from schemas.profile.behaviour import BEHAVIOUR_FIELD, FACTS_KEPT
from schemas.profile.delta import MAX_ACCOUNTS, ProfileUpdate, build_update
from schemas.profile.shape import Metric
from sinks.redis.profile_state import ProfileState, decode
from tests.support.profile_events import login, tx

KINDS = (TransactionKind.CARD_PAYMENT, TransactionKind.SALARY_CREDIT, TransactionKind.TRANSFER_OUT)


def event(n: int, day: float, kind: int) -> InputEvent:
    if kind == len(KINDS):
        return login(n, day)
    return tx(n, day, KINDS[kind], f"{n % 7 + 1}0.50", bank="OTHERBANK", balance=f"{1000 - n}.00")


def where(made: InputEvent, n: int) -> InputEvent:
    """``made`` from one of 11 devices and 10 countries (more than a behaviour table keeps), to one
    of 12 payees, sometimes at coordinates and sometimes a failed login."""
    extra: dict[str, object] = {"device_id": f"dev-{n % 11}", "ip_country": ("DE", "FR", "ES", "IT",
        "PL", "NL", "AT", "BE", "PT", "SE")[n % 10]}  # fmt: skip
    if n % 3 == 0:
        extra |= {"latitude": 48.0 + n % 5, "longitude": 11.0 - n % 4}
    if made.type == "transaction":
        extra["payee_id"] = f"payee-{n % 12}"
    else:
        extra["auth_outcome"] = "failed" if n % 2 else "success"
    return made.model_copy(update=extra)


def applied(updates: list[ProfileUpdate]) -> ProfileState:
    state = ProfileState()
    for update in updates:
        state.apply(update, 90, 48, {})
    return state


def comparable(state: ProfileState, runs: bool = True, behaviour: bool = True) -> tuple[object, ...]:
    """What must not depend on the order; ``runs=False`` leaves out runs of days paying a bank
    ("ob:<bank>"): a payment more than the gap before a run's start is ignored when it comes late,
    counted when it came first (as the Lua script this replaced did). ``behaviour=False`` leaves out
    the behaviour of the risk rules ("bv"), which is about the order by its nature: which device
    came first and is "new", which one was least recently used and forgotten, the running mean an
    amount is compared with, the facts of the last events (docs/rules.md, "Behaviour")."""
    fields = {
        k: v
        for k, v in state.fields.items()
        if (runs or not k.startswith("ob:")) and (behaviour or k != BEHAVIOUR_FIELD)
    }
    return fields, state.days, state.weeks, state.sums, state.active


#: (minute, kind): distinct minutes over 88 days, within the 90-day retention (an event older than
#: the retention when it arrives is dropped, one that came in time was counted; and events at the
#: same instant keep the later-applied balance: ties only an order can break)
histories = st.lists(
    st.tuples(st.integers(0, 88 * 1440).map(lambda minute: minute / 1440), st.integers(0, len(KINDS))),
    min_size=1,
    max_size=30,
    unique_by=lambda item: item[0],
)


@settings(max_examples=150, deadline=None)
@given(history=histories, data=st.data())
def test_the_profile_does_not_depend_on_the_order_events_arrive_in(
    history: list[tuple[float, int]], data: st.DataObject
) -> None:
    """Days merged into weeks, late events weeks behind, activity days: all the same in any order
    (a topic consumed far behind another delivers a customer's events out of order)."""
    updates = [build_update(event(n, day, kind), "SIGNALBANK") for n, (day, kind) in enumerate(history)]
    shuffled = data.draw(st.permutations(updates))
    in_order, reordered = applied(updates), applied(shuffled)
    assert BEHAVIOUR_FIELD in in_order.fields  # so leaving it out below leaves something out
    assert comparable(reordered, runs=False, behaviour=False) == comparable(
        in_order, runs=False, behaviour=False
    )


@settings(max_examples=100, deadline=None)
@given(history=histories)
def test_the_stored_string_gives_back_the_same_profile(history: list[tuple[float, int]]) -> None:
    updates = [
        build_update(where(event(n, day, kind), n), "SIGNALBANK", f"0:1:{n}")
        for n, (day, kind) in enumerate(history)
    ]
    state = applied(updates)
    version, back = decode(state.encode(7))
    assert version == 7
    assert comparable(back) == comparable(state)  # the behaviour too, byte for byte
    assert (back.kept, back.pending) == (state.kept, state.pending)


@settings(max_examples=60, deadline=None)
@given(history=histories)
def test_a_repeat_reads_the_facts_its_event_had_also_from_the_stored_string(
    history: list[tuple[float, int]],
) -> None:
    """A redelivery after a crash between the profile write and the claims must re-emit the same
    risk signal, so it reads the same facts, in memory and from Redis; older repeats read none."""
    updates = [
        build_update(where(event(n, day, kind), n), "SIGNALBANK") for n, (day, kind) in enumerate(history)
    ]
    state = ProfileState()
    facts = [state.apply(update, 90, 48, {}) for update in updates]
    assert all(not first.duplicate and first.facts is not None for first in facts)
    _, back = decode(state.encode(1))
    for index, (update, first) in enumerate(zip(updates, facts, strict=True)):
        recent = index >= len(updates) - FACTS_KEPT
        for holder in (state, back):
            again = holder.apply(update, 90, 48, {})
            assert again.duplicate
            assert again.facts == (first.facts if recent else None)
    assert back.fields == state.fields  # the repeats changed nothing


# -- balances per account -------------------------------------------------------------------------


def deposit(n: int, day: float, account: str, balance: str) -> ProfileUpdate:
    return build_update(
        tx(n, day, TransactionKind.DEPOSIT, "1.00", balance=balance, account=account), "SIGNALBANK"
    )


def accounts(state: ProfileState) -> dict[str, str]:
    """Each kept account's balance in cents, without its time stamp."""
    return {k[2:]: v.partition("|")[2] for k, v in state.fields.items() if k.startswith("a:")}


def balance_sums(state: ProfileState) -> tuple[int, int]:
    """(sum of the totals counted, reports) over the longest window."""
    return state.sums[-1][Metric.BALANCE_SUM], state.sums[-1][Metric.BALANCE_N]


def test_each_report_counts_the_total_of_every_account_at_its_moment() -> None:
    state = applied(
        [deposit(1, 0, "A1", "100.00"), deposit(2, 1, "A2", "50.00"), deposit(3, 2, "A1", "120.00")]
    )
    assert accounts(state) == {"A1": "12000", "A2": "5000"}
    # 100 (A1 alone), 100 + 50, 120 + 50
    assert balance_sums(state) == (10000 + 15000 + 17000, 3)


def test_a_late_report_of_an_account_keeps_its_newer_balance_and_counts_the_total_it_saw() -> None:
    state = applied(
        [deposit(1, 5, "A1", "100.00"), deposit(2, 5.5, "A2", "50.00"), deposit(3, 1, "A1", "10.00")]
    )
    assert accounts(state) == {"A1": "10000", "A2": "5000"}
    # the late report counts its own balance and A2's as it was when it arrived
    assert balance_sums(state) == (10000 + 15000 + 6000, 3)


def test_beyond_the_bound_the_account_updated_longest_ago_is_forgotten_in_any_order() -> None:
    updates = [deposit(n, n / 10, f"A{n}", f"{n}.00") for n in range(1, MAX_ACCOUNTS + 3)]
    state = applied(updates)
    kept = {f"A{n}": str(n * 100) for n in range(3, MAX_ACCOUNTS + 3)}  # A1 and A2: oldest
    assert accounts(state) == kept
    assert accounts(applied(updates[::-1])) == kept
    assert accounts(applied([*updates, updates[0]])) == kept  # a late report of a forgotten account


def test_a_profile_of_the_single_balance_layout_moves_to_accounts() -> None:
    state = ProfileState(fields={"balance": "1767268800000|99900"})
    state.apply(deposit(1, 3, "A2", "5.00"), 90, 48, {})
    assert "balance" not in state.fields
    assert accounts(state) == {"A2": "500"}


#: (minute, account, balance in euros) of a customer's balance reports over 88 days
balance_histories = st.lists(
    st.tuples(
        st.integers(0, 88 * 1440).map(lambda minute: minute / 1440),
        st.sampled_from(["A1", "A2", "A3"]),
        st.integers(-5_000, 50_000),
    ),
    min_size=1,
    max_size=25,
    unique_by=lambda item: item[0],
)


@settings(max_examples=100, deadline=None)
@given(history=balance_histories, data=st.data())
def test_each_accounts_balance_does_not_depend_on_the_order_reports_arrive_in(
    history: list[tuple[float, str, int]], data: st.DataObject
) -> None:
    """The newest report of each account wins by event time, so the total is order-independent (the
    averages are exact when reports come in event-time order: docs/rules.md)."""
    updates = [deposit(n, day, account, f"{euros}.00") for n, (day, account, euros) in enumerate(history)]
    shuffled = data.draw(st.permutations(updates))
    in_order = applied(sorted(updates, key=lambda u: u.ts_ms))
    assert accounts(applied(shuffled)) == accounts(applied(updates)) == accounts(in_order)
    newest: dict[str, int] = {}
    for _, account, euros in sorted(history):
        newest[account] = euros * 100
    assert {k: int(v) for k, v in accounts(in_order).items()} == newest
    # in event-time order, each report counts the sum of every account's newest balance by then
    running: dict[str, int] = {}
    totals = 0
    for _, account, euros in sorted(history):
        running[account] = euros * 100
        totals += sum(running.values())
    assert balance_sums(in_order) == (totals, len(history))
    _, back = decode(in_order.encode(3))
    assert accounts(back) == accounts(in_order)
