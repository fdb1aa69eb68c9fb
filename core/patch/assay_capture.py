# assay:capture-shim v1 -- written by `assay patch`; `assay patch --undo` removes it.
"""assay capture shim (stdlib only).

Importing this module wraps the installed LLM SDKs (openai, anthropic,
google-genai, google-generativeai, litellm) so every call appends a
reference-format ``model_call`` receipt, with the ``callsite_id`` of the
calling line, to the trace named by ``ASSAY_TRACE_ID`` in ``$ASSAY_HOME``
(default ``~/.assay``). The store rules are assay's: one JSONL file per trace
under ``<home>/<UTC date>/``, each line stamped with ``_trace_id``,
``_stored_at`` and a store-wide ``_store_seq`` allocated under an exclusive
lock on ``<home>/.store_seq``. Prompts and responses are never stored, only
their SHA-256 content hashes (``sha256-jcs-v1``). Under a recorder
(``ASSAY_RECORDER`` names its socket; ``assay run`` sets it) each receipt is
sent to it instead, and it stores and seals the receipt before answering. A
receipt that cannot be written is reported on stderr; the program carries on.
"""
import ast
import contextvars
import datetime
import functools
import hashlib
import inspect
import json
import os
import re
import secrets
import sys
import threading
import time

_ROOT_REL = "__ASSAY_ROOT_REL__"  # the scanned project root, relative to this file
_HERE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.normpath(os.path.join(_HERE, _ROOT_REL))
_SOURCE = "assay.shim.python"
_ALG = "sha256-jcs-v1"
_inside = contextvars.ContextVar("assay_capture_inside", default=False)
_lock = threading.Lock()
_seq = {}
_own_trace = None


# ---- canonical JSON (the hashing recipe shared with assay's Go capture) ----

def _plain(v):
    """Turn SDK objects (pydantic models, TypedDicts, namespaces) into JSON data."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    for m in ("model_dump", "to_dict", "dict"):
        f = getattr(v, m, None)
        if callable(f):
            try:
                return _plain(f())
            except Exception:
                pass
    if hasattr(v, "__dict__"):
        return {k: _plain(x) for k, x in vars(v).items() if not k.startswith("_")}
    return str(v)


def _canon(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            raise ValueError("non-finite number")
        if v == int(v) and abs(v) < 1e21:
            return str(int(v))
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ",".join(_canon(x) for x in v) + "]"
    if isinstance(v, dict):
        keys = sorted(v, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + _canon(v[k]) for k in keys) + "}"
    return _canon(str(v))


def _hash(v):
    return hashlib.sha256(_canon(_plain(v)).encode("utf-8")).hexdigest()


def _input_hash(inp, system=None):
    o = {"input": inp}
    if system is not None:
        o["system"] = system
    try:
        return _hash(o)
    except Exception:
        return None


# ---- call sites ----

_call_starts = {}


def _starts(path):
    """Map (end line, end column) of every call in a file to its start line,
    so the runtime line is the one the scanner reports even where Python
    3.11+ reports the line of `.create` in a fluent chain."""
    m = _call_starts.get(path)
    if m is None:
        m = {}
        try:
            with open(path, "rb") as fh:
                tree = ast.parse(fh.read(), path)
            for n in ast.walk(tree):
                if isinstance(n, ast.Call) and getattr(n, "end_lineno", None):
                    m[(n.end_lineno, n.end_col_offset)] = n.lineno
        except Exception:
            pass
        _call_starts[path] = m
    return m


def _line_of(frame):
    line = frame.f_lineno
    positions = getattr(frame.f_code, "co_positions", None)
    if positions is None:
        return line
    try:
        pos = list(positions())[frame.f_lasti // 2]
    except Exception:
        return line
    if pos[1] is None or pos[3] is None:
        return line
    return _starts(frame.f_code.co_filename).get((pos[1], pos[3]), line)


def _in_project(path):
    ap = os.path.abspath(path)
    if "site-packages" in ap or "dist-packages" in ap or ap == os.path.abspath(__file__):
        return False
    return ap == _ROOT or ap.startswith(_ROOT + os.sep)


def _callsite(depth=2):
    """The first frame in the project above the wrapper (else the caller)."""
    try:
        f = sys._getframe(depth)
    except ValueError:
        return None
    first = f
    while f is not None:
        fn = f.f_code.co_filename
        if fn and not fn.startswith("<") and _in_project(fn):
            break
        f = f.f_back
    if f is None:
        f = first
    fn = f.f_code.co_filename
    if not fn or fn.startswith("<"):
        return None
    ap = os.path.abspath(fn)
    if ap == _ROOT or ap.startswith(_ROOT + os.sep):
        rel = os.path.relpath(ap, _ROOT)
    else:
        try:
            rel = os.path.relpath(ap)
        except ValueError:
            rel = ap
    line = _line_of(f)
    cid = hashlib.sha256(("%s:%d" % (rel, line)).encode("utf-8")).hexdigest()[:12]
    return cid, rel, line


# ---- the store ----

def _home():
    h = os.environ.get("ASSAY_HOME")
    if h:
        return os.path.abspath(h)
    u = os.path.expanduser("~")
    h = os.path.join(u, ".assay")
    legacy = os.path.join(u, ".loom", "assay")
    if not os.path.exists(h) and os.path.isdir(legacy):
        return legacy
    return h


def _trace_id():
    global _own_trace
    t = os.environ.get("ASSAY_TRACE_ID")
    if t:
        return t
    if _own_trace is None:
        _own_trace = "trace_%s_%s" % (datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S"), secrets.token_hex(4))
    return _own_trace


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def _trace_path(home, trace):
    try:
        days = sorted(d for d in os.listdir(home) if re.match(r"^\d{4}-\d{2}-\d{2}$", d))
    except OSError:
        days = []
    for d in days:
        p = os.path.join(home, d, trace + ".jsonl")
        if os.path.isfile(p):
            return p
    return os.path.join(home, datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"), trace + ".jsonl")


def _last_store_seq(path):
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            n = min(size, 64 << 10)
            fh.seek(size - n)
            tail = fh.read(n)
    except OSError:
        return None
    lines = tail.rstrip(b"\n").split(b"\n")
    try:
        v = json.loads(lines[-1]).get("_store_seq")
    except Exception:
        return None
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _line(rec):
    s = json.dumps(rec, ensure_ascii=False, separators=(",", ":"))
    return s.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").replace("\u0085", "\\u0085")


def _append(trace, rec):
    import fcntl

    home = _home()
    if not re.match(r"^[A-Za-z0-9._-]{1,200}$", trace) or trace.startswith("."):
        raise ValueError("invalid ASSAY_TRACE_ID %r" % trace)
    os.makedirs(home, exist_ok=True)
    with _lock:
        path = _trace_path(home, trace)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(os.path.join(home, ".store_seq"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            raw = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            nxt = int(raw) if raw else 0
            last = _last_store_seq(path)
            if last is not None and last >= nxt:
                nxt = last + 1
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(nxt + 1).encode("ascii"), 0)
            rec["_trace_id"] = trace
            rec["_stored_at"] = _now()
            rec["_store_seq"] = nxt
            out = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(out, (_line(rec) + "\n").encode("utf-8"))
                os.fsync(out)
            finally:
                os.close(out)
        finally:
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)


_rec = None  # (socket, reader) to the recorder named by ASSAY_RECORDER


def _recorder_addr():
    a = os.environ.get("ASSAY_RECORDER", "").strip()
    return a[5:] if a.startswith("unix:") else a


def _send(addr, trace, rec):
    """Send the receipt to the run's recorder (assay run sets ASSAY_RECORDER),
    which stores and seals it before it answers."""
    import socket

    global _rec
    frame = (json.dumps({"op": "append", "trace_id": trace, "receipt": rec}, ensure_ascii=True, separators=(",", ":")) + "\n").encode("ascii")
    with _lock:
        ack = None
        for attempt in (0, 1):
            try:
                if _rec is None:
                    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    s.connect(addr)
                    _rec = (s, s.makefile("rb"))
                _rec[0].sendall(frame)
                ack = json.loads(_rec[1].readline() or b"null")
                break
            except (OSError, ValueError):
                if _rec is not None:
                    try:
                        _rec[0].close()
                    except OSError:
                        pass
                    _rec = None
                if attempt:
                    raise
    if not isinstance(ack, dict) or not ack.get("ok"):
        raise RuntimeError("the assay recorder refused the receipt: %s" % (ack or {}).get("error", "no answer"))


_KEYLIKE = re.compile(r"(sk-[A-Za-z0-9_\-]{8,}|AIza[0-9A-Za-z_\-]{20,}|(?i:bearer)\s+[A-Za-z0-9._\-]{8,})")


def _scrub(text):
    return _KEYLIKE.sub("[redacted]", text)


def _emit(data):
    trace = _trace_id()
    with _lock:
        seq = _seq.get(trace, 0)
        _seq[trace] = seq + 1
    rec = {
        "receipt_id": "mcr_" + secrets.token_hex(8),
        "type": "model_call",
        "timestamp": _now(),
        "schema_version": "3.0",
        "seq": seq,
    }
    rec.update(data)
    try:
        addr = _recorder_addr()
        if addr:
            _send(addr, trace, rec)
        else:
            _append(trace, rec)
    except Exception as e:  # evidence is never dropped silently
        sys.stderr.write("assay: receipt not written for a %s call: %s\n" % (data.get("provider", "model"), _scrub(str(e))))


# ---- per-SDK extraction ----

def _get(o, *names, default=None):
    for n in names:
        if o is None:
            return default
        o = o.get(n) if isinstance(o, dict) else getattr(o, n, None)
    return default if o is None else o


def _count(v):
    return len(v) if isinstance(v, (list, tuple)) else (1 if v else 0)


def _openai_chat(kw, resp):
    d = {"api": "chat_completions", "input_hash": _input_hash(_plain(kw.get("messages")))}
    d["message_count"] = _count(kw.get("messages"))
    if resp is not None:
        u = _get(resp, "usage")
        d["usage"] = (_get(u, "prompt_tokens"), _get(u, "completion_tokens"), _get(u, "total_tokens")) if u is not None else None
        ch = _get(resp, "choices")
        first = ch[0] if isinstance(ch, (list, tuple)) and ch else None
        d["finish_reason"] = _get(first, "finish_reason", default="stop")
        d["text"] = _get(first, "message", "content")
    return d


def _openai_responses(kw, resp):
    inp = kw.get("input")
    d = {"api": "responses", "input_hash": _input_hash(_plain(inp), _plain(kw.get("instructions"))), "message_count": _count(inp) if not isinstance(inp, str) else 1}
    if resp is not None:
        u = _get(resp, "usage")
        d["usage"] = (_get(u, "input_tokens"), _get(u, "output_tokens"), _get(u, "total_tokens")) if u is not None else None
        st = _get(resp, "status", default="completed")
        d["finish_reason"] = {"completed": "stop", "incomplete": "length"}.get(st, st)
        d["text"] = _get(resp, "output_text")
    return d


def _anthropic(kw, resp):
    d = {"api": "messages", "input_hash": _input_hash(_plain(kw.get("messages")), _plain(kw.get("system"))), "message_count": _count(kw.get("messages"))}
    if resp is not None:
        u = _get(resp, "usage")
        if u is not None:
            i, o = _get(u, "input_tokens"), _get(u, "output_tokens")
            d["usage"] = (i, o, (i or 0) + (o or 0))
        else:
            d["usage"] = None
        d["finish_reason"] = _get(resp, "stop_reason", default="end_turn")
        blocks = _get(resp, "content") or []
        texts = [_get(b, "text") for b in blocks if _get(b, "type") == "text"]
        d["text"] = "".join(t for t in texts if t) if texts else None
    return d


def _genai(kw, resp):
    cfg = kw.get("config")
    d = {"api": "generate_content", "input_hash": _input_hash(_plain(kw.get("contents")), _plain(_get(cfg, "system_instruction"))), "message_count": _count(kw.get("contents"))}
    if resp is not None:
        u = _get(resp, "usage_metadata")
        d["usage"] = (_get(u, "prompt_token_count"), _get(u, "candidates_token_count"), _get(u, "total_token_count")) if u is not None else None
        cands = _get(resp, "candidates") or []
        fr = _get(cands[0], "finish_reason") if cands else None
        fr = getattr(fr, "name", fr)
        d["finish_reason"] = {"STOP": "stop", "MAX_TOKENS": "length", "SAFETY": "safety"}.get(fr, str(fr).lower() if fr else "stop")
        try:
            d["text"] = resp.text
        except Exception:
            d["text"] = None
    return d


def _record(provider, extract, model, kw, start, resp, err, site, stream, streamed=None):
    try:
        x = extract(kw, None if err is not None or stream else resp)
    except Exception:
        x = {}
    if streamed is not None:
        x.update(streamed)
    usage = x.get("usage")
    data = {
        "provider": provider,
        "model_id": model or "unknown",
        "api": x.get("api", ""),
        "stream": bool(stream),
    }
    if usage and any(v is not None for v in usage):
        i, o, t = (v or 0 for v in usage)
        data.update(input_tokens=i, output_tokens=o, total_tokens=t or i + o, usage_source="provider")
    else:
        data.update(input_tokens=0, output_tokens=0, total_tokens=0, usage_source="absent")
    data["latency_ms"] = int((time.monotonic() - start) * 1000)
    data["finish_reason"] = "error" if err is not None else x.get("finish_reason", "stop")
    data["error"] = _scrub("%s: %s" % (type(err).__name__, err)) if err is not None else None
    data["input_hash"] = x.get("input_hash")
    text = x.get("text")
    data["output_hash"] = _hash(text) if isinstance(text, str) else None
    data["content_hash_alg"] = _ALG
    data["message_count"] = x.get("message_count", 0)
    data["integration_source"] = _SOURCE
    if site is not None:
        data["callsite_id"], data["callsite_file"], data["callsite_line"] = site
    _emit(data)


class _Acc:
    """Accumulates what a streamed answer carried, per provider."""

    def __init__(self, provider):
        self.provider, self.text, self.finish, self.usage = provider, [], None, None
        self._in = self._out = None

    def add(self, ev):
        if self.provider == "anthropic":
            t = _get(ev, "type")
            if t == "message_start":
                self._in = _get(ev, "message", "usage", "input_tokens")
            elif t == "content_block_delta":
                txt = _get(ev, "delta", "text")
                if isinstance(txt, str):
                    self.text.append(txt)
            elif t == "message_delta":
                self.finish = _get(ev, "delta", "stop_reason") or self.finish
                self._out = _get(ev, "usage", "output_tokens")
            if self._in is not None or self._out is not None:
                self.usage = (self._in, self._out, (self._in or 0) + (self._out or 0))
            return
        ch = _get(ev, "choices")
        first = ch[0] if isinstance(ch, (list, tuple)) and ch else None
        txt = _get(first, "delta", "content")
        if isinstance(txt, str):
            self.text.append(txt)
        self.finish = _get(first, "finish_reason") or self.finish
        u = _get(ev, "usage")
        if u is not None:
            self.usage = (_get(u, "prompt_tokens"), _get(u, "completion_tokens"), _get(u, "total_tokens"))

    def result(self):
        d = {"text": "".join(self.text), "finish_reason": self.finish or "stop"}
        d["usage"] = self.usage
        return d


class _Stream:
    """Wraps an SDK stream: the receipt is written when the stream ends
    (exhausted, closed, or failed), with the text and usage it carried."""

    def __init__(self, inner, done):
        self._inner, self._done, self._finished = inner, done, False
        self._it = self._ait = None

    def _finish(self, err=None):
        if not self._finished:
            self._finished = True
            self._done(err)

    def __iter__(self):
        return self

    def __next__(self):
        if self._it is None:
            self._it = iter(self._inner)
        try:
            ev = next(self._it)
        except StopIteration:
            self._finish()
            raise
        except BaseException as e:
            self._finish(e)
            raise
        self._done.acc.add(ev)
        return ev

    def __aiter__(self):
        return self

    async def __anext__(self):
        if self._ait is None:
            self._ait = self._inner.__aiter__()
        try:
            ev = await self._ait.__anext__()
        except StopAsyncIteration:
            self._finish()
            raise
        except BaseException as e:
            self._finish(e)
            raise
        self._done.acc.add(ev)
        return ev

    def __enter__(self):
        if hasattr(self._inner, "__enter__"):
            self._inner.__enter__()
        return self

    def __exit__(self, *exc):
        try:
            if hasattr(self._inner, "__exit__"):
                return self._inner.__exit__(*exc)
        finally:
            self._finish(exc[1])

    async def __aenter__(self):
        if hasattr(self._inner, "__aenter__"):
            await self._inner.__aenter__()
        return self

    async def __aexit__(self, *exc):
        try:
            if hasattr(self._inner, "__aexit__"):
                return await self._inner.__aexit__(*exc)
        finally:
            self._finish(exc[1])

    def close(self):
        try:
            if hasattr(self._inner, "close"):
                self._inner.close()
        finally:
            self._finish()

    def __del__(self):
        try:
            self._finish()
        except Exception:
            pass

    def __getattr__(self, name):
        return getattr(self._inner, name)


def _streamed(provider, extract, model, kw, start, site, resp):
    acc = _Acc(provider)

    def done(err):
        _record(provider, extract, model, kw, start, None, err, site, True, acc.result())

    done.acc = acc
    return _Stream(resp, done)


_CAPTURED = "X-Assay-Captured"


def _marked(provider, kw):
    """The call's keyword arguments with a header telling assay's recording
    gateway (``assay run --gateway`` sets ASSAY_GATEWAY) that this call is
    already recorded here, so it is not recorded twice. Outside a gateway
    the call is left exactly as the program made it."""
    if not os.environ.get("ASSAY_GATEWAY"):
        return kw
    try:
        if provider in ("openai", "anthropic"):
            h = dict(kw.get("extra_headers") or {})
            h[_CAPTURED] = "1"
            return dict(kw, extra_headers=h)
        if provider == "google":
            cfg = kw.get("config")
            if cfg is None or isinstance(cfg, dict):
                cfg = dict(cfg or {})
                ho = dict(cfg.get("http_options") or {})
                ho["headers"] = dict(ho.get("headers") or {}, **{_CAPTURED: "1"})
                cfg["http_options"] = ho
                return dict(kw, config=cfg)
    except Exception:
        pass
    return kw


def _is_stream(kw, resp):
    return bool(kw.get("stream")) and resp is not None and (hasattr(resp, "__iter__") or hasattr(resp, "__aiter__")) and not isinstance(resp, (dict, list, str, bytes))


def _wrap(fn, provider, extract, model_of):
    if getattr(fn, "__assay_wrapped__", False):
        return fn
    # The receipt describes the call as the program made it (kw); the SDK
    # gets it with the captured mark (_marked).

    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def awrapper(*args, **kw):
            if _inside.get():
                return await fn(*args, **kw)
            site = _callsite()
            tok = _inside.set(True)
            start = time.monotonic()
            try:
                resp = await fn(*args, **_marked(provider, kw))
            except BaseException as e:
                _inside.reset(tok)
                _record(provider, extract, model_of(args, kw), kw, start, None, e, site, kw.get("stream"))
                raise
            _inside.reset(tok)
            return _settle(provider, extract, model_of, args, kw, start, site, resp)
        awrapper.__assay_wrapped__ = True
        return awrapper

    @functools.wraps(fn)
    def wrapper(*args, **kw):
        if _inside.get():
            return fn(*args, **kw)
        site = _callsite()
        tok = _inside.set(True)
        start = time.monotonic()
        try:
            resp = fn(*args, **_marked(provider, kw))
        except BaseException as e:
            _inside.reset(tok)
            _record(provider, extract, model_of(args, kw), kw, start, None, e, site, kw.get("stream"))
            raise
        _inside.reset(tok)
        return _settle(provider, extract, model_of, args, kw, start, site, resp)
    wrapper.__assay_wrapped__ = True
    return wrapper


def _settle(provider, extract, model_of, args, kw, start, site, resp):
    """After a call that returned (sync or async alike): record it now, or,
    for a stream, when the stream ends."""
    if _is_stream(kw, resp):
        return _streamed(provider, extract, model_of(args, kw), kw, start, site, resp)
    _record(provider, extract, model_of(args, kw), kw, start, resp, None, site, kw.get("stream"))
    return resp


def _kw_model(args, kw):
    return kw.get("model")


def _litellm_model(args, kw):
    return kw.get("model") or (args[0] if args else None)


def _patch_attr(modname, clsname, attr, provider, extract, model_of=_kw_model):
    try:
        mod = __import__(modname, fromlist=["_"])
    except Exception:
        return False
    owner = getattr(mod, clsname, None) if clsname else mod
    fn = getattr(owner, attr, None) if owner is not None else None
    if fn is None:
        return False
    setattr(owner, attr, _wrap(fn, provider, extract, model_of))
    return True


def _gemini_legacy_model(args, kw):
    return _get(args[0], "model_name") if args else None


PATCHED = []


def patch():
    """Wrap every installed SDK (idempotent)."""
    targets = [
        ("openai.resources.chat.completions", "Completions", "create", "openai", _openai_chat),
        ("openai.resources.chat.completions", "AsyncCompletions", "create", "openai", _openai_chat),
        ("openai.resources.responses", "Responses", "create", "openai", _openai_responses),
        ("openai.resources.responses", "AsyncResponses", "create", "openai", _openai_responses),
        ("anthropic.resources.messages", "Messages", "create", "anthropic", _anthropic),
        ("anthropic.resources.messages", "AsyncMessages", "create", "anthropic", _anthropic),
        ("google.genai.models", "Models", "generate_content", "google", _genai),
        ("google.genai.models", "AsyncModels", "generate_content", "google", _genai),
    ]
    # ASSAY_CAPTURE_SKIP=anthropic,google leaves those SDKs unwrapped.
    skip = {p.strip() for p in os.environ.get("ASSAY_CAPTURE_SKIP", "").split(",") if p.strip()}
    targets = [t for t in targets if t[3] not in skip]
    for modname, cls, attr, prov, ext in targets:
        if _patch_attr(modname, cls, attr, prov, ext):
            PATCHED.append("%s.%s.%s" % (modname, cls, attr))
    for cls, attr in (("GenerativeModel", "generate_content"), ("GenerativeModel", "generate_content_async")):
        if "google" not in skip and _patch_attr("google.generativeai", cls, attr, "google", _genai, _gemini_legacy_model):
            PATCHED.append("google.generativeai.%s.%s" % (cls, attr))
    for attr in ("completion", "acompletion"):
        if "litellm" not in skip and _patch_attr("litellm", None, attr, "litellm", _openai_chat, _litellm_model):
            PATCHED.append("litellm." + attr)
    return list(PATCHED)


patch()
