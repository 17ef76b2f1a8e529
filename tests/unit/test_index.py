"""The index and the code agree, and the public contract is pinned."""

import re
from pathlib import Path

import pytest

from actions.contract.index import contract_files, render
from actions.contract.registry import ActionSpec, Registry, registry
from release.states import State
from tenants.roles import ROLE_NAMES

ROOT = Path(__file__).resolve().parents[2]
# The action files, user and admin channel (see actions.contract.registry).
ACTION_FILES = sorted(
    [
        *(ROOT / "actions" / "catalog").rglob("*.py"),
        *(ROOT / "adminchannel" / "actions").rglob("*.py"),
    ]
)
DECLARATION = re.compile(r'(@action|dummy)\(\s*(?:#[^\n]*\n\s*)?"([a-z0-9_.]+)"')

REQUIRED = """
system.health system.index auth.login auth.refresh auth.logout auth.forgot auth.reset
auth.change_password auth.me tenants.create tenants.list tenants.get tenants.config.get
tenants.config.set tenants.owners.list tenants.owners.delegate tenants.owners.revoke
tenants.primary.transfer tenants.members.invite tenants.members.remove superadmin.promote
superadmin.demote connectors.list connectors.subscribe connectors.unsubscribe logs.tenant.query
logs.errors.query audit.admin.query release.status release.request dashboard.summary demo.reset
workspaces.list workspaces.create workspaces.update workspaces.delete providers.list
credentials.list credentials.create credentials.get credentials.delete node_templates.list
node_templates.create flows.list flows.create flows.get flows.update flows.delete runs.start
runs.get runs.list runs.cancel webhooks.ingest leads.list leads.create leads.get leads.update
leads.delete leads.activities.list conversations.list conversations.get messages.send
automations.list automations.create automations.update automations.execute analytics.cta.record
analytics.cta.export finance.invoices.list finance.invoices.create wellness.metrics.list
wellness.metrics.record notifications.list notifications.mark_read activity.feed.list
""".split()
ADMIN = {
    n
    for n in REQUIRED
    if n.split(".")[0]
    in {"tenants", "superadmin", "connectors", "logs", "audit", "release", "dashboard", "demo"}
}


def declarations() -> list[tuple[str, str, str]]:
    """(kind, name, the declaration's first line) for every declaration in the catalog."""
    found = []
    for path in ACTION_FILES:
        text = path.read_text()
        for match in DECLARATION.finditer(text):
            first_line = text[match.start() :].split("\n", 1)[0]
            found.append((match.group(1), match.group(2), first_line))
    return found


def test_the_index_holds_the_whole_planned_action_set():
    missing = set(REQUIRED) - {spec.name for spec in registry.all()}
    assert not missing
    for spec in registry.all():
        expected = "admin" if spec.name in ADMIN else "user"
        if spec.name in REQUIRED:
            assert spec.channel == expected, spec.name


def test_code_and_index_agree():
    declared = declarations()
    names = [name for _, name, _ in declared]
    assert sorted(names) == sorted(spec.name for spec in registry.all()), "entry without code"
    assert len(names) == len(set(names))
    for kind, name, first_line in declared:
        spec = registry.get(name)
        if kind == "dummy":
            assert spec.todo and spec.state == State.DUMMY, name
            assert "# TODO" in first_line, f"{name}: a dummy's declaration is marked # TODO"
        else:
            assert spec.handler is not None and spec.state != State.DUMMY, name
            assert "# TODO" not in first_line


def test_no_todo_marker_outside_a_dummy_declaration():
    for path in ACTION_FILES:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if "# TODO" in line:
                assert "dummy(" in line, f"{path.name}:{number}: # TODO without a dummy"


def test_the_real_actions_are_the_ones_the_backbone_promises():
    real = {spec.name for spec in registry.all() if not spec.todo}
    assert {"system.health", "system.index", "auth.login"} <= real


def test_every_entry_is_complete():
    for spec in registry.all():
        described = spec.describe()
        assert described["summary"] and set(spec.roles) <= set(ROLE_NAMES)
        assert described["input_schema"]["type"] == "object"
        assert described["input_schema"].get("additionalProperties") is False, spec.name
        assert described["queue"] == f"switchboard.{spec.channel}.actions"


def _dummy(name: str = "x.y", version: int = 1) -> ActionSpec:
    from actions.contract.payloads import Empty

    return ActionSpec(name=name, version=version, channel="user", summary="s", input=Empty,
                      output=Empty, roles=("member",), state=State.DUMMY)  # fmt: skip


def test_the_registry_fails_loudly():
    local = Registry()
    spec = _dummy()
    local.add(spec)
    with pytest.raises(ValueError, match="declared twice"):
        local.add(spec)
    with pytest.raises(Exception, match="No action named"):
        local.get("x.z")
    with pytest.raises(ValueError, match="domain.verb"):
        local.add(_dummy("Bad"))


def test_the_registry_answers_the_newest_version_unless_asked_for_one():
    local = Registry()
    for version in (2, 3, 1):  # declared in any order
        local.add(_dummy(version=version))
    assert local.get("x.y").version == 3
    assert local.get("x.y", 1).version == 1
    assert "x.y" in local and "x.z" not in local
    local.remove("x.y", 3)
    assert local.get("x.y").version == 2
    with pytest.raises(Exception, match="No action named"):
        local.get("x.y", 3)
    local.remove("x.y", 2)
    local.remove("x.y", 1)
    assert "x.y" not in local
    with pytest.raises(Exception, match="No action named"):
        local.get("x.y")


def test_the_committed_contract_matches_the_index():
    root = Path(__file__).resolve().parents[2] / "contract"
    files = contract_files()
    committed = {p.relative_to(root).as_posix() for p in root.rglob("*.json")}
    assert committed == set(files), "run `make contract` and commit the result"
    for relative, document in files.items():
        assert (root / relative).read_text() == render(document), relative
