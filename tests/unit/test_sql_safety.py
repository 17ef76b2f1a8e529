"""No SQL built from strings, no client dict as query keywords (docs/security.md).

The first line of defence against SQL injection is that input only ever reaches SQL as a
bound parameter, and that no payload key becomes an ORM keyword (`filter(**payload)` is
how Django's CVE-2025-64459, `_connector`/`_negated`, was exploitable). This test reads
every Python file of the project and fails on:
- SQL entry points (`.execute`, `.executemany`, `.raw`, `.extra`, `RawSQL`) whose SQL is an
  f-string, `%`-formatting, `+`-concatenation or `str.format` of a string literal, directly
  or through a variable assigned so in the same function;
- ORM lookups (`filter`, `exclude`, `get`, `get_or_create`, `update_or_create`, `Q`,
  `annotate`, `aggregate`, `order_by` ...) called with `**` of anything but a dict literal
  whose keys are written in the code.
Nothing is allow-listed. psycopg.sql composition (`sql.SQL(...).format(sql.Identifier(...))`,
deploy/preflight.py) is safe and is not matched: its receiver is not a string literal.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIP_DIRS = {".venv", "var", "node_modules", ".git", "__pycache__", "migrations"}
SQL_CALLS = {"execute", "executemany", "raw", "extra", "RawSQL", "mogrify"}
LOOKUP_CALLS = {
    "filter",
    "exclude",
    "get",
    "get_or_create",
    "update_or_create",
    "Q",
    "annotate",
    "aggregate",
    "order_by",
}
# `client.get(url, **headers)` (Django's test client, HTTP sessions) is not a lookup.
HTTP_RECEIVERS = ("client", "session")


def _project_files():
    for path in sorted(ROOT.rglob("*.py")):
        if not SKIP_DIRS & set(path.relative_to(ROOT).parts):
            yield path


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _built_string(node: ast.expr) -> bool:
    """An f-string with values, `"..." % x`, `"..." + x`, or `"...".format(x)`."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
        sides = (node.left, node.right)
        return any(
            isinstance(s, ast.Constant) and isinstance(s.value, str) or _built_string(s)
            for s in sides
        )
    if isinstance(node, ast.Call) and _name(node.func) == "format":
        receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
        return isinstance(receiver, ast.Constant) and isinstance(receiver.value, str)
    return False


def _assignments(scope: ast.AST) -> dict[str, list[ast.expr]]:
    found: dict[str, list[ast.expr]] = {}
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found.setdefault(target.id, []).append(node.value)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            found.setdefault(node.target.id, []).append(
                ast.BinOp(left=ast.Constant(""), op=node.op, right=node.value)
            )
    return found


def violations(source: str, filename: str = "<src>") -> list[str]:
    tree = ast.parse(source, filename)
    out = []
    scopes = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    scope_of = {}
    for scope in [tree, *scopes]:  # innermost function wins (walked later)
        for node in ast.walk(scope):
            scope_of[id(node)] = scope
    assigned = {id(s): _assignments(s) for s in [tree, *scopes]}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        where = f"{filename}:{node.lineno}"
        if name in SQL_CALLS and node.args:
            sql = node.args[0]
            if _built_string(sql):
                out.append(f"{where}: SQL built from strings in {name}()")
            elif isinstance(sql, ast.Name):
                values = assigned[id(scope_of[id(node)])].get(sql.id, [])
                if any(_built_string(v) for v in values):
                    out.append(f"{where}: SQL built from strings (via {sql.id}) in {name}()")
        if name in LOOKUP_CALLS and not _http_call(node.func):
            for kw in node.keywords:
                if kw.arg is None and not _code_keyed_dict(kw.value):
                    out.append(f"{where}: {name}(**...) with a dict whose keys are not in code")
    return out


def _http_call(func: ast.expr) -> bool:
    receiver = func.value if isinstance(func, ast.Attribute) else None
    label = _name(receiver) if receiver is not None else ""
    return label.lower().endswith(HTTP_RECEIVERS)


def _code_keyed_dict(node: ast.expr) -> bool:
    """A dict literal whose keys are literals or f-strings of code (not client data)."""
    if not isinstance(node, ast.Dict):
        return False
    return all(isinstance(k, ast.Constant | ast.JoinedStr) for k in node.keys)


def test_no_sql_built_from_strings_and_no_client_dicts_as_lookups():
    found = []
    for path in _project_files():
        found += violations(path.read_text(), str(path.relative_to(ROOT)))
    assert not found, "\n".join(found)


def test_the_scan_catches_what_it_is_for():
    bad = """
def a(cursor, name, payload, qs):
    cursor.execute(f"SELECT * FROM t WHERE name = '{name}'")
    cursor.execute("SELECT * FROM t WHERE name = '%s'" % name)
    cursor.execute("SELECT * FROM t WHERE name = '" + name + "'")
    cursor.execute("SELECT * FROM t WHERE name = '{}'".format(name))
    sql = f"DELETE FROM t WHERE id = {name}"
    cursor.execute(sql)
    qs.raw("SELECT * FROM t WHERE x = %s" % name)
    qs.filter(**payload)
    qs.exclude(**payload["where"])
    Q(**{name: 1})
    client.get("/x", **headers)
"""
    assert len(violations(bad)) == 9
    good = """
def b(cursor, name, qs, sql, ident):
    cursor.execute("SELECT * FROM t WHERE name = %s", [name])
    cursor.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(ident)))
    qs.filter(name=name, **{"status": "won"})
    qs.filter(**{f"{qs.lookup}__in": [1]})
    qs.create(**{"name": name})
"""
    assert violations(good) == []
