"""Corpora the guard's SQL rules were NOT written from, built at test time from installed
packages (nothing of them is copied into this repository):

- hostile: sqlmap's own payloads (`sqlmap` on PyPI, GPLv2, a test-only dependency: its
  package data `data/xml/payloads/*.xml` and `data/xml/boundaries.xml` are read, never
  shipped), PostgreSQL and generic tests, every level and risk, each test's request and
  comparison payload wrapped in every boundary sqlmap pairs it with (clause and `where`
  matched as sqlmap's `checkSqlInjection` does), the placeholders filled the way sqlmap's
  `agent.cleanupPayload` does (random numbers and strings from a fixed seed, PostgreSQL
  string literals escaped as `(CHR(..)||..)` like its unescaper), after an original value.
- benign: Faker (MIT) names, company names, addresses, jobs, catch phrases, street names,
  cities and sentences of many locales, fixed seed.

Both are split in two by a stable hash: the `tune` part was looked at while the rules were
written, the `held_out` part is asserted on (tests/unit/test_guard_sql_corpus.py). For
sqlmap a value is held out only if both its test and its boundary fall in the held-out
half, so neither the payload's body nor its wrapping was seen.
"""

import random
import re
import zlib
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from xml.etree import ElementTree

ORIGINAL_VALUE = "Ann"  # a lead's name, the value sqlmap appends to (`where` 1)
DBMSES = ("PostgreSQL",)  # and tests with no DBMS (generic)
TUNE, HELD_OUT = "tune", "held_out"


def _half(label: str) -> str:
    return HELD_OUT if zlib.crc32(label.encode()) % 2 else TUNE


def _sqlmap_dir() -> Path:
    spec = find_spec("sqlmap")  # not imported: its __init__ edits sys.path
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the test dependency `sqlmap` is not installed (make install)")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "xml"


def _ints(text: str | None) -> list[int]:
    """`1,2,3` or `1-8` (sqlmap's lists and ranges)."""
    out: list[int] = []
    for item in (text or "").split(","):
        low, _, high = item.strip().partition("-")
        if low:
            out += range(int(low), int(high or low) + 1)
    return out


def _boundaries() -> list[dict]:
    root = ElementTree.parse(_sqlmap_dir() / "boundaries.xml").getroot()
    return [
        {
            "index": i,
            "clause": _ints(b.findtext("clause")),
            "where": _ints(b.findtext("where")),
            "prefix": b.findtext("prefix") or "",
            "suffix": b.findtext("suffix") or "",
        }
        for i, b in enumerate(root.iter("boundary"))
    ]


def _tests() -> list[dict]:
    out = []
    for path in sorted((_sqlmap_dir() / "payloads").glob("*.xml")):
        for test in ElementTree.parse(path).getroot().iter("test"):
            dbms = [d.text or "" for d in test.iter("dbms")]
            if any(d and d not in DBMSES for d in dbms):
                continue
            request = test.find("request")
            assert request is not None
            out.append(
                {
                    "title": test.findtext("title") or "",
                    "stype": int(test.findtext("stype") or 0),
                    "clause": _ints(test.findtext("clause")),
                    "where": _ints(test.findtext("where")),
                    "payload": request.findtext("payload") or "",
                    "comment": request.findtext("comment"),
                    "char": request.findtext("char"),
                    "columns": request.findtext("columns"),
                    "comparison": test.findtext("response/comparison"),
                    "pgsql": "PostgreSQL" in dbms,
                }
            )
    return out


class _Filler:
    """sqlmap's cleanupPayload with a fixed seed."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.delimiters = [self._delimiter(), self._delimiter()]

    def num(self, digits: int = 4) -> str:
        return str(self.rng.randint(10 ** (digits - 1), 10**digits - 1))

    def word(self, n: int = 4) -> str:
        return "".join(
            self.rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
            for _ in range(n)
        )

    def _delimiter(self) -> str:
        return "q" + "".join(self.rng.choice("jkpqvxz") for _ in range(3)) + "q"

    def fill(self, text: str, pgsql: bool) -> str:
        text = text.replace("[GENERIC_SQL_COMMENT]", "-- [RANDSTR]")
        text = text.replace("[DELIMITER_START]", self.delimiters[0])
        text = text.replace("[DELIMITER_STOP]", self.delimiters[1])
        for marker in ("[SPACE_REPLACE]", "[AT_REPLACE]", "[DOLLAR_REPLACE]", "[HASH_REPLACE]"):
            text = text.replace(marker, self.word(6).lower())
        for marker in set(re.findall(r"\[RANDNUM\d*\]", text)):
            text = text.replace(marker, self.num())
        for marker in set(re.findall(r"\[RANDSTR\d*\]", text)):
            text = text.replace(marker, self.word())
        text = text.replace("[ORIGVALUE]", _escape(f"'{ORIGINAL_VALUE}'", pgsql))
        text = text.replace("[ORIGINAL]", ORIGINAL_VALUE)
        return text


def _escape(expression: str, pgsql: bool) -> str:
    """sqlmap's PostgreSQL unescaper: 'abc' -> (CHR(97)||CHR(98)||CHR(99))."""
    if not pgsql:
        return expression

    def chars(match: re.Match) -> str:
        value = match.group(0)[1:-1].replace("''", "'")
        if not value or "[SLEEPTIME]" in value:
            return match.group(0)
        return "(" + "||".join(f"CHR({ord(c)})" for c in value) + ")"

    return re.sub(r"'(?:[^']|'')*'", chars, expression)


def _expressions(test: dict, filler: _Filler) -> list[str]:
    if test["stype"] == 6:  # UNION: sqlmap forges these (agent.forgeUnionQuery)
        low, _, high = (test["columns"] or "1-10").partition("-")
        low = int(low) if low.isdigit() else 1
        high = int(high) if high.isdigit() else 10
        char = (test["char"] or "NULL").replace("[CHAR]", "NULL")
        counts = sorted({low, (low + high) // 2, high})
        out = [f"ORDER BY {n}" for n in (1, high)]
        out += ["UNION ALL SELECT " + ",".join([char] * n) for n in counts]
        return out
    return [x for x in (test["payload"], test["comparison"]) if x]


def _bound(
    test: dict, boundary: dict, expression: str, where: int, filler: _Filler, faithful: bool
) -> str:
    pgsql = test["pgsql"]
    expression = _escape(filler.fill(expression, pgsql), pgsql)
    prefix, suffix = boundary["prefix"], boundary["suffix"]
    # agent.prefixQuery
    if where == 3:
        query = ""
    elif test["stype"] == 4 or (faithful and test["clause"] in ([2, 3], [2], [3])):
        query = prefix
    else:
        query = prefix
        if (
            not expression.startswith(";")
            and not (query[-1:] in ("(", ")") and expression[:1] in ("(", ")"))
            and query[-1:] != "("
        ):
            query += " "
    expression = query + expression
    # agent.suffixQuery
    comment = test["comment"]
    if comment:
        expression += comment
    elif where != 3 and suffix:
        if re.search(r"\w\Z", expression) and re.search(r"\A\w", suffix):
            expression += " "
        expression += suffix
    expression = re.sub(r";\W*;", ";", expression)
    # agent.payload: the original value, a negative number, or nothing
    value = {1: ORIGINAL_VALUE, 2: "-" + filler.num(4)}.get(where, "")
    return filler.fill(value + expression, pgsql).replace("[SLEEPTIME]", "5")


@cache
def sqlmap_payloads() -> dict[str, tuple[str, ...]]:
    """{"tune": (...), "held_out": (...), "mixed": (...)}: unique payloads.

    Each test with each boundary sqlmap pairs it with (clause and `where` matched), and
    also with every boundary of a matching `where` whatever the clause, spaced as in a
    WHERE clause (`Ann) AS x WHERE 9148=5238 ,(SELECT (CASE WHEN ...`, the form the issue
    reported): an attacker does not know the clause, and `--prefix` sets any."""
    filler = _Filler(seed=13)
    parts: dict[str, dict[str, None]] = {TUNE: {}, HELD_OUT: {}, "mixed": {}}
    boundaries = _boundaries()
    for test in _tests():
        for boundary in boundaries:
            if not any(w in boundary["where"] for w in test["where"]):
                continue
            clause_match = any(c in boundary["clause"] for c in test["clause"])
            clause_match |= 0 in test["clause"] or 0 in boundary["clause"]
            halves = {_half(test["title"]), _half(f"boundary {boundary['index']}")}
            part = halves.pop() if len(halves) == 1 else "mixed"
            for where in test["where"]:
                for expression in _expressions(test, filler):
                    for faithful in (True, False) if clause_match else (False,):
                        value = _bound(test, boundary, expression, where, filler, faithful)
                        parts[part][value] = None
    return {k: tuple(v) for k, v in parts.items()}


# sqlmap's tamper scripts that name PostgreSQL among the engines they were tested on (less
# `percentage` and `charunicodeencode`: ASP/IIS decodings no JSON field sees).
TAMPERS = (
    "between", "castprefix", "charencode", "commalesslimit", "commentbeforeparentheses",
    "dollarquote", "equaltolike", "greatest", "least", "lowercase", "mid2leftright",
    "multiplespaces", "randomcase", "sign", "space2comment", "space2morecomment",
    "space2randomblank", "substring2leftright", "unionalltounion", "unionvalues", "uppercase",
)  # fmt: skip
# Run in a child process: tamper scripts import sqlmap's `lib` package, which needs
# sqlmap's folder on sys.path (not to be put on the test process's).
_TAMPER_CHILD = """
import importlib, json, random, sys
sys.path.insert(0, sys.argv[1])
random.seed(13)
from lib.core.data import kb
with open(sys.argv[1] + "/data/txt/keywords.txt") as lines:
    kb.keywords = {line.strip().upper() for line in lines if line.strip()}
names, payloads = json.load(sys.stdin)
json.dump({n: [importlib.import_module("tamper." + n).tamper(payload=p) for p in payloads]
           for n in names}, sys.stdout)
"""


@cache
def sqlmap_tampered(stride: int = 8) -> dict[str, tuple[str, ...]]:
    """{tamper: payloads}: every `stride`-th held-out payload through each tamper script."""
    import json
    import subprocess
    import sys

    payloads = sqlmap_payloads()[HELD_OUT][::stride]
    child = subprocess.run(
        [sys.executable, "-c", _TAMPER_CHILD, str(_sqlmap_dir().parent.parent)],
        input=json.dumps([TAMPERS, payloads]),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return {name: tuple(values) for name, values in json.loads(child.stdout).items()}


# --- benign: Faker ---------------------------------------------------------------------------
# Locales split in two halves by name; the held-out half was not looked at while tuning.
LOCALES = (
    "en_US", "en_GB", "en_IE", "en_AU", "en_IN", "de_DE", "fr_FR", "es_ES", "es_MX",
    "it_IT", "nl_NL", "pt_BR", "pl_PL", "ru_RU", "uk_UA", "cs_CZ", "sv_SE", "da_DK",
    "fi_FI", "no_NO", "tr_TR", "el_GR", "he_IL", "ar_AA", "fa_IR", "hi_IN", "ja_JP",
    "zh_CN", "ko_KR", "vi_VN", "id_ID", "th_TH", "ga_IE", "hu_HU", "ro_RO", "hr_HR",
)  # fmt: skip
PROVIDERS = (
    "name", "first_name", "last_name", "company", "job", "catch_phrase", "bs",
    "street_address", "city", "address", "sentence", "street_name",
)  # fmt: skip


@cache
def faker_values(per_provider: int = 12) -> dict[str, tuple[tuple[str, str], ...]]:
    """{"tune": ((locale/provider, value), ...), "held_out": (...)}: one-line values (an
    address's line break becomes ", ": a name field refuses line breaks)."""
    from faker import Faker

    out: dict[str, dict[tuple[str, str], None]] = {TUNE: {}, HELD_OUT: {}}
    for locale in LOCALES:
        fake = Faker(locale)
        fake.seed_instance(13)
        for provider in PROVIDERS:
            method = getattr(fake, provider, None)
            if method is None:
                continue
            for _ in range(per_provider):
                try:
                    value = str(method())
                except (AttributeError, NotImplementedError):
                    break
                value = re.sub(r"\s*\n\s*", ", ", value).strip()[:200]
                out[_half(locale)][(f"{locale}/{provider}", value)] = None
    return {k: tuple(v) for k, v in out.items()}
