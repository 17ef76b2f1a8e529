"""The release process (ARCHITECTURE.md section 9; docs/release.md): transitions, selection,
build, promote, revert, diff, status and requests.

Entry points (`manage.py release <verb>`, the admin actions `release.request` and
`release.status`, the operator dashboard) call these and format the answer. Every change
writes its admin audit entry (who, when, why) in the transaction of the change. The files
they read and write default to the repository's (release/lifecycle.json,
release/manifests/); tests pass their own.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from actions.contract.registry import ActionSpec, registry
from audit.admin_log import admin_audit_write
from config.environments import ENVIRONMENTS
from release import artifact, lifecycle, manifests, policy, runtime
from release.models import ReleaseRequest
from release.states import State


class ReleaseRefused(Exception):
    """A release step that would break a rule; `reasons` says each broken rule."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


@dataclass(frozen=True)
class Files:
    """Where the release state lives: the repository's files unless a caller says."""

    states: Path = lifecycle.STATES_FILE
    manifests: Path = manifests.MANIFEST_DIR
    build: Path = artifact.BUILD_DIR


REPOSITORY = Files()


@dataclass
class Outcome:
    """What a step did, for the command's output (`--json` prints `data`)."""

    lines: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


def spec_of(ref: str) -> ActionSpec:
    """`name` (its newest version) or `name@version`; UnknownAction otherwise."""
    name, _, version = ref.partition("@")
    return registry.get(name, int(version) if version else None)


def _environment(name: str) -> str:
    if name not in ENVIRONMENTS:
        raise ReleaseRefused([f"unknown environment {name!r}; one of {', '.join(ENVIRONMENTS)}"])
    return name


def state_of(spec: ActionSpec, stored: dict[str, State]) -> State:
    """Its state as `stored` says (the registry's, read at load, is the default)."""
    return lifecycle.effective_state(
        declared=spec.state, stored=stored.get(_key(spec)), todo=spec.todo
    )


def _key(spec: ActionSpec) -> str:
    return lifecycle.key(spec.name, spec.version)


def _audit(*, by: str, action: str, summary: dict, reason: str = "", outcome: str = "ok"):
    return admin_audit_write(
        actor=by, tenant=None, action=action, outcome=outcome, payload_summary=summary,
        reason=reason, channel="release",
    )  # fmt: skip


# --- lifecycle ---------------------------------------------------------------------------


def release_transition(
    *, ref: str, target: str, why: str, by: str, files: Files = REPOSITORY
) -> Outcome:
    """Move an action to another lifecycle state, if the table allows it."""
    spec = spec_of(ref)
    stored = lifecycle.stored_states(files.states)
    current = state_of(spec, stored)
    summary = {"action": _key(spec), "from": str(current), "to": target}
    try:
        if not why.strip():
            raise lifecycle.ForbiddenTransition("say why (--why)")
        allowed = lifecycle.check_transition(current, State(target), todo=spec.todo)
    except (lifecycle.ForbiddenTransition, ValueError) as exc:
        _audit(by=by, action="release.transition", summary=summary, reason=why, outcome="refused")
        raise ReleaseRefused([f"{_key(spec)}: {current} -> {target} refused: {exc}"]) from None
    with transaction.atomic():
        _audit(by=by, action="release.transition", summary=summary, reason=why)
        lifecycle.write_states({**stored, _key(spec): State(target)}, files.states)
    return Outcome(
        [f"{_key(spec)}: {current} -> {target} ({allowed})", f"why: {why}"],
        {**summary, "why": why, "by": by},
    )


# --- selection, build, promote, revert ---------------------------------------------------


def _selection(environment: str, files: Files) -> list[str]:
    selected = manifests.path_of(environment, "selected", files.manifests)
    if selected.is_file():
        return list(manifests.load(environment, "selected", files.manifests)["actions"])
    return list(manifests.load(environment, "", files.manifests)["actions"])


def _save_selection(environment: str, keys: list[str], files: Files) -> None:
    document = {"environment": environment, "actions": {k: {} for k in sorted(set(keys))}}
    manifests.save(document, "selected", files.manifests)


def _refusals(environment: str, specs: list[ActionSpec], files: Files) -> list[str]:
    stored = lifecycle.stored_states(files.states)
    found = []
    for spec in specs:
        why = policy.refusal(
            state=state_of(spec, stored), environment=environment, has_tests=bool(spec.test_path)
        )
        if why:
            found.append(f"{_key(spec)}: {why}")
    return found


def release_select(*, environment: str, refs: list[str], files: Files = REPOSITORY) -> Outcome:
    """Add actions to what the next build of `environment` releases."""
    _environment(environment)
    specs = [spec_of(ref) for ref in refs]
    refused = _refusals(environment, specs, files)
    if refused:
        raise ReleaseRefused(refused)
    keys = sorted(set(_selection(environment, files)) | {_key(s) for s in specs})
    _save_selection(environment, keys, files)
    return Outcome([f"{environment}: selected {', '.join(keys)}"], {"selected": keys})


def release_unselect(*, environment: str, refs: list[str], files: Files = REPOSITORY) -> Outcome:
    _environment(environment)
    drop = {_key(spec_of(ref)) for ref in refs}
    keys = sorted(set(_selection(environment, files)) - drop)
    _save_selection(environment, keys, files)
    return Outcome(
        [f"{environment}: selected {', '.join(keys) or '(nothing)'}"], {"selected": keys}
    )


def _pinned(spec: ActionSpec) -> dict[str, str]:
    return {"hash": spec.code_hash, "path": spec.path}


def release_build(
    *, environment: str, by: str, files: Files = REPOSITORY, write_artifact: bool = True
) -> Outcome:
    """Pin the selection into the environment's manifest (the one it replaces is kept as
    `<env>.previous.json`) and write the artifact; refuses a selection that does not fit."""
    _environment(environment)
    specs = [spec_of(key) for key in _selection(environment, files)]
    refused = _refusals(environment, specs, files)
    if refused:
        raise ReleaseRefused(refused)
    document = {
        "environment": environment,
        "actions": {_key(spec): _pinned(spec) for spec in specs},
    }
    with transaction.atomic():
        changed = manifests.save(document, "", files.manifests)
        done = _mark_requests_done(environment, document, by)
        _audit(
            by=by,
            action="release.build",
            summary={"environment": environment, "actions": sorted(document["actions"])},
        )
    lines = [
        f"{environment}: manifest {'written' if changed else 'unchanged'}, "
        f"{len(specs)} action(s) released: {', '.join(sorted(document['actions'])) or '-'}"
    ]
    data: dict[str, Any] = {"environment": environment, "manifest": document, "changed": changed}
    if write_artifact:
        target = artifact.artifact_write(
            manifest=document, selected=specs, every=registry.all(), out=files.build
        )
        lines.append(f"artifact: {target}")
        data["artifact"] = str(target)
    lines += [f"request {r['id']} by {r['requester']} done: {r['action']}" for r in done]
    data["requests_done"] = done
    return Outcome(lines, data)


def release_promote(
    *, source: str, target: str, refs: list[str], by: str, files: Files = REPOSITORY
) -> Outcome:
    """Release in `target` what `source` releases (all of it, or the named actions, added
    to what `target` has), at the hashes `source` pinned."""
    _environment(source), _environment(target)
    origin = manifests.load(source, "", files.manifests)["actions"]
    keys = [_key(spec_of(ref)) for ref in refs] if refs else sorted(origin)
    missing = [k for k in keys if k not in origin]
    specs = [spec_of(k) for k in keys if k in origin]
    refused = [f"{k}: not released in {source}" for k in missing]
    refused += _refusals(target, specs, files)
    refused += [
        f"{d['action']}: its code changed since {source} pinned it (drift)"
        for d in runtime.drift({"actions": {k: origin[k] for k in keys if k in origin}})
    ]
    if refused:
        raise ReleaseRefused(refused)
    current = manifests.load(target, "", files.manifests)["actions"] if refs else {}
    document = {"environment": target, "actions": {**current, **{k: origin[k] for k in keys}}}
    with transaction.atomic():
        changed = manifests.save(document, "", files.manifests)
        _save_selection(target, list(document["actions"]), files)
        done = _mark_requests_done(target, document, by)
        _audit(
            by=by,
            action="release.promote",
            summary={"from": source, "to": target, "actions": keys},
        )
    head = f"{source} -> {target}: {', '.join(keys) or '-'}"
    return Outcome(
        [f"{head} ({'changed' if changed else 'unchanged'})"]
        + [f"request {r['id']} by {r['requester']} done: {r['action']}" for r in done],
        {"from": source, "to": target, "actions": keys, "changed": changed, "requests_done": done},
    )


def release_revert(
    *, environment: str, ref: str | None, by: str, why: str = "", files: Files = REPOSITORY
) -> Outcome:
    """Go back to the previous manifest (byte for byte; the one left becomes the previous,
    so a second revert goes forward again), or, for one action, to its previous entry."""
    _environment(environment)
    current_path = manifests.path_of(environment, "", files.manifests)
    previous_path = manifests.path_of(environment, "previous", files.manifests)
    if not previous_path.is_file():
        raise ReleaseRefused([f"{environment} has no previous manifest to revert to"])
    with transaction.atomic():
        if ref is None:
            before, after = current_path.read_bytes(), previous_path.read_bytes()
            current_path.write_bytes(after)
            previous_path.write_bytes(before)
            keys = sorted(manifests.load(environment, "", files.manifests)["actions"])
            what = "the previous manifest"
        else:
            key = _key(spec_of(ref))
            now = manifests.load(environment, "", files.manifests)
            was = manifests.load(environment, "previous", files.manifests)["actions"]
            entries = {k: v for k, v in now["actions"].items() if k != key}
            if key in was:
                entries[key] = was[key]
            manifests.save({"environment": environment, "actions": entries}, "", files.manifests)
            keys = sorted(entries)
            what = f"{key} as in the previous manifest"
        _save_selection(environment, keys, files)
        _audit(
            by=by,
            action="release.revert",
            summary={"environment": environment, "action": ref or "(all)"},
            reason=why,
        )
    return Outcome(
        [f"{environment}: reverted to {what}; released: {', '.join(keys) or '-'}"],
        {"environment": environment, "actions": keys},
    )


def release_diff(*, first: str, second: str, files: Files = REPOSITORY) -> Outcome:
    _environment(first), _environment(second)
    a = manifests.load(first, "", files.manifests)["actions"]
    b = manifests.load(second, "", files.manifests)["actions"]
    data = {
        f"only_in_{first}": sorted(set(a) - set(b)),
        f"only_in_{second}": sorted(set(b) - set(a)),
        "different": [
            {"action": k, first: a[k]["hash"], second: b[k]["hash"]}
            for k in sorted(set(a) & set(b))
            if a[k]["hash"] != b[k]["hash"]
        ],
    }
    lines = [f"- {k} (only in {first})" for k in data[f"only_in_{first}"]]
    lines += [f"+ {k} (only in {second})" for k in data[f"only_in_{second}"]]
    lines += [f"~ {d['action']}: {d[first]} -> {d[second]}" for d in data["different"]]
    return Outcome(lines or [f"{first} and {second} release the same actions"], data)


# --- status ------------------------------------------------------------------------------


def release_status(*, files: Files = REPOSITORY) -> dict[str, Any]:
    """Every action x environment: state, version, hash, drift, open requests. The one call
    for `release status`, the `release.status` action and the operator dashboard."""
    stored = lifecycle.stored_states(files.states)
    loaded = {e: manifests.load(e, "", files.manifests)["actions"] for e in ENVIRONMENTS}
    selected = {e: set(_selection(e, files)) for e in ENVIRONMENTS}
    open_requests: dict[str, list[dict]] = {}
    for request in ReleaseRequest.objects.filter(status=ReleaseRequest.Status.PENDING):
        open_requests.setdefault(f"{request.action}@{request.version}", []).append(
            request_describe(request)
        )
    rows = []
    for spec in registry.all():
        key, state = _key(spec), state_of(spec, stored)
        where = {}
        for environment in ENVIRONMENTS:
            pinned = loaded[environment].get(key)
            where[environment] = {
                "released": environment in policy.ALLOW_ALL or pinned is not None,
                "pinned": pinned["hash"] if pinned else None,
                "drift": bool(pinned) and pinned["hash"] != spec.code_hash,
                "selected": key in selected[environment],
                "refusal": policy.refusal(
                    state=state, environment=environment, has_tests=bool(spec.test_path)
                ),
            }
        rows.append(
            {
                "action": key,
                "name": spec.name,
                "version": spec.version,
                "channel": str(spec.channel),
                "state": str(state),
                "todo": spec.todo,
                "has_tests": bool(spec.test_path),
                "hash": spec.code_hash,
                "environments": where,
                "open_requests": open_requests.get(key, []),
            }
        )
    gone = {
        e: [d for d in runtime.drift({"actions": loaded[e]}) if d["current"] is None]
        for e in ENVIRONMENTS
    }
    return {"environments": list(ENVIRONMENTS), "actions": rows, "missing": gone}


# --- requests ----------------------------------------------------------------------------


def request_describe(request: ReleaseRequest) -> dict[str, Any]:
    return {
        "id": str(request.id),
        "tenant": request.tenant,
        "requester": request.requester,
        "action": request.action,
        "version": request.version,
        "environment": request.environment,
        "note": request.note,
        "status": request.status,
        "requested_at": request.requested_at,
        "done_at": request.done_at,
    }


def release_request_create(
    *, tenant: str, requester: str, action: str, version: int, environment: str, note: str
) -> ReleaseRequest:
    """An owner asks for an action version to be released in an environment."""
    spec = registry.get(action, version)  # UnknownAction for a name the index lacks
    return ReleaseRequest.objects.create(
        tenant=tenant, requester=requester, action=spec.name, version=spec.version,
        environment=_environment(environment), note=note,
    )  # fmt: skip


def release_requests(*, tenant: str | None = None) -> list[ReleaseRequest]:
    found = ReleaseRequest.objects.all()
    return list(found.filter(tenant=tenant) if tenant is not None else found)


def _mark_requests_done(environment: str, document: dict, by: str) -> list[dict[str, Any]]:
    """Requests for what `document` now releases in `environment` are done; each requester
    is told in the admin audit log (their tenant's entry)."""
    done = []
    pending = ReleaseRequest.objects.select_for_update().filter(
        environment=environment, status=ReleaseRequest.Status.PENDING
    )
    for request in pending:
        if f"{request.action}@{request.version}" not in document["actions"]:
            continue
        request.status = ReleaseRequest.Status.RELEASED
        request.done_at, request.done_by = timezone.now(), by
        request.save(update_fields=["status", "done_at", "done_by"])
        admin_audit_write(
            actor=by,
            tenant=request.tenant,
            action="release.request.done",
            outcome="ok",
            payload_summary={
                "request": str(request.id),
                "requester": request.requester,
                "action": f"{request.action}@{request.version}",
                "environment": environment,
            },
            reason=f"released in {environment} for {request.requester}",
            channel="release",
        )
        done.append(request_describe(request))
    return done
