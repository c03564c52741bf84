"""The 12-digit personal identification number: province, century-and-gender, birth year."""

from __future__ import annotations

from datetime import date

import pytest

from services.people.cccd import century_gender_digit, is_valid, masked, problems


@pytest.mark.parametrize(("year", "gender", "digit"), [
    (1985, "male", 0), (1999, "female", 1), (2000, "male", 2), (2024, "female", 3), (2100, "male", 4),
])
def test_century_and_gender_digit(year, gender, digit):
    assert century_gender_digit(year, gender) == digit


def test_a_number_that_agrees_with_its_person():
    assert is_valid("049085001234", date_of_birth=date(1985, 3, 12), gender="male")
    assert is_valid("001301000001", date_of_birth=date(2001, 1, 1), gender="female")


@pytest.mark.parametrize(("number", "dob", "gender", "fragment"), [
    ("04908500123", None, None, "12 digits"),
    ("04908500123a", None, None, "12 digits"),
    ("999085001234", None, None, "province"),
    ("003085001234", None, None, "province"),  # 003 was never a province code
    ("049885001234", None, None, "century"),
    ("049185001234", date(1985, 3, 12), "male", "does not match male"),
    ("049086001234", date(1985, 3, 12), "male", "birth-year"),
    ("049285001234", date(1985, 3, 12), "male", "does not match"),  # born 2085?
])
def test_numbers_that_do_not_agree(number, dob, gender, fragment):
    found = problems(number, date_of_birth=dob, gender=gender)
    assert found and any(fragment in p for p in found), found


def test_masking_keeps_the_last_four_digits():
    assert masked("049085001234") == "********1234"
