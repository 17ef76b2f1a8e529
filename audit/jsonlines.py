"""JSON-lines files that several processes append to while another rotates them.

The standard library's rotating handlers rename the file from inside one process and
keep writing through their own descriptor, so with several writer processes lines land
in the rotated file, or are lost when two of them rotate. Here:

- every line is one `write()` on a descriptor opened with O_APPEND: the kernel appends
  it atomically at the end, whoever else is writing;
- writers hold a *shared* `flock` on the directory's `.lock` file while they check that
  their descriptor still points at the live file (same inode; else they reopen) and
  write; the rotator holds the *exclusive* lock while it renames the live file to its
  dated name. So once `rotate` returns, no line goes to the dated file any more, and
  since rotation is a rename (never copy + truncate) no line is lost or written twice;
- a dated name that already exists gets a numeric suffix instead of being overwritten.

Within one process a thread lock serialises writers: `flock` locks belong to the open
file description, which threads share, so one thread's unlock would drop another's.
After `fork` the child drops the parent's descriptors (shared descriptions again).

A process keeps at most MAX_OPEN_FILES append descriptors and as many lock descriptors,
the least recently used closed first, so that a process writing for 1,000 tenants
neither runs out of descriptors nor reopens every file when its cache is full.
"""

import fcntl
import json
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

LOCK_NAME = ".lock"
MAX_OPEN_FILES = 256  # cached append (and lock) descriptors per process, least recent out
_DATED = re.compile(r"^(?P<base>.+)-(?P<day>\d{4}-\d{2}-\d{2})(?:\.(?P<n>\d+))?\.jsonl$")

_thread_lock = threading.Lock()
_files: OrderedDict[Path, tuple[int, int]] = OrderedDict()  # live path -> (fd, inode)
_locks: OrderedDict[Path, int] = OrderedDict()  # directory -> fd of its lock file


def _forget_after_fork() -> None:
    global _thread_lock
    _thread_lock = threading.Lock()
    for fd, _ in _files.values():
        _close(fd)
    for fd in _locks.values():
        _close(fd)
    _files.clear()
    _locks.clear()


os.register_at_fork(after_in_child=_forget_after_fork)


def _close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


# Characters that Python's str.splitlines (and some log shippers) take for line breaks
# although JSON leaves them raw: escaped, so that a line is a line to every reader. They
# can only occur inside JSON strings, where the escape means the same character.
_LINE_BREAKS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_LINE_BREAK = re.compile("[\x85\u2028\u2029]")


def encode(entry: dict[str, Any]) -> bytes:
    """One line: compact JSON (newlines inside values are escaped by JSON itself, and so
    are the other characters some readers split lines at)."""
    text = json.dumps(entry, separators=(",", ":"), ensure_ascii=False, default=str)
    text = _LINE_BREAK.sub(lambda m: _LINE_BREAKS[m.group()], text)
    return (text + "\n").encode("utf-8")


def append(path: Path, entry: dict[str, Any]) -> None:
    """Append `entry` as one line to the live file `path` (created with its directory)."""
    data = encode(entry)
    with _thread_lock:
        lock_fd = _lock_fd(path.parent)
        fcntl.flock(lock_fd, fcntl.LOCK_SH)
        try:
            fd = _live_fd(path)
            view = memoryview(data)
            while view:  # a regular file takes it in one go; loop for the pathological case
                view = view[os.write(fd, view) :]
        finally:
            fcntl.flock(lock_fd, fcntl.LOCK_UN)


def _lock_fd(directory: Path) -> int:
    """The lock descriptor of `directory`. Called under _thread_lock, when this process
    holds no flock: closing a cached one cannot drop a lock held."""
    fd = _locks.get(directory)
    if fd is not None:
        _locks.move_to_end(directory)
        return fd
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o640)
    if len(_locks) >= MAX_OPEN_FILES:
        _close(_locks.popitem(last=False)[1])
    _locks[directory] = fd
    return fd


def _live_fd(path: Path) -> int:
    """The cached descriptor of `path`, reopened if the file was rotated away."""
    cached = _files.get(path)
    if cached is not None:
        try:
            if os.stat(path).st_ino == cached[1]:
                _files.move_to_end(path)
                return cached[0]
        except FileNotFoundError:
            pass
        _close(cached[0])
        del _files[path]
    if len(_files) >= MAX_OPEN_FILES:
        _close(_files.popitem(last=False)[1][0])
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    _files[path] = (fd, os.fstat(fd).st_ino)
    return fd


def rotate(path: Path, *, day: date) -> Path | None:
    """Close the live file under its dated name (`<stem>-<day>.jsonl`); None if empty."""
    with _thread_lock:
        lock_fd = _lock_fd(path.parent)
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        try:
            try:
                if os.stat(path).st_size == 0:
                    return None
            except FileNotFoundError:
                return None
            target = _free_name(path, day)
            os.rename(path, target)
            return target
        finally:
            fcntl.flock(lock_fd, fcntl.LOCK_UN)


def _free_name(path: Path, day: date) -> Path:
    stem = path.name.removesuffix(".jsonl")
    target = path.with_name(f"{stem}-{day.isoformat()}.jsonl")
    n = 1
    while target.exists():  # rotated twice the same day: never overwrite (that loses lines)
        target = path.with_name(f"{stem}-{day.isoformat()}.{n}.jsonl")
        n += 1
    return target


def dated_files(path: Path) -> list[tuple[date, Path]]:
    """The rotated files of live file `path`, oldest first."""
    stem = path.name.removesuffix(".jsonl")
    found = []
    if not path.parent.is_dir():
        return []
    for candidate in path.parent.iterdir():
        match = _DATED.match(candidate.name)
        if match and match["base"] == stem:
            found.append((date.fromisoformat(match["day"]), int(match["n"] or 0), candidate))
    return [(d, p) for d, _, p in sorted(found)]


def remove_expired(path: Path, *, today: date, keep_days: int) -> list[Path]:
    """Delete rotated files dated more than `keep_days` days before `today`."""
    oldest_kept = today - timedelta(days=keep_days)
    removed = []
    for day, candidate in dated_files(path):
        if day < oldest_kept:
            candidate.unlink(missing_ok=True)
            removed.append(candidate)
    return removed


def read_newest_first(path: Path, *, not_before: date | None = None) -> Iterator[dict]:
    """Every entry of the live file and its rotated files, newest file first, each file
    read from its end. Lines that are not JSON (a torn disk, a hand edit) are skipped."""
    dated = [p for d, p in reversed(dated_files(path)) if not_before is None or d >= not_before]
    files = [path, *dated]
    for file in files:
        try:
            raw = file.read_bytes()
        except FileNotFoundError:  # rotated or expired between listing and reading
            continue
        for line in reversed(raw.splitlines()):
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                yield entry
