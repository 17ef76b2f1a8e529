"""JSON-lines log files: several processes append while another rotates; retention."""

import json
import multiprocessing
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from audit import files, jsonlines, rotation
from audit.error_log import error_record

WRITERS = 4
LINES_PER_WRITER = 25_000


def _write(path, writer: int, count: int, start) -> None:
    start.wait()
    for i in range(count):
        jsonlines.append(path, {"w": writer, "i": i, "pad": "x" * (i % 97)})


def _all_lines(path) -> list[dict]:
    lines = []
    for file in [path] + [p for _, p in jsonlines.dated_files(path)]:
        if file.exists():
            lines += [json.loads(line) for line in file.read_bytes().splitlines()]
    return lines


def test_concurrent_writers_lose_and_duplicate_nothing_across_rotations(tmp_path):
    path = tmp_path / "tenants" / "acme" / "actions.jsonl"
    ctx = multiprocessing.get_context("fork")
    start = ctx.Event()
    procs = [
        ctx.Process(target=_write, args=(path, w, LINES_PER_WRITER, start)) for w in range(WRITERS)
    ]
    for proc in procs:
        proc.start()
    started = time.monotonic()
    start.set()
    rotations, day = [], date(2024, 1, 1)
    while any(proc.is_alive() for proc in procs):
        time.sleep(0.01)
        target = jsonlines.rotate(path, day=day)
        if target is not None:
            rotations.append(target)
        day += timedelta(days=len(rotations) % 2)  # some days rotated twice: suffixed names
    for proc in procs:
        proc.join()
        assert proc.exitcode == 0
    elapsed = time.monotonic() - started

    lines = _all_lines(path)
    keys = [(line["w"], line["i"]) for line in lines]
    assert len(keys) == WRITERS * LINES_PER_WRITER  # nothing lost, nothing written twice
    assert set(keys) == {(w, i) for w in range(WRITERS) for i in range(LINES_PER_WRITER)}
    assert len(rotations) >= 3, f"only {len(rotations)} rotations in {elapsed:.2f} s"
    assert len({p.name for p in rotations}) == len(rotations)  # no dated file overwritten
    # A closed file gets no more lines: per writer, every line of an earlier file comes
    # before every line of a later one (a stale descriptor would break this).
    ranges = {w: [] for w in range(WRITERS)}
    for file in [*rotations, path]:
        if not file.exists():  # the last rotation came after the last line
            continue
        per_writer = {}
        for line in file.read_bytes().splitlines():
            entry = json.loads(line)
            per_writer.setdefault(entry["w"], []).append(entry["i"])
        for w, numbers in per_writer.items():
            ranges[w].append((min(numbers), max(numbers)))
    for w, spans in ranges.items():
        assert all(a[1] < b[0] for a, b in zip(spans, spans[1:], strict=False)), w
    print(f"{WRITERS}x{LINES_PER_WRITER} lines, {len(rotations)} rotations, {elapsed:.2f} s")


def _write_many(root, slugs, writer: int, count: int, start) -> None:
    start.wait()
    for i in range(count):
        slug = slugs[(i * 7 + writer) % len(slugs)]
        jsonlines.append(root / slug / "actions.jsonl", {"w": writer, "i": i, "t": slug})


def test_writers_of_many_tenants_keep_every_line_whole_and_in_its_file(tmp_path, monkeypatch):
    """Four processes writing for more tenants than they keep descriptors (least recently
    used closed), while each tenant's log is rotated: none lost, twice, torn or misplaced."""
    monkeypatch.setattr(jsonlines, "MAX_OPEN_FILES", 5)  # inherited by the forked writers
    slugs = [f"t{n:02d}" for n in range(30)]
    ctx = multiprocessing.get_context("fork")
    start = ctx.Event()
    count = 1500
    procs = [
        ctx.Process(target=_write_many, args=(tmp_path, slugs, w, count, start))
        for w in range(WRITERS)
    ]
    for proc in procs:
        proc.start()
    start.set()
    day = date(2024, 1, 1)
    while any(proc.is_alive() for proc in procs):
        for slug in slugs[::3]:
            jsonlines.rotate(tmp_path / slug / "actions.jsonl", day=day)
        day += timedelta(days=1)
        time.sleep(0.005)
    for proc in procs:
        proc.join()
        assert proc.exitcode == 0
    seen = []
    for slug in slugs:
        for entry in _all_lines(tmp_path / slug / "actions.jsonl"):  # a torn line: ValueError
            assert entry["t"] == slug
            seen.append((entry["w"], entry["i"]))
    assert len(seen) == WRITERS * count
    assert set(seen) == {(w, i) for w in range(WRITERS) for i in range(count)}


def test_a_process_keeps_its_most_recent_descriptors_only(tmp_path, monkeypatch):
    jsonlines._forget_after_fork()  # closes what earlier tests left open
    monkeypatch.setattr(jsonlines, "MAX_OPEN_FILES", 3)
    paths = [tmp_path / f"t{n}" / "actions.jsonl" for n in range(10)]
    for path in paths:
        jsonlines.append(path, {"n": 1})
    jsonlines.append(paths[7], {"n": 2})  # the most recent
    jsonlines.append(paths[0], {"n": 2})  # reopened: paths[8] is the oldest now
    assert list(jsonlines._files) == [paths[9], paths[7], paths[0]]
    assert list(jsonlines._locks) == [p.parent for p in (paths[9], paths[7], paths[0])]
    assert [len(_all_lines(p)) for p in paths] == [2, 1, 1, 1, 1, 1, 1, 2, 1, 1]


def test_a_writer_moves_to_the_new_file_once_rotation_returns(tmp_path):
    path = tmp_path / "errors.jsonl"
    jsonlines.append(path, {"n": 1})  # this process now holds a descriptor of the file
    dated = jsonlines.rotate(path, day=date(2024, 5, 1))
    jsonlines.append(path, {"n": 2})
    assert dated.name == "errors-2024-05-01.jsonl"
    assert [json.loads(x)["n"] for x in dated.read_text().splitlines()] == [1]
    assert [json.loads(x)["n"] for x in path.read_text().splitlines()] == [2]
    assert jsonlines.rotate(path, day=date(2024, 5, 1)).name == "errors-2024-05-01.1.jsonl"
    assert jsonlines.rotate(path, day=date(2024, 5, 2)) is None  # empty: nothing to close


@pytest.fixture
def logs(settings, tmp_path):
    settings.SWITCHBOARD_LOGS_DIR = str(tmp_path)
    return tmp_path


def test_retention_keeps_seven_days_and_removes_day_eight(logs):
    live = files.tenant_log_path("acme")
    live.parent.mkdir(parents=True)
    today = date(2024, 6, 20)
    for age in range(1, 11):
        (live.parent / f"actions-{today - timedelta(days=age)}.jsonl").write_text("{}\n")
    live.write_text('{"at": "today"}\n')

    now = datetime(2024, 6, 20, 0, 0, 5, tzinfo=ZoneInfo("UTC"))
    result = rotation.logs_rotate(now=now)

    kept = {p.name for p in live.parent.glob("actions-*.jsonl")}
    # Yesterday now has two files: the one made by hand and the one just closed.
    assert kept == {f"actions-{today - timedelta(days=age)}.jsonl" for age in range(1, 8)} | {
        f"actions-{today - timedelta(days=1)}.1.jsonl"
    }
    assert {p.split("/")[-1] for p in result["removed"]} == {
        f"actions-{today - timedelta(days=age)}.jsonl" for age in (8, 9, 10)
    }
    assert not live.exists()


def test_midnight_is_midnight_in_the_configured_time_zone(logs, settings):
    settings.TIME_ZONE = "Pacific/Auckland"
    error_record(component="worker", trace_id="t1", code="internal_error", message="m")
    # 11:00 UTC on 1 March is 00:00 on 2 March in Auckland: the closed day is 1 March.
    now = datetime(2024, 3, 1, 11, 0, 1, tzinfo=ZoneInfo("UTC"))
    result = rotation.logs_rotate(now=now)
    assert [p.split("/")[-1] for p in result["rotated"]] == ["errors-2024-03-01.jsonl"]


def test_the_beat_schedule_rotates_at_midnight_on_the_maintenance_queue(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["logs-rotate"]
    assert entry["task"] == "switchboard.maintenance.logs_rotate"
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({0}, {0})
    assert entry["options"]["queue"] == "switchboard.maintenance"
    assert settings.CELERY_TIMEZONE == settings.TIME_ZONE
