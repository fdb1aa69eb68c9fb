"""Test stand-in for the reference's `assay` Python package (assay-ai 1.24).

The real package is on PyPI, which this build environment cannot reach, so
the end-to-end tests put this directory on PYTHONPATH instead. It follows
the reference's store and emit_receipt as written up in
../shared/spec/runtime.md sections 1.4 and 1.5, and nothing more:

* home is ~/.assay (or the legacy ~/.loom/assay when only that exists);
  like the reference it does NOT read ASSAY_HOME;
* traces live in <home>/<UTC date>/<trace_id>.jsonl, found by searching
  every day directory;
* ASSAY_TRACE_ID is read on every call; a change switches trace and resets
  the per-process seq counter to 0;
* base fields receipt_id (r_ + 12 hex), type, timestamp (isoformat, +00:00),
  schema_version, seq, optional parent_receipt_id; then data merged over;
* the store adds _trace_id, _stored_at and _store_seq, allocating _store_seq
  under an exclusive flock on <home>/.store_seq after re-validating the
  whole corpus (trace_*.jsonl): well-formed JSON, integer and unique
  _store_seq, increasing within each file, no stamped/unstamped mix;
* lines are json.dumps(receipt) with default separators, O_APPEND.
"""

from .store import emit_receipt, get_home, StoreCorruptError  # noqa: F401
