"""The profile a worker computes (pure logic): order does not matter, the stored string loses nothing."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.inputs import InputEvent, TransactionKind
from schemas.profile.delta import ProfileUpdate, build_update
from sinks.redis.profile_state import ProfileState, decode
from tests.support.profile_events import login, tx

KINDS = (TransactionKind.CARD_PAYMENT, TransactionKind.SALARY_CREDIT, TransactionKind.TRANSFER_OUT)


def event(n: int, day: float, kind: int) -> InputEvent:
    if kind == len(KINDS):
        return login(n, day)
    return tx(n, day, KINDS[kind], f"{n % 7 + 1}0.50", bank="OTHERBANK", balance=f"{1000 - n}.00")


def applied(updates: list[ProfileUpdate]) -> ProfileState:
    state = ProfileState()
    for update in updates:
        state.apply(update, 90, 48, {})
    return state


def comparable(state: ProfileState, runs: bool = True) -> tuple[object, ...]:
    """What must not depend on the order; ``runs=False`` leaves out runs of days paying a bank
    ("ob:<bank>"): a payment more than the gap before a run's start is ignored when it comes late,
    counted when it came first (as the Lua script this replaced did)."""
    fields = {k: v for k, v in state.fields.items() if runs or not k.startswith("ob:")}
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
    assert comparable(applied(shuffled), runs=False) == comparable(applied(updates), runs=False)


@settings(max_examples=100, deadline=None)
@given(history=histories)
def test_the_stored_string_gives_back_the_same_profile(history: list[tuple[float, int]]) -> None:
    updates = [
        build_update(event(n, day, kind), "SIGNALBANK", f"0:1:{n}") for n, (day, kind) in enumerate(history)
    ]
    state = applied(updates)
    version, back = decode(state.encode(7))
    assert version == 7
    assert comparable(back) == comparable(state)
    assert (back.kept, back.pending) == (state.kept, state.pending)
