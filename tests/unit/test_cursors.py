"""config.cursors.number: a client's cursor or numeric id is a number we gave, or unknown."""

import pytest

from config.cursors import number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("42", 42),
        ("0042", 42),
        ("9" * 18, int("9" * 18)),
        # Not ones we gave: each would have been an internal error, or a wrong page.
        ("²", None),  # "²".isdigit() is true, int("²") raises
        ("١٢", None),  # Arabic-Indic digits: int() would read 12
        ("9" * 19, None),  # past what bigint always holds
        ("1" * 100, None),
        (" 7", None),
        ("7\n", None),
        ("1_000", None),
        ("-1", None),
        ("+1", None),
        ("", None),
        (None, None),
    ],
)
def test_only_ascii_digits_that_fit_a_bigint_are_numbers(text, expected):
    assert number(text) == expected
