"""The worker's start-up freeze: garbage is collected first, what is alive is frozen."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from streams.app import freeze_start_up_objects


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("unfrozen")
def test_a_cycle_already_garbage_is_collected_and_what_lives_is_frozen() -> None:
    first, second = Node(), Node()
    first.other, second.other = second, first
    gone = weakref.ref(first)
    del first, second  # a reference cycle: only the collector frees it
    kept = Node()
    frozen = freeze_start_up_objects()
    assert gone() is None
    assert frozen == gc.get_freeze_count() > 0
    assert not any(o is kept for o in gc.get_objects())  # tracked in no generation the collector walks
