"""The import's fast path for plain NANP numbers says exactly what phonenumbers says."""

from __future__ import annotations

import random

import pytest

from core.services import cell_numbers
from core.services.cell_numbers import _fast_nanp, _normalise_cell_phonenumbers, normalise_cell


def _shapes(npa: str, nxx: str, line: str) -> list[str]:
    ten = f"{npa}{nxx}{line}"
    return [
        f"+1{ten}",
        ten,
        f"1{ten}",
        f"{npa}-{nxx}-{line}",
        f"{npa}.{nxx}.{line}",
        f"{npa} {nxx} {line}",
        f"{npa}-{nxx}.{line}",
        f"({npa}) {nxx}-{line}",
        f"({npa}){nxx}-{line}",
        f"+1 ({npa}) {nxx}-{line}",
        f"+{ten}",
        f"+1{ten}0",
        f"{ten}0",
    ]


def _samples() -> list[str]:
    rng = random.Random(20261123)
    raws: list[str] = []
    # Every area code (valid US, Canadian, Caribbean, toll-free, premium, unassigned, N11).
    for npa in range(100, 1000):
        nxx = rng.choice(["234", "555", "211", "911", "099", f"{rng.randrange(200, 1000)}"])
        raws += _shapes(f"{npa}", nxx, f"{rng.randrange(10_000):04d}")
    # Random digits, including exchanges and area codes starting 0 or 1.
    for _ in range(500):
        npa, nxx = f"{rng.randrange(1000):03d}", f"{rng.randrange(1000):03d}"
        raws += _shapes(npa, nxx, f"{rng.randrange(10_000):04d}")
    arabic_indic = "".join(chr(0x0660 + int(d)) for d in "2022345678")
    raws += [f"+1{arabic_indic}", arabic_indic, "+12022345678 ", " 2022345678", "+44 20 7946 0958"]
    return raws


@pytest.mark.parametrize("region", ["US", "CA", "GB"])
def test_fast_path_agrees_with_phonenumbers(region: str) -> None:
    fast_hits = 0
    samples = _samples()
    # normalise_cell is the fast path's answer when it has one, else phonenumbers'.
    for raw in samples if region == "US" else samples[::3]:
        fast = _fast_nanp(raw, region)
        if fast is not None:
            fast_hits += 1
            assert fast == _normalise_cell_phonenumbers(raw, region), raw
    assert fast_hits > 500 if region == "US" else fast_hits > 50  # the fast path is really taken


def test_fast_path_only_answers_for_valid_us_numbers() -> None:
    assert _fast_nanp("+12022345678", "US") == "+12022345678"
    assert _fast_nanp("(202) 234-5678", "US") == "+12022345678"
    assert _fast_nanp("2022345678", "GB") is None  # national numbers only for region US
    assert _fast_nanp("+14165550123", "US") is None  # Toronto: valid, but not for the US
    assert normalise_cell("+14162345678", "US") == "+14162345678"
    assert _fast_nanp("+12021234567", "US") is None  # exchange starting 1: invalid


def test_fast_path_stands_down_if_the_metadata_changes_shape(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(cell_numbers, "_FAST_PATH_SOUND", False)
    assert _fast_nanp("+12022345678", "US") is None
    assert normalise_cell("+12022345678", "US") == "+12022345678"
