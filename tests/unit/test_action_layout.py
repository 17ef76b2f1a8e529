"""The folder of functions: one file per action, named after it, by domain; its tests in
the file of the same stem. The registry checks the layout when it imports the actions."""

import sys
import uuid
from pathlib import Path

import pytest

from actions.contract import registry as registry_module
from actions.contract.registry import ROOT, Channel, LayoutError, Registry, discover, load_catalog

registry = load_catalog()

DECLARE = """
from actions.contract.payloads import Empty
from actions.contract.registry import dummy

dummy("{name}", channel="user", summary="s", input=Empty, output=Empty, roles=("member",))
"""


@pytest.mark.parametrize("spec", registry.all(), ids=lambda s: s.name)
def test_every_action_is_in_the_file_named_after_it(spec):
    package = "adminchannel/actions" if spec.channel == Channel.ADMIN else "actions/catalog"
    assert spec.path == f"{package}/{spec.domain}/{spec.stem}.py"
    assert (ROOT / spec.path).is_file()
    assert spec.module == spec.path.removesuffix(".py").replace("/", ".")


@pytest.mark.parametrize("spec", [s for s in registry.all() if not s.todo], ids=lambda s: s.name)
def test_every_real_action_has_its_test_file(spec):
    tests = "tests/adminchannel" if spec.channel == Channel.ADMIN else "tests/actions"
    assert spec.test_path == f"{tests}/{spec.domain}/test_{spec.stem}.py", (
        f"{spec.name} is real: write {spec.expected_test_path}"
    )
    assert "def test_" in (ROOT / spec.test_path).read_text()


def test_a_dummy_has_no_test_file_until_it_is_written():
    spec = registry.get("leads.create")
    assert spec.todo and spec.test_path is None
    assert spec.expected_test_path == "tests/actions/leads/test_leads_create.py"


# --- the registry fails loudly at import on a broken layout ------------------------------


def _package(tmp_path: Path, monkeypatch, files: dict[str, str]) -> str:
    """A throwaway action package on sys.path, with a fresh registry to fill."""
    name = f"fake_actions_{uuid.uuid4().hex[:8]}"
    for relative, text in {"__init__.py": "", **files}.items():
        path = tmp_path / name / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry_module, "registry", Registry())
    return name


def _discover(name: str) -> list[str]:
    try:
        return discover({name: Channel.USER}, registry_module.registry)
    finally:
        for module in [m for m in sys.modules if m.startswith(name)]:
            del sys.modules[module]


def test_a_well_formed_package_is_discovered(tmp_path, monkeypatch):
    name = _package(
        tmp_path,
        monkeypatch,
        {
            "dom/__init__.py": "",
            "dom/_models.py": "SHARED = 1\n",
            "dom/dom_a_b.py": DECLARE.format(name="dom.a.b"),
        },
    )
    assert _discover(name) == [f"{name}.dom.dom_a_b"]
    spec = registry_module.registry.get("dom.a.b")
    assert spec.module == f"{name}.dom.dom_a_b" and spec.path.endswith("dom/dom_a_b.py")


def test_a_file_that_declares_no_action_fails(tmp_path, monkeypatch):
    name = _package(tmp_path, monkeypatch, {"dom/__init__.py": "", "dom/dom_x.py": "X = 1\n"})
    with pytest.raises(LayoutError, match="declares no action"):
        _discover(name)


def test_an_action_in_a_file_not_named_after_it_fails(tmp_path, monkeypatch):
    name = _package(
        tmp_path,
        monkeypatch,
        {"dom/__init__.py": "", "dom/dom_create.py": DECLARE.format(name="dom.update")},
    )
    with pytest.raises(LayoutError, match="must be declared in dom_update.py"):
        _discover(name)


def test_two_actions_in_one_file_fail(tmp_path, monkeypatch):
    two = DECLARE.format(name="dom.a") + DECLARE.format(name="dom.b").split("\n", 3)[3]
    name = _package(tmp_path, monkeypatch, {"dom/__init__.py": "", "dom/dom_a.py": two})
    with pytest.raises(LayoutError, match="one action per file"):
        _discover(name)


def test_an_action_in_another_domains_package_fails(tmp_path, monkeypatch):
    name = _package(
        tmp_path,
        monkeypatch,
        {"other/__init__.py": "", "other/dom_a.py": DECLARE.format(name="dom.a")},
    )
    with pytest.raises(LayoutError, match="belongs in package"):
        _discover(name)


def test_an_action_declared_in_a_models_file_fails(tmp_path, monkeypatch):
    name = _package(
        tmp_path,
        monkeypatch,
        {"dom/__init__.py": "", "dom/_models.py": DECLARE.format(name="dom.a")},
    )
    with pytest.raises(LayoutError, match="only action files may"):
        _discover(name)


def test_an_admin_action_on_the_user_side_fails(tmp_path, monkeypatch):
    admin = DECLARE.format(name="dom.a").replace('channel="user"', 'channel="admin"')
    name = _package(tmp_path, monkeypatch, {"dom/__init__.py": "", "dom/dom_a.py": admin})
    with pytest.raises(LayoutError, match="admin channel"):
        _discover(name)
