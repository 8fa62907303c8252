"""Phone numbers as typed (a CSV's cell column, a number given on the command line, a
provider's From) normalised to E.164, the one form the database stores."""

from __future__ import annotations

import re

import phonenumbers


def normalise_cell(raw: str, region: str) -> str | None:
    """The number in E.164, or None when it is not a valid phone number.

    Exactly what phonenumbers says (parse, is_valid_number, format as E.164), with a fast
    path for the shapes nearly every US list uses; see _fast_nanp. Letters are refused:
    phonenumbers reads them as keypad digits, so 37,050 of 1,000,000 random hex strings
    (`191adc0ee16` -> +19123203316) passed as numbers.
    """
    if _has_letters(raw):
        return None
    fast = _fast_nanp(raw, region)
    return fast if fast is not None else _normalise_cell_phonenumbers(raw, region)


def _has_letters(raw: str) -> bool:
    return any(ch.isalpha() for ch in raw)


def spelled_with_letters(raw: str, region: str) -> bool:
    """A number phonenumbers would accept by reading its letters as keypad digits."""
    return _has_letters(raw) and _normalise_cell_phonenumbers(raw, region) is not None


def _normalise_cell_phonenumbers(raw: str, region: str) -> str | None:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# Parsing dominates a million-row import (~35 us a number), so NANP numbers in a few plain
# shapes skip phonenumbers.parse. For them parse's result is known: country code 1 and the ten
# digits as the national number (an area code starting 2-9 is never an international prefix
# (011), a national prefix (1) or a country code), and E.164 is "+1" and the ten digits.
# Validity is still phonenumbers' own: is_valid_number picks the first region of the +1 list
# whose patterns match (US, which has no leading-digits shortcut) and checks that region again,
# so a number valid for the US is valid; anything else (Canada, the Caribbean, invalid) takes
# the full path. tests/test_cell_normalisation.py checks both paths agree.
# ASCII digits only ([0-9], not \d): other scripts' digits go through phonenumbers.
_E164_NANP = re.compile(r"\+1([2-9][0-9]{9})")
_US_NATIONAL = re.compile(
    r"([2-9][0-9]{2})([2-9][0-9]{2})([0-9]{4})"
    r"|([2-9][0-9]{2})([-. ])([2-9][0-9]{2})\5([0-9]{4})"
    r"|\(([2-9][0-9]{2})\) ?([2-9][0-9]{2})-([0-9]{4})"
)
_NANP_MAIN = "US"
_FAST_PATH_SOUND = (
    phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(1, ("",))[0] == _NANP_MAIN
    and getattr(phonenumbers.PhoneMetadata.metadata_for_region(_NANP_MAIN), "leading_digits", "")
    is None
)


def _fast_nanp(raw: str, region: str) -> str | None:
    """+1 and ten digits when raw is a plain-shaped number valid in the US, else None
    (meaning: ask phonenumbers)."""
    if not _FAST_PATH_SOUND:
        return None
    match = _E164_NANP.fullmatch(raw)
    if match:
        digits = match.group(1)
    elif region == _NANP_MAIN and (match := _US_NATIONAL.fullmatch(raw)):
        digits = "".join(g for g in match.groups() if g and g.isdigit())
    else:
        return None
    number = phonenumbers.PhoneNumber(country_code=1, national_number=int(digits))
    if phonenumbers.is_valid_number_for_region(number, _NANP_MAIN):
        return "+1" + digits
    return None
