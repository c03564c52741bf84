"""The personal identification number (số định danh cá nhân, 12 digits) and its four parts.

Law on Identity 2023 art. 12 / Circular 07/2016/TT-BCA: 3 digits of the province of birth
registration, 1 digit for century and gender, 2 digits of the birth year, 6 random digits.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import jsonschema

from vocab import Gender

# Province codes (mã tỉnh) of the 63 provinces as numbered before the 2025 mergers; numbers issued
# keep them for life.
PROVINCE_CODES = frozenset({
    "001", "002", "004", "006", "008", "010", "011", "012", "014", "015", "017", "019", "020", "022", "024",
    "025", "026", "027", "030", "031", "033", "034", "035", "036", "037", "038", "040", "042", "044", "045",
    "046", "048", "049", "051", "052", "054", "056", "058", "060", "062", "064", "066", "067", "068", "070",
    "072", "074", "075", "077", "079", "080", "082", "083", "084", "086", "087", "089", "091", "092", "093",
    "094", "095", "096",
})
GENDERS = tuple(Gender)
_SHAPE = re.compile(r"^\d{12}$")


def century_gender_digit(birth_year: int, gender: str) -> int:
    """0/1 for a man/woman born 1900–1999, 2/3 for 2000–2099, 4/5 for 2100–2199, …"""
    return (birth_year // 100 - 19) * 2 + GENDERS.index(gender)


def problems(cccd: str, *, date_of_birth: date | None = None, gender: str | None = None) -> list[str]:
    """What is wrong with a number (empty when valid), checked against birth date and gender if given."""
    if not isinstance(cccd, str) or not _SHAPE.match(cccd):
        return ["must be exactly 12 digits"]
    found = []
    if cccd[:3] not in PROVINCE_CODES:
        found.append(f"unknown province code {cccd[:3]}")
    digit = int(cccd[3])
    if digit > 7:
        found.append("century-and-gender digit must be 0–7")
    if date_of_birth is not None and gender in GENDERS:
        expected = century_gender_digit(date_of_birth.year, gender)
        if digit != expected:
            found.append(f"century-and-gender digit {digit} does not match {gender} born {date_of_birth.year}")
        if cccd[4:6] != f"{date_of_birth.year % 100:02d}":
            found.append(f"birth-year digits {cccd[4:6]} do not match {date_of_birth.year}")
    elif gender is not None and gender not in GENDERS:
        found.append("gender must be male or female")
    return found


def is_valid(cccd: str, *, date_of_birth: date | None = None, gender: str | None = None) -> bool:
    return not problems(cccd, date_of_birth=date_of_birth, gender=gender)


def masked(cccd: str) -> str:
    """For logs and audit lines: only the last 4 digits."""
    return "*" * 8 + cccd[-4:] if len(cccd) >= 4 else "****"


# JSON Schema's `"format": "cccd"` for forms (every other standard format stays checked too). Alone it
# checks the number itself; services.dossiers.rules also holds it against a sibling birth date and gender.
FORMAT_CHECKER = jsonschema.FormatChecker()


@FORMAT_CHECKER.checks("cccd")
def _is_cccd(value: object) -> bool:
    return not isinstance(value, str) or not problems(value)


def disagreement(value: object, siblings: dict[str, Any]) -> list[str]:
    """A CCCD checked against the `date_of_birth` and `gender` beside it in the same form object."""
    born, gender = siblings.get("date_of_birth"), siblings.get("gender")
    if not isinstance(value, str) or not isinstance(born, str) or gender not in GENDERS:
        return []
    try:
        day = date.fromisoformat(born)
    except ValueError:
        return []
    return problems(value, date_of_birth=day, gender=gender)
