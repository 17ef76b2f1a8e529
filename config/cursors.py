"""Numbers that clients send back: page cursors and numeric ids.

`str.isdigit()` and `int()` accept more than a list ever gave: `"²".isdigit()` is true and
`int("²")` raises; `int(" 7")`, `int("1_0")` and a hundred digits all pass, and the last
overflows PostgreSQL's bigint in the query. Every such value goes through `number` first,
so that a client's odd cursor or id is answered as unknown, never with an internal error.
"""

import re

# ASCII digits only; 18 of them always fit PostgreSQL's bigint (9,223,372,036,854,775,807).
_NUMBER = re.compile(r"[0-9]{1,18}")


def number(text: str | None) -> int | None:
    """`text` as a non-negative int, or None when it is not one we could have given."""
    if text is None or not _NUMBER.fullmatch(text):
        return None
    return int(text)
