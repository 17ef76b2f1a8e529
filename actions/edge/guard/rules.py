"""Detection rules of the hostile-input guard, one small set per category.

Hand-written on purpose (docs/security.md, "Library decision"): the only libinjection
bindings on PyPI are GPLv3 (`libinjection-python`) or unmaintained since 2014-2019, and
libinjection covers SQL and HTML only. Each rule is a named regular expression over the
*normalised* text (NFKC, URL- and HTML-entity-decoded, inline SQL comments removed), so
`%27%20OR%201%3D1`, `&#x3c;script&#x3e;` and `UN/**/ION SEL/**/ECT` are seen as what a
decoder downstream would see. SQL in strict fields is also judged by its token shapes
(`SQL_TOKENS`, actions/edge/guard/sqltokens.py): a rule is anything with `search(text)`.

Two strengths of each category:
- STRICT: names, titles, search terms, identifiers, values inside open JSON objects.
  These never legitimately contain markup, template syntax, `../` or SQL statements.
- FREE_TEXT: prose fields (`x-free-text`). SQL words, quotes, semicolons, `<`, code
  snippets pass; only forms that have no place in prose and are what an attack needs
  (a `<script>` tag, an event handler, a quote-tautology, `; DROP TABLE`, `$(...)`)
  are refused.
Every string is first checked for control characters (a separate, stricter check in
identifiers: bidirectional controls are refused there, kept in prose except overrides).
"""

import html
import re
import unicodedata
from typing import Protocol
from urllib.parse import unquote

from actions.edge.guard.sqltokens import TokenRule

SQL = "sql_injection"
SCRIPT = "script_injection"
COMMAND = "command_injection"
TRAVERSAL = "path_traversal"
TEMPLATE = "template_injection"
NOSQL = "nosql_injection"
PROTOTYPE = "prototype_pollution"
SSRF = "ssrf"
CONTROL = "control_characters"
OVERSIZE = "oversize"
TOO_DEEP = "too_deep"
CATEGORIES = (
    SQL,
    SCRIPT,
    COMMAND,
    TRAVERSAL,
    TEMPLATE,
    NOSQL,
    PROTOTYPE,
    SSRF,
    CONTROL,
    OVERSIZE,
    TOO_DEEP,
)

_I = re.IGNORECASE

# --- control characters --------------------------------------------------------------
# C0 (but tab, LF, CR), DEL, C1, zero-width joiners used for spoofing, bidi controls.
# Strict fields also refuse the Arabic letter mark (U+061C, a bidi mark like U+200F), the
# line and paragraph separators (U+2028, U+2029: line breaks) and the invisible tag
# characters (U+E0000-U+E007F).
_CONTROL_ALWAYS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202d\u202e\ufeff]")
_CONTROL_STRICT = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff"
    r"\U000e0000-\U000e007f]"
)


def has_control(text: str, *, prose: bool) -> bool:
    """Prose keeps tab/newline and the bidi embeddings/isolates RTL text needs."""
    return bool((_CONTROL_ALWAYS if prose else _CONTROL_STRICT).search(text))


# --- normalisation -----------------------------------------------------------------------
_SQL_COMMENT_VERSION = re.compile(r"^!?\d*+")
_PLAIN = re.compile(r"[\w .,@+\-]*")  # nothing any rule below can match in such text


# A numeric character reference beyond U+10FFFF (7 significant decimal or hex digits
# and more, zero padding allowed) decodes to U+FFFD; html.unescape would first int() it,
# which refuses more than 4 300 digits (ValueError) and is quadratic below that.
_HUGE_CHARREF = re.compile(r"&#(?:[xX]0*+[0-9a-fA-F]{7,}+|0*+[0-9]{8,}+);?")


def normalise(text: str) -> str:
    """What a lenient decoder downstream might turn `text` into (comments left in)."""
    out = unicodedata.normalize("NFKC", text)
    for _ in range(3):  # double- and triple-encoding
        decoded = html.unescape(_HUGE_CHARREF.sub("\ufffd", unquote(out)))
        if decoded == out:
            break
        out = decoded
    return out


def _sql_comment_forms(text: str) -> tuple[str, ...]:
    """A comment is whitespace to SQL (`1/**/OR/**/1=1`; MySQL runs `/*!50000SELECT*/`),
    and filters that strip comments rebuild keywords (`UN/**/ION` -> `UNION`).

    A scan with str.find, not a regular expression: `/*(.*?)*/` retried from every `/*`
    of an unclosed run is quadratic. Once no `*/` follows, no later comment can close."""
    spaced, joined, start = [], [], 0
    while (opening := text.find("/*", start)) != -1:
        closing = text.find("*/", opening + 2)
        if closing == -1:
            break
        inner = text[opening + 2 : closing]
        inner = _SQL_COMMENT_VERSION.sub("", inner, count=1)  # `/*!50000` is MySQL's
        spaced += [text[start:opening], f" {inner} "]
        joined += [text[start:opening], inner]
        start = closing + 2
    return "".join([*spaced, text[start:]]), "".join([*joined, text[start:]])


def is_plain(text: str) -> bool:
    """Text no rule can match, judged as normalise() would leave it: only when NFKC does
    not change it (`pg_sleep⑸` is `pg_sleep(5)` after NFKC, and `⑸` is a word character).
    URL and entity decoding need `%` or `&`, comments `/*` or `--`: none of them is plain."""
    return (
        _PLAIN.fullmatch(text) is not None
        and ".." not in text
        and "--" not in text  # an SQL comment ends `Ann ORDER BY 1-- x`
        and "union" not in text.lower()
        and unicodedata.is_normalized("NFKC", text)
    )


def _rx(*parts: str, flags: int = _I) -> re.Pattern:
    return re.compile("|".join(f"(?:{p})" for p in parts), flags)


# --- linear time ------------------------------------------------------------------------------
# Every rule runs on strings of up to 20 000 characters, a message holds many, and Python's
# `re` backtracks. So no rule may retry an unbounded scan: runs of whitespace, parens and
# word characters are possessive (`\s*+`, `\w++`: nothing after them can start with what
# they take), wildcards are bounded (`.{0,200}`) or stop at the next opening token
# (`_span`), so no character is scanned from many starting points. tests/unit/
# test_guard_redos.py runs pathological strings through every rule.
_CLOSE = r"\s*+(?:\)\s*+)*+"  # ` ) )` after a value
_OPEN = r"\s*+(?:\(\s*+)*+"  # `( (` before one


def _span(opening: str, closing: str, inner: str = "") -> str:
    """`opening .*? closing` on one line (with `inner` somewhere between), in linear time:
    the scan stops at the next `opening`, which is tried from its own start, so the
    innermost span is the one judged. A match of the old form always contains one."""
    stop = f"(?!{opening}|{closing})."
    if not inner:
        return f"{opening}(?:{stop})*+{closing}"
    return (
        f"{opening}(?=(?:{stop})*+{closing})"  # the span closes ...
        f"(?:(?!{opening}|{closing}|{inner}).)*+(?:{inner})"  # ... and holds `inner`
    )


# --- SQL injection -------------------------------------------------------------------------
_Q = r"['\"`]"
_OR = _CLOSE + r"(?:or|and|xor|\|\||&&)"
# ' OR 'a'='a   " or ""="   ') OR ('1'='1   ' or 1=1--   (both sides the same: a tautology)
_TAUTOLOGY = (
    _Q
    + _OR
    + _OPEN
    + r"(['\"]?)(\w*+)\1"
    + _CLOSE
    + r"(?:=|==|<=>|\blike\b)"
    + _OPEN
    + r"\1\2(?:\1|(?!\w))"
)
_SQL_COMMON = (
    _TAUTOLOGY,  # first: its groups are \1 and \2 of the combined pattern
    # ' or 2>1   ' AND 1<2
    _Q + _OR + r"\s++\(*+\d++\s*+(?:=|==|<=>|<>|!=|>=?|<=?)\s*+\d",
    # ' OR TRUE   ' or 1#   ' AND EXISTS(   ' or (select   ' and sleep(
    _Q
    + _OR
    + r"\s++\(*+\s*+(?:true|false|exists\s*+\(|\(*+\s*+select\b|sleep\s*+\("
    + r"|\d++\s*+(?:--|#|;|$))",
    # '||(SELECT ...)||'   ' + char(39) +
    _Q + r"\s*+(?:\|\||\+)\s*+\(*+\s*+(?:select|char|chr|concat|sleep|pg_sleep)\b",
    # UNION [ALL] SELECT
    r"\bunion\b[\s(]++(?:all\s++|distinct\s++)?\(*+\s*+select\b",
    # stacked destructive statements
    r";\s*+(?:drop|truncate|alter)\s++(?:table|database|schema|index|view|user|function)\b",
    r";\s*+(?:delete\s++from|insert\s++into|update\s++\S++\s++set\b|shutdown\b|declare\s++@"
    r"|exec(?:ute)?\s++(?:master|xp_|sp_|\())",
    # time-based blind and out-of-band primitives
    r"\b(?:sleep|pg_sleep|benchmark|dbms_lock\.sleep|randomblob)\s*+\(\s*+\d",
    r"\bwaitfor\s++(?:delay|time)\s++" + _Q,
    r"\b(?:xp_cmdshell|sp_oacreate|sp_executesql|xp_dirtree|dbms_pipe\.receive_message"
    r"|utl_http\.request|utl_inaddr|load_file\s*+\(|into\s++(?:out|dump)file\b)",
    r"\b(?:extractvalue|updatexml)\s*+\(.{0,200}\bconcat\b",
)
SQL_STRICT = _rx(
    *_SQL_COMMON,
    # ' AND x=y   ' or a like b   ') or ('x' is null: any boolean operator after a quote
    _Q
    + _OR
    + r"\s++\(*+\s*+['\"]?\w++['\"]?"
    + _CLOSE
    + r"(?:=|<>|!=|<=>|>=?|<=?|\blike\b|\bregexp\b|\bis\s++(?:not\s++)?null\b|\bbetween\b)",
    _Q + _OR + r"\s++not\b",
    # admin'--   admin' #   ' /*   ';
    _Q + _CLOSE + r"(?:(?:--|#)[\s\-+]*+$|/\*|;\s*+$)",
    # 1 OR 1=1   1 AND 2>1
    r"\b(?:or|and|xor)\s++\d++\s*+(?:=|==|<=>|<>|!=|>=?|<=?|\blike\b)\s*+\d++\b",
    r";\s*+(?:select|update|delete|insert|create|alter|drop|exec|execute|declare|grant"
    r"|revoke|call|copy|truncate|shutdown)\b",
    r"\bselect\b[^;]{0,200}?\bfrom\s++[\w.\[\]\"`]",
    r"\b(?:insert\s++into|delete\s++from|drop\s++(?:table|database)|truncate\s++table"
    r"|alter\s++table)\b",
    r"\border\s++by\s++\d++\s*+(?:--|#|,|$)",
    r"\bgroup\s++by\b.{0,100}\bhaving\b",
    r"\b(?:information_schema|pg_catalog|pg_shadow|sqlite_master|sysobjects|syscolumns"
    r"|mysql\.user)\b",
    r"@@(?:version|datadir|hostname|servername)\b",
    r"\b(?:char|chr|concat|group_concat|unhex|ascii|substring|substr|ord|hex)\s*+\("
    r"[^)]{0,100}\)\s*+(?:=|,|\|\||\+|\))",
    r"\b0x[0-9a-f]{6,}+\b.{0,40}\b(?:select|union|from|where)\b",
)
SQL_FREE_TEXT = _rx(*_SQL_COMMON)

# --- script / markup injection ------------------------------------------------------------
_SCRIPT_COMMON = (
    r"<\s*+/?\s*+(?:script|iframe|frame|frameset|object|embed|applet|base|meta|link|style"
    r"|svg|math|form|isindex|template|xml|xss|img|video|audio|source|body|html|marquee"
    r"|details|input|button|textarea|select|keygen|plaintext|xmp|noscript|portal)\b",
    # a handler or style attribute in a tag (a `<` inside the tag starts its own scan)
    r"<[^<>]*?[\s/\"'](?:on[a-z]{3,}|formaction|srcdoc|xlink:href|style)\s*+=",
    r"\bon(?:error|load|click|mouse\w++|focus|blur|key\w++|submit|change|input|toggle|begin"
    r"|end|animation\w++|transition\w++|pointer\w++|wheel|scroll|resize|unload|pageshow"
    r"|message|hashchange|copy|paste|drag\w*+|drop|play\w*+|auxclick|dblclick|contextmenu"
    r"|select\w*+|search|invalid|beforeunload|readystatechange)\s*+=\s*+[\"'`]?[\w$(]",
    r"(?:java|vb|live)script\s*+:",
    r"\bdata\s*+:\s*+(?:text/html|image/svg\+xml|application/(?:x-)?javascript)",
    r"\bexpression\s*+\(",
    r"-moz-binding\s*+:",
    r"<!\[CDATA\[|<\?xml|<!ENTITY|<!DOCTYPE",
    r"\bdocument\s*+\.\s*+(?:cookie|domain|write)|\bwindow\s*+\.\s*+location\b|\balert\s*+\(|"
    r"\bprompt\s*+\(|\bconfirm\s*+\(|\beval\s*+\(|\batob\s*+\(|\bstring\.fromcharcode\s*+\(",
)
# Any tag in a strict field; `<ann@example.com>` (a name with its address) is not one.
# A tag starts with `<` right before its name (`x < y` is a comparison: no parser reads a
# tag there); the dangerous names above are refused with spaces too.
SCRIPT_STRICT = _rx(*_SCRIPT_COMMON, r"</?[a-z!?][^<>@]*+>", r"<[a-z][^<>@]*+$")
SCRIPT_FREE_TEXT = _rx(*_SCRIPT_COMMON[:-1], r"\bdocument\s*+\.\s*+cookie\b|\balert\s*+\(\s*+\S")

# --- OS command injection ---------------------------------------------------------------------
# Shell words are matched case-sensitively: "Smith & Cat Ltd" is not `cat`. Words that are
# also English ("cat", "find", "type") count only with the shape of an argument after them.
# After a line break only spaces and tabs: `\n\s*+` would rescan a run of line breaks from
# each of them (quadratic); the next `\n` is tried from its own start.
_SEP = r"(?:(?:[;|`]|&&|\|\||&|\$\()\s*+|\n[^\S\n]*+)"
_SHELL_CLEAR = (
    r"(?:whoami|uname|wget|curl|ncat|netcat|bash|zsh|ksh|powershell|pwsh|cmd\.exe|nslookup"
    r"|chmod|chown|mkfifo|telnet|socat|base64|ifconfig|ipconfig|systeminfo|tasklist|crontab"
    r"|useradd|nohup|certutil|bitsadmin|mshta|rundll32|regsvr32|wscript|cscript|python[23]?"
    r"|perl|php|sudo|passwd|pwd|sleep\s++\d++|net\s++(?:user|localgroup|use|share))\b"
)
_SHELL_AMBIGUOUS = (
    r"(?:cat|ls|id|rm|echo|ping|sleep|sh|nc|cmd|dir|type|net|env|printf|head|tail|more|kill"
    r"|reboot|shutdown|find|grep|awk|sed|touch|cp|mv|ssh|scp|ftp|tftp|dig|host|node|ruby"
    r"|lua|export|set)(?:\s++[-/$\\~.%'\"]|\s*+[;|&>`)]|\s++\w++\s*+[;|&>])"
)
_COMMAND_COMMON = (
    r"\$\(\s*+(?:" + _SHELL_CLEAR + "|" + _SHELL_AMBIGUOUS + ")",
    r"(?:[;|&]\s*+|\n[^\S\n]*+)(?:/usr)?/bin/(?:ba|z|k|da|c)?sh\b",
    r"(?:(?:^|[;|&])\s*+|\n[^\S\n]*+)(?:rm\s++-[rf]{1,2}\s++/|wget\s++\S+\s*+[;|&]"
    r"|curl\s++\S[^\n]{0,300}?\|\s*+(?:ba)?sh\b|nc\s++(?:-[a-z]++\s++)*\S+\s++\d++\s++-e\b"
    r"|mkfifo\b|bash\s++-i\b)",
    r">\s*+&?\s*+/dev/(?:tcp|udp)/",
    r"\$\{IFS\}|\$IFS\$\d|\$\{PATH:0:1\}",
    r"[;|&]\s*+(?:cat|type|more)\s++(?:/etc/|c:\\)",
    r"[;|&]\s*+(?:dir|type|copy|del|cd)\s++[a-z]:\\",
)
COMMAND_STRICT = re.compile(
    "|".join(
        [
            *(f"(?:{p})" for p in _COMMAND_COMMON),
            _SEP + _SHELL_CLEAR,
            _SEP + _SHELL_AMBIGUOUS,
            _SEP + r"(?:id|ls|dir|set|env|reboot)\s*+$",
            r"`[^`]*+`|\$\((?:(?!\$\()[^)])*+\)",
        ]
    )
)
COMMAND_FREE_TEXT = re.compile("|".join(f"(?:{p})" for p in _COMMAND_COMMON))

# --- path traversal ---------------------------------------------------------------------------
_TRAVERSAL_COMMON = (
    r"(?<!\.)(?:\.{2,}+[/\\]++){2,}|(?:[/\\]\.\.){2,}",
    r"(?:^|[\s\"'=:])(?:/|\\)?(?:etc/(?:passwd|shadow|hosts|group|issue)|proc/self/"
    r"|windows[/\\](?:win\.ini|system32)|boot\.ini|\.ssh/|\.aws/credentials|\.env\b"
    r"|var/log/|WEB-INF/web\.xml)",
    r"(?:^|[\s\"'=])[a-z]:\\(?:windows|winnt|users|inetpub|boot\.ini)",
    r"\bfile:/{1,3}",
    r"\.\.(?:%2f|%5c|0x2f|0x5c|\\x2f|%c0%af|%e0%80%af|%u2215|/)",
    r"\x00",
    r"\bphp://(?:filter|input)|\bzip://|\bphar://|\bexpect://",
)
TRAVERSAL_STRICT = _rx(
    *_TRAVERSAL_COMMON,
    r"(?:^|[/\\])\.\.(?:[/\\]|$)",
    r"^(?:/|\\\\|[a-z]:\\)",
)
TRAVERSAL_FREE_TEXT = _rx(*_TRAVERSAL_COMMON[:2], *_TRAVERSAL_COMMON[4:])

# --- server-side template injection -----------------------------------------------------------
_JINJA_EXPRESSION = (
    r"__\w+__|\bconfig\b|\brequest\b|\bself\b|\bcycler\b|\bjoiner\b|\blipsum\b"
    r"|\bnamespace\b|\battr\s*+\(|\bimport\b|\bos\.|\bpopen\b|\bsubprocess\b|\bgetattr\b"
    r"|\|\s*+(?:attr|safe|e|format|join|map|select)\b|\[\s*+['\"]|[*+/%-]|\(\)"
)
_EL_EXPRESSION = r"\bT\s*+\(|getClass|Runtime|ProcessBuilder|exec|\bclass\b|\bnew\b|[*+/-]|\("
_TEMPLATE_COMMON = (
    _span(r"\{\{", r"\}\}", _JINJA_EXPRESSION),
    r"\{%-?\s*+(?:import|include|extends|set|load|debug|raw|from|macro|call|filter|for"
    r"|if|with|block|autoescape|csrf_token|url|now|templatetag|ssi)\b",
    _span(r"\$\{", r"\}", _EL_EXPRESSION),
    "|".join(
        _span(opening, closing)
        for opening, closing in (
            (r"#\{", r"\}"),
            (r"\*\{", r"\}"),
            (r"@\{", r"\}"),
            (r"<%", r"%>"),
            (r"\[\[", r"\]\]"),
            (r"\{\{=", r"\}\}"),
        )
    ),
    r"<#(?:assign|import|include|if|list)\b|\$\{?\s*+(?:class|freemarker)\.",
    r"\{php\}|\{\$smarty|\{/?literal\}|#set\s*+\(\s*+\$|#foreach\s*+\(|\$\w++\.getClass\(",
    r"__(?:class|mro|subclasses|globals|builtins|init|import|base|bases|dict|reduce)__",
)
TEMPLATE_STRICT = _rx(*_TEMPLATE_COMMON, r"\{\{|\}\}|\{%|%\}|\$\{")
TEMPLATE_FREE_TEXT = _rx(*_TEMPLATE_COMMON)

# --- NoSQL operator injection (strings; keys are checked in the guard) ---------------------------
NOSQL_STRICT = _rx(
    r"[\{,]\s*+[\"']?\$(?:ne|eq|gt|gte|lt|lte|in|nin|regex|where|exists|or|and|not|nor"
    r"|expr|function|accumulator|elemMatch|size|type|mod|all|jsonSchema|text|lookup"
    r"|merge|out)\b[\"']?\s*+:",
    r"\bthis\.\w++\s*+(?:==|!=|\.match\s*+\()|\bsleep\s*+\(\s*+\d++\s*+\)\s*+(?:\|\||&&|;)",
    r"(?:^|[;'\"])\s*+(?:\|\||&&)\s*+(?:['\"]\s*+)?\d*+\s*+(?:==|!=)",
    r"\[\s*+\$(?:ne|gt|lt|regex|where|exists|in|nin)\s*+\]",
    r"^\s*+\$(?:where|ne|gt|regex|expr|function)\b",
    # JavaScript for a `$where` clause: '; return true; var x='
    r"['\"]\s*+;\s*+return\s++(?:true|false|\d|this\b)|;\s*+var\s++\w++\s*+=\s*+['\"]",
)
NOSQL_FREE_TEXT = _rx(r"\[\s*+\$(?:ne|gt|lt|regex|where|exists|in|nin)\s*+\]")


class Rule(Protocol):
    """A compiled pattern, or anything else that answers `search(text)` (SQL_TOKENS)."""

    def search(self, text: str, /) -> object: ...


# SQL by its token shapes (actions/edge/guard/sqltokens.py: sub-selects, CASE WHEN, HAVING,
# ORDER BY n, SQL functions and casts in any spelling): strict fields only, tried last so
# the categories of what the patterns refuse stay as they were.
SQL_TOKENS = TokenRule()

STRICT: tuple[tuple[str, Rule], ...] = (
    (SQL, SQL_STRICT),
    (SCRIPT, SCRIPT_STRICT),
    (TEMPLATE, TEMPLATE_STRICT),
    (COMMAND, COMMAND_STRICT),
    (TRAVERSAL, TRAVERSAL_STRICT),
    (NOSQL, NOSQL_STRICT),
    (SQL, SQL_TOKENS),
)
FREE_TEXT: tuple[tuple[str, Rule], ...] = (
    (SQL, SQL_FREE_TEXT),
    (SCRIPT, SCRIPT_FREE_TEXT),
    (TEMPLATE, TEMPLATE_FREE_TEXT),
    (COMMAND, COMMAND_FREE_TEXT),
    (TRAVERSAL, TRAVERSAL_FREE_TEXT),
    (NOSQL, NOSQL_FREE_TEXT),
)

# --- keys ----------------------------------------------------------------------------------------
POLLUTING_KEYS = frozenset({"__proto__", "constructor", "prototype"})
# Keys that mean something to Django's ORM if a dict ever reached filter(**...) (CVE-2025-64459)
# or to MongoDB-style query engines: no legitimate payload key looks like them.
_NOSQL_KEY = re.compile(r"^\s*\$|^(?:_connector|_negated)$|\w__(?:[a-z]+)$|\[\s*\$")


def key_category(key: str) -> str | None:
    if key in POLLUTING_KEYS or key.strip().lower() in POLLUTING_KEYS or "__proto__" in key:
        return PROTOTYPE
    if _NOSQL_KEY.search(key):
        return NOSQL
    return None


MAX_EXPANSION_SLACK = 64


def category_of(text: str, *, prose: bool) -> str | None:
    """The first category whose rules match `text` (a string value), else None."""
    if is_plain(text):
        return None
    candidates = (text,) if (norm := normalise(text)) == text else (text, norm)
    if len(norm) > 2 * len(text) + MAX_EXPANSION_SLACK:
        # NFKC makes 18 characters of U+FDFA and 3 of `⑴`: a string that grows this much
        # is built to multiply the rules' work, not prose (decoding only shrinks text).
        return OVERSIZE
    if "/*" in norm:
        candidates = (*candidates, *_sql_comment_forms(norm))
    for name, pattern in FREE_TEXT if prose else STRICT:
        if any(pattern.search(candidate) for candidate in candidates):
            return name
    return None
