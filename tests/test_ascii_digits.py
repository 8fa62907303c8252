"""The one ASCII-digit parser every typed or received number goes through."""

from __future__ import annotations

import pytest

from core.ascii_digits import MAX_INT32, parse_ascii_digits


@pytest.mark.parametrize(
    "text",
    [
        "",
        "²",  # str.isdigit() says yes, int() refuses it
        "1²",
        "٣",  # Arabic-Indic three: int() takes it
        "\uff11\uff12",  # fullwidth digits: int() takes them too
        "+1",
        "-1",
        " 7",
        "7 ",
        "1_000",
        "1.0",
        "0x1f",
        "seven",
    ],
)
def test_anything_but_ascii_digits_is_refused(text: str) -> None:
    assert parse_ascii_digits(text, MAX_INT32) is None


def test_ascii_digits_are_read_with_leading_zeros() -> None:
    assert parse_ascii_digits("0", MAX_INT32) == 0
    assert parse_ascii_digits("7", MAX_INT32) == 7
    assert parse_ascii_digits("0012", MAX_INT32) == 12
    assert parse_ascii_digits("060", 60) == 60


def test_numbers_above_the_maximum_are_refused() -> None:
    assert parse_ascii_digits(str(MAX_INT32), MAX_INT32) == MAX_INT32
    assert parse_ascii_digits(str(MAX_INT32 + 1), MAX_INT32) is None
    assert parse_ascii_digits("61", 60) is None


def test_huge_numbers_are_refused_without_int_raising() -> None:
    # int() raises ValueError past 4,300 digits; the parser must say None, not raise.
    assert parse_ascii_digits("9" * 10_000, MAX_INT32) is None
    assert parse_ascii_digits("0" * 10_000 + "5", MAX_INT32) == 5


def test_texting_hours_take_ascii_digits_only() -> None:
    from core.errors import InvalidInput
    from core.services.campaigns import TextingHours

    assert TextingHours.parse(" 9 - 21 ") == TextingHours(9, 21)
    with pytest.raises(InvalidInput):
        TextingHours.parse("٩-٢١")  # Arabic-Indic 9-21: a regex \d took it, and int() too


def test_huge_numbers_in_slack_headers_are_refused_not_crashed() -> None:
    """A 5,000-digit Content-Length or timestamp made int() raise (a 500); now 400 and 401."""
    import io

    from bot.request_guard import SlackRequestGuard

    guard = SlackRequestGuard(None, "secret")  # type: ignore[arg-type]  # refused before Bolt
    statuses: list[str] = []

    def call(**environ: object) -> str:
        guard({"wsgi.input": io.BytesIO(b"{}"), **environ}, lambda s, h: statuses.append(s))
        return statuses[-1]

    assert call(CONTENT_LENGTH="9" * 5000).startswith("400")
    assert call(CONTENT_LENGTH="٢").startswith("400")
    huge_timestamp = {
        "HTTP_X_SLACK_REQUEST_TIMESTAMP": "9" * 5000,
        "HTTP_X_SLACK_SIGNATURE": "v0=0",
    }
    assert call(CONTENT_LENGTH="2", CONTENT_TYPE="application/json", **huge_timestamp).startswith(
        "401"
    )
