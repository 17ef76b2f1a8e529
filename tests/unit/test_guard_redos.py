"""ReDoS regression: every rule of the guard runs in linear time on the longest strings it
takes (20 000 characters). Each string of tests/corpora.adversarial() (the strings the
review and the outside test found, and every rule's opening token repeated or followed
by a long run) goes through guard.inspect in a free-text field and in a strict one.

Before the rules were made linear, several of these took seconds to minutes each. The
timeout is a hang guard, not a timing assertion: the benchmark prints the times."""

import pytest

from actions.contract.registry import load_catalog
from actions.edge import guard
from actions.edge.guard import rules
from tests import corpora

registry = load_catalog()
FREE_TEXT = registry.get("leads.create")  # `notes` is x-free-text
OPEN = registry.get("webhooks.ingest")  # values under `body` get the strict rules


def _inspect(spec, payload) -> str | None:
    try:
        guard.inspect(spec, payload)
    except guard.Rejected as err:
        return err.category
    return None


def check_both(text: str) -> None:
    assert len(text) <= guard.MAX_STRING_LENGTH
    _inspect(FREE_TEXT, {"name": "Ann", "notes": text})
    _inspect(OPEN, {"workspace": "main", "path": "orders", "body": {"v": text}})


CASES = list(corpora.adversarial_groups().items())


def test_the_openings_cover_every_category():
    openings = corpora.rule_openings()
    assert len(openings) > 100
    for token in ("'", "<", "{{", "${", "[[", "<%", "$(", "..", "/*", ";", "\n"):
        assert any(o.startswith(token) for o in [*openings, *corpora.EXTRA_OPENINGS]), token


@pytest.mark.timeout(20)
@pytest.mark.parametrize(("label", "texts"), CASES, ids=[k for k, _ in CASES])
def test_pathological_strings_are_checked_in_linear_time(label, texts):
    for text in texts:
        check_both(text)


@pytest.mark.timeout(20)
def test_a_body_of_many_pathological_strings():
    """A 256 KiB webhook body made of the reported strings, twelve of 20 000 characters."""
    texts = [texts[0] for texts in list(corpora.adversarial_groups().values())[:8]]
    body = {f"k{i}": texts[i % len(texts)] for i in range(12)}
    _inspect(OPEN, {"workspace": "main", "path": "orders", "body": body})


def test_comment_forms_are_found_without_a_regular_expression():
    assert rules._sql_comment_forms("UN/**/ION SEL/*!50000*/ECT /* open") == (
        "UN  ION SEL  ECT /* open",
        "UNION SELECT /* open",
    )
    assert rules.category_of("1/**/OR/**/1=1", prose=False) == "sql_injection"


def test_huge_numeric_entities_do_not_break_decoding():
    # html.unescape would int() 19 998 digits: ValueError (an internal_error), quadratic below
    assert rules.normalise("&#" + "1" * 19_998) == "\ufffd"
    assert rules.normalise("&#0000000060;script&#x00003c;") == "<script<"
    assert rules.category_of("&#" + "9" * 5000 + ";", prose=False) is None


def test_strings_that_nfkc_blows_up_are_oversize():
    # U+FDFA is 18 characters after NFKC: 20 000 of them would be 360 000 for the rules.
    assert rules.category_of("\ufdfa" * 20_000, prose=True) == "oversize"
    assert rules.category_of("\u2474" * 1000, prose=False) == "oversize"  # `⑴` is `(1)`
    assert rules.category_of("ﬁne ﬂour, ½ cup, ﷺ", prose=True) is None  # a little is prose
