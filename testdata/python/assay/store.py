"""The reference's trace store, as runtime.md 1.4-1.5 describes it (stand-in)."""

import fcntl
import glob
import json
import os
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path


class StoreCorruptError(RuntimeError):
    """The corpus breaks the _store_seq rules; the reference refuses to write."""


def get_home() -> Path:
    home = Path.home() / ".assay"
    legacy = Path.home() / ".loom" / "assay"
    if not home.exists() and legacy.is_dir():
        return legacy
    return home


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


class _Store:
    def __init__(self):
        self.lock = threading.RLock()
        self.trace_id = None
        self.seq = 0

    def start_trace(self, trace_id=None):
        if trace_id is None:
            trace_id = "trace_%s_%s" % (
                datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S"),
                uuid.uuid4().hex[:8],
            )
        self.trace_id = trace_id
        self.seq = 0
        return trace_id

    def trace_path(self, home: Path) -> Path:
        for day in sorted(p for p in home.iterdir() if p.is_dir()) if home.is_dir() else []:
            p = day / (self.trace_id + ".jsonl")
            if p.is_file():
                return p
        return home / datetime.now(timezone.utc).strftime("%Y-%m-%d") / (self.trace_id + ".jsonl")

    def append(self, entry: dict) -> dict:
        home = get_home()
        home.mkdir(parents=True, exist_ok=True)
        path = self.trace_path(home)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(home / ".store_seq", "a+") as seqf:
            fcntl.flock(seqf.fileno(), fcntl.LOCK_EX)
            try:
                highest = _validate_corpus(home)
                seqf.seek(0)
                raw = seqf.read().strip()
                nxt = int(raw) if raw else 0
                if highest is not None and highest >= nxt:
                    nxt = highest + 1
                entry["_trace_id"] = self.trace_id
                entry["_stored_at"] = _now()
                entry["_store_seq"] = nxt
                line = json.dumps(entry) + "\n"
                fd = os.open(str(path), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                try:
                    os.write(fd, line.encode("utf-8"))
                    os.fsync(fd)
                finally:
                    os.close(fd)
                seqf.seek(0)
                seqf.truncate()
                seqf.write(str(nxt + 1))
                seqf.flush()
            finally:
                fcntl.flock(seqf.fileno(), fcntl.LOCK_UN)
        return entry


def _validate_corpus(home: Path):
    """Re-validate every trace_*.jsonl; return the highest _store_seq seen."""
    seen = set()
    highest = None
    stamped_files = unstamped_files = 0
    for name in sorted(glob.glob(str(home / "**" / "trace_*.jsonl"), recursive=True)):
        last = None
        stamped = unstamped = 0
        with open(name, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except ValueError as e:
                    raise StoreCorruptError("%s:%d: malformed JSON: %s" % (name, n, e))
                if not isinstance(obj, dict):
                    raise StoreCorruptError("%s:%d: not an object" % (name, n))
                if "_store_seq" not in obj:
                    unstamped += 1
                    continue
                stamped += 1
                s = obj["_store_seq"]
                if not isinstance(s, int) or isinstance(s, bool):
                    raise StoreCorruptError("%s:%d: non-integer _store_seq %r" % (name, n, s))
                if s in seen:
                    raise StoreCorruptError("%s:%d: duplicate _store_seq %d" % (name, n, s))
                if last is not None and s <= last:
                    raise StoreCorruptError("%s:%d: _store_seq %d not increasing" % (name, n, s))
                seen.add(s)
                last = s
                highest = s if highest is None or s > highest else highest
        if stamped and unstamped:
            raise StoreCorruptError("%s: mixed stamped and unstamped receipts" % name)
        stamped_files += bool(stamped)
        unstamped_files += bool(unstamped)
    if unstamped_files and stamped_files:
        raise StoreCorruptError("mixed store: stamped and unstamped trace files")
    if unstamped_files and not stamped_files:
        raise StoreCorruptError("legacy unstamped store; migrate with python -m assay.store_seq_migration")
    return highest


_store = _Store()


def emit_receipt(type, data=None, *, receipt_id=None, timestamp=None,
                 schema_version="3.0", seq=None, parent_receipt_id=None):
    with _store.lock:
        env_trace = os.environ.get("ASSAY_TRACE_ID")
        if _store.trace_id is None or (env_trace and env_trace != _store.trace_id):
            _store.start_trace(env_trace)
        if seq is None:
            seq = _store.seq
        _store.seq += 1
        entry = {
            "receipt_id": receipt_id or "r_" + uuid.uuid4().hex[:12],
            "type": type,
            "timestamp": timestamp or _now(),
            "schema_version": schema_version,
            "seq": seq,
        }
        if parent_receipt_id is not None:
            entry["parent_receipt_id"] = parent_receipt_id
        if data:
            entry.update(data)
        return _store.append(entry)
