"""again_if_raced: a unit of work that lost a race to create the same row runs again."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from core.db import again_if_raced


def _raced() -> IntegrityError:
    return IntegrityError("INSERT ...", {}, Exception("duplicate key"))


def test_the_loser_of_a_race_runs_again_and_gets_the_winners_row() -> None:
    calls: list[int] = []

    def work() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise _raced()
        return "found the row the other click made"

    assert again_if_raced(work) == "found the row the other click made"
    assert len(calls) == 2


def test_it_gives_up_after_its_attempts_with_the_last_error() -> None:
    calls: list[int] = []

    def work() -> None:
        calls.append(1)
        raise _raced()

    with pytest.raises(IntegrityError):
        again_if_raced(work, attempts=3)
    assert len(calls) == 3


def test_other_errors_are_not_retried() -> None:
    calls: list[int] = []

    def work() -> None:
        calls.append(1)
        raise ValueError("not a race")

    with pytest.raises(ValueError):
        again_if_raced(work)
    assert calls == [1]
