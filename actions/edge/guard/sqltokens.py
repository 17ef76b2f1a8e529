"""SQL by its token shapes, libinjection's method: the text is cut into SQL tokens, each
token becomes one symbol (a number `1`, a string `s`, a bare word `n`, `&` for AND/OR,
`S` for SELECT ...; a block comment is whitespace, as it is to SQL), and shapes of the
symbol string that SQL has and prose does not are refused: a condition `AND 1=1`,
`HAVING 5=5`, `WHERE 'a'='a'`; a sub-select `(SELECT 0)`; `CASE WHEN 1=1 THEN`;
`ORDER BY 1--`; `CHR(65)`, `PG_SLEEP(5)`; a cast `)::text`; `UNION ALL VALUES (`.

Why tokens and not more regular expressions: one shape covers every spelling a tokenizer
folds together (spaces, comments, case, parentheses, quoting), so the rules stay few and
general; `Group by region`, `select a plan`, `O'Brien` stay plain words.

A value that breaks out of a string starts inside one (`Ann' AND 'x'='x`), so as
libinjection does the text is read three ways: as it is, as if after a `'` and as if after
a `"` (the latter two only when the text holds that quote).

Linear time: the tokenizer is one pattern of possessive alternatives scanned once from
left to right; the shapes are matched on the symbol string, bounded (`{0,40}`) and
possessive. Only text with a character or word some shape needs is tokenized (PRECHECK).
"""

import re

# One token per match, tried in order; anything else (a space, `$`, `` ` ``) is skipped.
_TOKEN = re.compile(
    r"(?P<b>/\*(?:(?!\*/).)*+(?:\*/)?)"  # a block comment: whitespace to SQL
    r"|(?P<c>--[^\n]*+|#)"  # a line comment (`#` hides nothing: PostgreSQL reads on)
    r"|(?P<s>'(?:[^']|'')*+'?|\"(?:[^\"]|\"\")*+\"?)"  # strings (an open one runs to the end)
    r"|(?P<num>0x[0-9a-f]++|\d++(?:\.\d++)?+)"
    r"|(?P<w>[^\W\d]\w*+)"
    r"|(?P<op>::|\|\||&&|<=>|<>|!=|<=|>=|[=<>+\-*/%^|&~!])"
    r"|(?P<p>[(),;])",
    re.IGNORECASE | re.DOTALL,
)

_CALL = re.compile(r"\s*+\(")

_WORDS = {
    **dict.fromkeys(("and", "or", "xor"), "&"),
    "not": "!",
    "select": "S",
    "from": "F",
    **dict.fromkeys(("where", "having", "when"), "W"),
    "case": "C",
    "then": "T",
    "else": "E",
    "end": "D",
    "union": "U",
    **dict.fromkeys(("group", "order"), "G"),
    "by": "B",
    "as": "A",
    **dict.fromkeys(("like", "ilike", "rlike", "regexp", "glob"), "L"),
    "is": "I",
    "between": "N",
    "values": "V",
    **dict.fromkeys(("null", "true", "false"), "v"),
}
# Functions an injection calls and a name or a sentence does not (followed by `(`).
_FUNCTIONS = frozenset(
    (
        "chr char concat concat_ws cast convert coalesce nullif ifnull nvl substr substring"
        " ascii md5 pg_sleep sleep benchmark generate_series current_database current_user"
        " current_schema version extractvalue updatexml randomblob unhex hex char_length"
        " regexp_substring make_set elt json_keys xmltype gtid_subset utl_inaddr"
        " dbms_pipe dbms_utility sys_context pg_read_file lo_import query_to_xml to_number"
        " to_char instr octet_length bit_length exists iif isnull length rand random"
        " string_agg array_agg regexp_like"
    ).split()
)
_OPERATORS = {
    **dict.fromkeys(("=", "<", ">", "<=", ">=", "<>", "!=", "<=>"), "="),
    **dict.fromkeys(("&&",), "&"),
    "||": "|",
    "::": ":",
    "!": "!",
}

# Shapes (on the symbol string). V: a literal; X: a literal or a bare word.
_V = "[1sv]"
_X = "[1svn]"
_SHAPES = re.compile(
    "|".join(
        (
            # AND 1=1   OR NOT 5=6   HAVING 7=7   WHERE 'a'='a'   AND (x)=(1)
            rf"[&W]!?+\(*+{_X}\)*+=\(*+!?+{_V}",
            # AND 'a' LIKE 'a'   OR 1 IS NULL   AND 5 BETWEEN 5 AND 5
            rf"[&W]!?+\(*+{_V}\)*+(?:L{_V}|I!?+v|!?+N\(*+{_V}\)*+&)",
            # UNION ALL VALUES (   UNION (SELECT
            r"Un?+\(*+(?:S|V\()",
            # a sub-select that is an expression: (SELECT 0)  (SELECT (CASE  ,(SELECT CHR(
            rf"\(S(?:{_V}++[),;c&=o|F]|{_V}++$|\(|f\(|C|o)",
            # CASE WHEN 1=1 THEN   CASE WHEN (x) LIKE 's' THEN
            r"CW[^TC]{0,40}+(?<=[=LIv1s)])T",
            # ORDER BY 1--   GROUP BY 1,2   ORDER BY (SELECT   GROUP BY x HAVING
            r"GB(?:\(*+1++(?:[c,);]|$)|\(*+[Sf(]|[1sn][,)]*+[Wc])",
            # CHR(65)||  PG_SLEEP(5))  CAST('x' AS  CONCAT(CHR(  VERSION()  (not `Cast (2024) Ltd`)
            rf"f\(\(*+(?:{_V}++(?:[,=o|&A]|\)[,=o|&):;cAIL])|S|f|\))",
            # a cast: 'x'::text  (...)::int
            r"[)s1v]:n",
            # a logic operator before a function call or a sub-select: AND PG_SLEEP(  OR (SELECT
            r"&!?+\(*+(?:f\(|S)",
            # 'a'||(SELECT   ||CHR(   'a'||'b'
            r"[s)]\|\(*+[sfS]",
        )
    )
)

# Tokenize only text some shape could match: a comparison, a parenthesis, a comment, a
# cast, `||`, or LIKE / IS / BY (the shapes without a symbol).
PRECHECK = re.compile(r"[=<>(|#]|--|::|/\*|\b(?:like|ilike|rlike|regexp|glob|is|by)\b", re.I)


def fingerprint(text: str) -> str:
    """The symbol string of `text`: one symbol per token, block comments dropped."""
    out = []
    for match in _TOKEN.finditer(text):
        kind, token = match.lastgroup, match.group()
        if kind == "w":
            word = token.lower()
            symbol = _WORDS.get(word)
            if symbol is None:
                called = word in _FUNCTIONS and _CALL.match(text, match.end())
                symbol = "f" if called else "n"
            out.append(symbol)
        elif kind == "num":
            out.append("1")
        elif kind == "s":
            out.append("s")
        elif kind == "c":
            out.append("c")
        elif kind == "b":
            continue
        elif kind == "op":
            out.append(_OPERATORS.get(token, "o"))
        else:
            out.append(token)
    return "".join(out)


def search(text: str) -> bool:
    """True if `text`, read as it is or as if after an opening quote, has an SQL shape."""
    if PRECHECK.search(text) is None:
        return False
    readings = [text]
    readings += [q + text for q in ("'", '"') if q in text]
    return any(_SHAPES.search(fingerprint(reading)) for reading in readings)


class TokenRule:
    """A rule of the guard's tables (rules.STRICT): `search(text)` like a compiled pattern."""

    def search(self, text: str, /) -> bool:
        return search(text)
