"""The release process against the real database (its audit log and requests), on copies
of the repository's release files: transitions, build refusals, promote and revert,
requests, and `not_released` from the running environment's manifest."""

import shutil
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.models import AdminAuditEntry
from release import lifecycle, manifests, runtime, services
from release.models import ReleaseRequest
from tests.tenancy import make_tenant


@pytest.fixture
def files(tmp_path) -> services.Files:
    """Copies of release/lifecycle.json and release/manifests/ (the committed ones stay)."""
    shutil.copy(lifecycle.STATES_FILE, tmp_path / "lifecycle.json")
    shutil.copytree(manifests.MANIFEST_DIR, tmp_path / "manifests")
    return services.Files(
        states=tmp_path / "lifecycle.json",
        manifests=tmp_path / "manifests",
        build=tmp_path / "build",
    )


def release(files: services.Files, *argv: str, by: str = "dev@release.test") -> None:
    call_command(
        "release",
        "--by", by,
        "--states-file", str(files.states),
        "--manifest-dir", str(files.manifests),
        "--build-dir", str(files.build),
        *argv,
    )  # fmt: skip


def test_a_transition_is_stored_and_records_who_when_why(files):
    why = f"users accepted it {uuid.uuid4()}"
    release(files, "transition", "release.request", "potential_release", "--why", "it has tests")
    release(files, "transition", "release.request", "under_user_test", "--why", "QA it")
    release(files, "transition", "release.request", "released", "--why", why)
    assert lifecycle.stored_states(files.states)["release.request@1"] == "released"
    entry = AdminAuditEntry.objects.filter(action="release.transition").order_by("-seq").first()
    assert (entry.actor, entry.reason, entry.outcome) == ("dev@release.test", why, "ok")
    assert entry.payload_summary == {
        "action": "release.request@1",
        "from": "under_user_test",
        "to": "released",
    }
    assert entry.at is not None


def test_a_forbidden_transition_is_refused_with_the_reason(files, capsys):
    before = files.states.read_bytes()
    with pytest.raises(CommandError, match="from dummy an action may go to under_dev") as err:
        release(files, "transition", "leads.create", "released", "--why", "ship it")
    assert err.value.returncode == 1
    assert files.states.read_bytes() == before
    entry = AdminAuditEntry.objects.filter(action="release.transition").order_by("-seq").first()
    assert (entry.outcome, entry.payload_summary["action"]) == ("refused", "leads.create@1")


def test_build_refuses_a_dummy_for_hosted_live(files):
    before = manifests.path_of("hosted_live", "", files.manifests).read_bytes()
    with pytest.raises(services.ReleaseRefused) as err:
        services.release_select(environment="hosted_live", refs=["leads.create"], files=files)
    assert err.value.reasons == [
        "leads.create@1: state dummy does not fit hosted_live (accepts released)"
    ]
    # a selection made before its state was known is refused by the build too
    selection = {"environment": "hosted_live", "actions": {"leads.create@1": {}}}
    manifests.save(selection, "selected", files.manifests)
    with pytest.raises(CommandError, match="leads.create@1: state dummy does not fit hosted_live"):
        release(files, "build", "--env", "hosted_live")
    assert manifests.path_of("hosted_live", "", files.manifests).read_bytes() == before


def test_promote_then_revert_restores_the_previous_manifest_byte_for_byte(files):
    release(files, "transition", "auth.forgot", "potential_release", "--why", "tested")
    release(files, "transition", "auth.forgot", "under_user_test", "--why", "users try it")
    release(files, "select", "--env", "local_qa", "auth.forgot")
    release(files, "build", "--env", "local_qa")
    hosted = manifests.path_of("hosted_test", "", files.manifests)
    before = hosted.read_bytes()
    release(files, "promote", "--from", "local_qa", "--to", "hosted_test", "auth.forgot")
    promoted = manifests.load("hosted_test", "", files.manifests)["actions"]
    assert "auth.forgot@1" in promoted and hosted.read_bytes() != before
    assert manifests.path_of("hosted_test", "previous", files.manifests).read_bytes() == before
    release(files, "revert", "--env", "hosted_test", "--why", "users changed their mind")
    assert hosted.read_bytes() == before
    entry = AdminAuditEntry.objects.filter(action="release.revert").order_by("-seq").first()
    assert entry.reason == "users changed their mind"
    diff = services.release_diff(first="local_qa", second="hosted_test", files=files)
    assert diff.data["only_in_local_qa"] == ["auth.forgot@1"]


def test_promote_refuses_what_does_not_fit_the_target(files):
    with pytest.raises(services.ReleaseRefused, match="not released in local_dev"):
        services.release_promote(
            source="local_dev", target="hosted_live", refs=["auth.me"], by="x", files=files
        )


def test_a_build_that_releases_a_requested_action_marks_it_done_and_tells_the_requester(files):
    t = make_tenant("rel")
    request = services.release_request_create(
        tenant=t["slug"], requester=t["owner"].email, action="auth.forgot", version=1,
        environment="local_qa", note="our users forget passwords",
    )  # fmt: skip
    release(files, "transition", "auth.forgot", "potential_release", "--why", "tested")
    status = services.release_status(files=files)
    row = next(r for r in status["actions"] if r["action"] == "auth.forgot@1")
    assert str(request.id) in [r["id"] for r in row["open_requests"]]
    release(files, "select", "--env", "local_qa", "auth.forgot")
    release(files, "build", "--env", "local_qa", by="builder@release.test")
    request.refresh_from_db()
    assert (request.status, request.done_by) == (
        ReleaseRequest.Status.RELEASED,
        "builder@release.test",
    )
    told = AdminAuditEntry.objects.filter(action="release.request.done", tenant=t["slug"]).get()
    assert told.payload_summary["requester"] == t["owner"].email
    assert told.payload_summary["action"] == "auth.forgot@1"


def test_status_shows_each_action_in_each_environment_and_drift(files):
    document = manifests.load("hosted_live", "", files.manifests)
    document["actions"]["auth.login@1"]["hash"] = "0" * 16  # as if auth_login.py changed since
    manifests.save(document, "", files.manifests)
    status = services.release_status(files=files)
    login = next(r for r in status["actions"] if r["action"] == "auth.login@1")
    assert login["environments"]["hosted_live"]["drift"] is True
    assert login["environments"]["hosted_test"]["drift"] is False
    assert login["environments"]["local_test"]["released"] is True  # runs everything
    assert len(status["actions"]) == len(services.registry.all())
    with pytest.raises(SystemExit) as exit_:
        release(files, "status")
    assert exit_.value.code == 3


@pytest.fixture
def as_hosted_test(settings):
    settings.SWITCHBOARD_ENV = "hosted_test"
    runtime.forget()
    yield
    runtime.forget()


def test_an_action_missing_from_the_manifest_answers_not_released(as_hosted_test, client):
    from actions.contract.registry import registry

    assert runtime.is_released(registry.get("auth.login"))
    assert not runtime.is_released(registry.get("auth.forgot"))
    env = {"api": "1", "id": str(uuid.uuid4()), "action": "auth.forgot", "tenant": "platform"}
    response = client.post(
        "/api/v1/actions",
        data={**env, "payload": {"email": "a@b.test"}},
        content_type="application/json",
    )
    assert response.json()["error"]["code"] == "not_released", response.json()
    index = client.get("/api/v1/index").json()
    released = {a["name"]: a["released"] for a in index["actions"]}
    assert released["auth.login"] and not released["auth.forgot"]
