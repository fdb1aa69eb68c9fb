// assay:capture-module v1 -- written by `assay patch`; `assay patch --undo` removes it.
//
// assay capture module for Node (no dependencies). Loaded once at the
// program's entrypoint, it records every LLM API call the process makes
// (OpenAI chat completions, responses and embeddings, Anthropic messages,
// Gemini generateContent / streamGenerateContent / embedContent: whatever
// SDK makes them, openai, @anthropic-ai/sdk, @google/genai, the `ai` SDK's
// providers, LangChain.js...) as a `model_call` receipt with the
// `callsite_id` of the calling line, appended to the trace named by
// ASSAY_TRACE_ID in $ASSAY_HOME (default ~/.assay), or, under a recorder
// (ASSAY_RECORDER, set by assay run), sent to it to be stored and sealed.
//
// How: globalThis.fetch is wrapped, so every request to an LLM API path is
// seen with its body and its (teed) response, streams included; the receipt
// is written when the response body ends. The calling line is the first
// stack frame inside the project (not node_modules, not this module): the
// SDK methods of openai, @anthropic-ai/sdk and @google/genai are wrapped to
// take it synchronously when called, and carry it to the request through
// AsyncLocalStorage; other calls use V8's async stack trace at the request.
//
// The receipt fields, content hashes (sha256-jcs-v1: SHA-256 of the
// canonical JSON of {"input": X, "system": S} and of the answer text) and
// the store's rules (one JSONL file per trace under <home>/<UTC date>/,
// each line stamped with _trace_id, _stored_at and a store-wide _store_seq
// allocated under an exclusive flock on <home>/.store_seq) are assay's.
// Prompts and answers are never stored, only their hashes. A receipt that
// cannot be written is reported on stderr; the program carries on.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const url = require('node:url');
const childProcess = require('node:child_process');
const { AsyncLocalStorage } = require('node:async_hooks');

const ROOT_REL = '__ASSAY_ROOT_REL__'; // the scanned project root, relative to this file
const ROOT = path.resolve(__dirname, ROOT_REL);
const SOURCE = 'assay.shim.node';
const ALG = 'sha256-jcs-v1';
const CAPTURED = 'X-Assay-Captured';
const SELF = [__filename, path.join(__dirname, 'assay_capture.mjs')];
const als = new AsyncLocalStorage();
const state = globalThis.__assayCapture || (globalThis.__assayCapture = { seq: new Map(), trace: null, patched: new Set(), warned: false });

// ---- canonical JSON (RFC 8785 for JSON data) and hashes ----

function canon(v) {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(v)) throw new Error('non-finite number');
      return JSON.stringify(v);
    case 'string':
      return JSON.stringify(v);
    case 'object':
      if (Array.isArray(v)) return '[' + v.map(canon).join(',') + ']';
      // Keys sorted by UTF-16 code units (JavaScript's default order).
      return '{' + Object.keys(v).filter((k) => v[k] !== undefined).sort().map((k) => JSON.stringify(k) + ':' + canon(v[k])).join(',') + '}';
  }
  return JSON.stringify(String(v));
}

function sha256(s) {
  return crypto.createHash('sha256').update(s, 'utf8').digest('hex');
}

function inputHash(input, system) {
  const o = { input: input === undefined ? null : input };
  if (system !== undefined && system !== null) o.system = system;
  try {
    return sha256(canon(o));
  } catch {
    return null;
  }
}

// ---- call sites ----

function frames(stack) {
  const out = [];
  for (const line of String(stack).split('\n').slice(1)) {
    const m = /\(?((?:file:\/\/)?[^\s()]+?):(\d+):(\d+)\)?\s*$/.exec(line.trim());
    if (!m) continue;
    let file = m[1];
    if (file.startsWith('file://')) {
      try {
        file = url.fileURLToPath(file);
      } catch {
        continue;
      }
    }
    out.push({ file, line: Number(m[2]) });
  }
  return out;
}

function inProject(file) {
  if (!path.isAbsolute(file) || SELF.includes(file)) return false;
  if (file.split(path.sep).includes('node_modules')) return false;
  return file === ROOT || file.startsWith(ROOT + path.sep);
}

// callsite is [id, relative path, line] of the first project frame on the
// stack (sync and async frames), or null.
function callsite() {
  const lim = Error.stackTraceLimit;
  Error.stackTraceLimit = 100;
  const stack = new Error().stack;
  Error.stackTraceLimit = lim;
  for (const f of frames(stack)) {
    if (inProject(f.file)) {
      const rel = path.relative(ROOT, f.file);
      return [sha256(rel + ':' + f.line).slice(0, 12), rel, f.line];
    }
  }
  return null;
}

// ---- the store ----

function home() {
  if (process.env.ASSAY_HOME) return path.resolve(process.env.ASSAY_HOME);
  const h = path.join(os.homedir(), '.assay');
  const legacy = path.join(os.homedir(), '.loom', 'assay');
  if (!fs.existsSync(h) && fs.existsSync(legacy)) return legacy;
  return h;
}

function utcDate(d) {
  return d.toISOString().slice(0, 10);
}

function now() {
  // Microseconds and +00:00, like assay's other writers.
  return new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000+00:00');
}

function traceId() {
  const t = process.env.ASSAY_TRACE_ID;
  if (t) return t;
  if (!state.trace) {
    const ts = new Date().toISOString().replace(/[-:]/g, '').slice(0, 15);
    state.trace = 'trace_' + ts + '_' + crypto.randomBytes(4).toString('hex');
  }
  return state.trace;
}

function tracePath(h, trace) {
  let days = [];
  try {
    days = fs.readdirSync(h).filter((d) => /^\d{4}-\d{2}-\d{2}$/.test(d)).sort();
  } catch {}
  for (const d of days) {
    const p = path.join(h, d, trace + '.jsonl');
    if (fs.existsSync(p)) return p;
  }
  return path.join(h, utcDate(new Date()), trace + '.jsonl');
}

function lastStoreSeq(p) {
  let fd;
  try {
    fd = fs.openSync(p, 'r');
    const size = fs.fstatSync(fd).size;
    const n = Math.min(size, 64 << 10);
    const buf = Buffer.alloc(n);
    fs.readSync(fd, buf, 0, n, size - n);
    const lines = buf.toString('utf8').replace(/\n+$/, '').split('\n');
    const v = JSON.parse(lines[lines.length - 1])._store_seq;
    return Number.isInteger(v) ? v : null;
  } catch {
    return null;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function line(rec) {
  return JSON.stringify(rec).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029').replace(/\u0085/g, '\\u0085');
}

// lock takes the exclusive flock on fd. Node has no flock of its own: the
// flock(1) tool locks the open file description it inherits as fd 3, and
// the lock stays with that description (ours) after the tool exits, until
// we close it.
function lock(fd) {
  const r = childProcess.spawnSync('flock', ['-x', '3'], { stdio: ['ignore', 'ignore', 'pipe', fd] });
  if (r.error || r.status !== 0) {
    if (!state.warned) {
      state.warned = true;
      process.stderr.write('assay: cannot take the store lock (flock(1) ' + (r.error ? 'not found' : 'failed') + '); receipts are written without it\n');
    }
  }
}

function append(trace, rec) {
  if (!/^[A-Za-z0-9._-]{1,200}$/.test(trace) || trace.startsWith('.')) throw new Error('invalid ASSAY_TRACE_ID ' + JSON.stringify(trace));
  const h = home();
  fs.mkdirSync(h, { recursive: true });
  const p = tracePath(h, trace);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  const fd = fs.openSync(path.join(h, '.store_seq'), fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
  try {
    lock(fd);
    const buf = Buffer.alloc(32);
    const n = fs.readSync(fd, buf, 0, 32, 0);
    const raw = buf.toString('ascii', 0, n).trim();
    let next = raw ? parseInt(raw, 10) : 0;
    if (!Number.isFinite(next)) next = 0;
    const last = lastStoreSeq(p);
    if (last !== null && last >= next) next = last + 1;
    fs.ftruncateSync(fd, 0);
    fs.writeSync(fd, String(next + 1), 0);
    rec._trace_id = trace;
    rec._stored_at = now();
    rec._store_seq = next;
    const out = fs.openSync(p, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o644);
    try {
      fs.writeSync(out, line(rec) + '\n');
      fs.fsyncSync(out);
    } finally {
      fs.closeSync(out);
    }
  } finally {
    fs.closeSync(fd); // releases the lock
  }
}

// send hands the receipt to the run's recorder (assay run names its socket
// in ASSAY_RECORDER), which stores and seals it before it answers. Node has
// no synchronous socket, so a short child process does the round trip and
// the call returns only once the receipt is sealed (as the file append
// returns only once it is fsynced).
const SEND = `const net = require('node:net');
let buf = '';
process.stdin.on('data', (d) => (buf += d));
process.stdin.on('end', () => {
  const c = net.createConnection(process.argv[1], () => c.write(buf));
  let ans = '';
  c.on('data', (d) => {
    ans += d;
    const i = ans.indexOf('\\n');
    if (i >= 0) { process.stdout.write(ans.slice(0, i)); c.end(); }
  });
  c.on('error', (e) => { process.stdout.write(JSON.stringify({ ok: false, error: e.message })); });
});`;

function recorderAddr() {
  const a = (process.env.ASSAY_RECORDER || '').trim();
  return a.startsWith('unix:') ? a.slice(5) : a;
}

function send(addr, trace, rec) {
  const frame = JSON.stringify({ op: 'append', trace_id: trace, receipt: rec }) + '\n';
  const r = childProcess.spawnSync(process.execPath, ['-e', SEND, addr], { input: frame, encoding: 'utf8', timeout: 30000 });
  let ack = null;
  try {
    ack = JSON.parse(r.stdout || 'null');
  } catch (e) {
    ack = null;
  }
  if (!ack || !ack.ok) throw new Error('the assay recorder refused the receipt: ' + ((ack && ack.error) || 'no answer'));
}

const KEYLIKE = /(sk-[A-Za-z0-9_-]{8,}|AIza[0-9A-Za-z_-]{20,}|[Bb]earer\s+[A-Za-z0-9._-]{8,})/g;

function scrub(s) {
  return String(s).replace(KEYLIKE, '[redacted]');
}

function emit(data) {
  const trace = traceId();
  const seq = state.seq.get(trace) || 0;
  state.seq.set(trace, seq + 1);
  const rec = {
    receipt_id: 'mcr_' + crypto.randomBytes(8).toString('hex'),
    type: 'model_call',
    timestamp: now(),
    schema_version: '3.0',
    seq,
    ...data,
  };
  try {
    const addr = recorderAddr();
    if (addr) send(addr, trace, rec);
    else append(trace, rec);
  } catch (e) {
    // Evidence is never dropped silently.
    process.stderr.write('assay: receipt not written for a ' + (data.provider || 'model') + ' call: ' + scrub(e && e.message) + '\n');
  }
}

// ---- wire formats (the same reading as assay's Go capture) ----

function match(pathname) {
  if (pathname.endsWith('/chat/completions')) return ['openai', 'chat_completions'];
  if (pathname.endsWith('/responses')) return ['openai', 'responses'];
  if (pathname.endsWith('/embeddings')) return ['openai', 'embeddings'];
  if (pathname.endsWith('/messages') && !pathname.includes('/threads/')) return ['anthropic', 'messages'];
  const g = /\/models\/([^/:]+):(generateContent|streamGenerateContent|embedContent|batchEmbedContents)$/.exec(pathname);
  if (g) return ['google', g[2] === 'embedContent' || g[2] === 'batchEmbedContents' ? 'embed_content' : 'generate_content', g[1], g[2] === 'streamGenerateContent'];
  return null;
}

function count(v) {
  return Array.isArray(v) ? v.length : v === undefined || v === null ? 0 : 1;
}

function parseRequest(m, body) {
  const [provider, api, gModel, gStream] = m;
  const r = { provider, api, model: gModel || '', stream: !!gStream, count: 0, hash: null };
  let o;
  try {
    o = JSON.parse(body);
  } catch {
    return r;
  }
  if (!o || typeof o !== 'object' || Array.isArray(o)) return r;
  if (provider !== 'google') {
    r.model = typeof o.model === 'string' ? o.model : '';
    r.stream = o.stream === true;
  }
  let input, system;
  if (api === 'responses') [input, system] = [o.input, o.instructions];
  else if (api === 'embeddings') input = o.input;
  else if (provider === 'anthropic') [input, system] = [o.messages, o.system];
  else if (provider === 'google') [input, system] = [o.contents ?? o.requests, o.systemInstruction ?? o.system_instruction];
  else input = o.messages;
  r.count = count(input);
  r.hash = inputHash(input, system);
  return r;
}

function sse(text) {
  const out = [];
  let data = null;
  let name = '';
  const flush = () => {
    if (data !== null || name) out.push({ name, data: (data || []).join('\n') });
    data = null;
    name = '';
  };
  for (let l of text.split('\n')) {
    if (l.endsWith('\r')) l = l.slice(0, -1);
    if (l === '') flush();
    else if (l[0] === ':') continue;
    else {
      const i = l.indexOf(':');
      const f = i < 0 ? l : l.slice(0, i);
      let v = i < 0 ? '' : l.slice(i + 1);
      if (v.startsWith(' ')) v = v.slice(1);
      if (f === 'event') name = v;
      else if (f === 'data') (data = data || []).push(v);
    }
  }
  flush();
  return out;
}

function jsonOr(s) {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

function contentText(c) {
  if (typeof c === 'string') return [c, true];
  if (Array.isArray(c)) {
    let s = '';
    let ok = false;
    for (const p of c) {
      if (p && typeof p.text === 'string') {
        s += p.text;
        ok = true;
      }
    }
    return [s, ok];
  }
  return ['', false];
}

// parseResponse reads text, usage and finish reason from a JSON body, an
// SSE stream or Gemini's JSON-array stream.
function parseResponse(req, ct, body) {
  const r = { text: '', hasText: false, usage: null, finish: '' };
  const isSSE = /^\s*text\/event-stream/i.test(ct || '') || /^\s*(data|event):/.test(body);
  const addText = (s) => {
    r.hasText = true;
    r.text += s;
  };
  const setUsage = (i, o, t) => {
    if (i == null && o == null && t == null) return;
    r.usage = [i || 0, o || 0, t != null ? t : (i || 0) + (o || 0)];
  };
  if (req.provider === 'openai' && req.api === 'chat_completions') {
    const apply = (c, stream) => {
      for (const ch of c.choices || []) {
        if ((ch.index || 0) !== 0) continue;
        const [s, ok] = contentText(stream ? ch.delta && ch.delta.content : ch.message && ch.message.content);
        if (ok) addText(s);
        if (ch.finish_reason) r.finish = ch.finish_reason;
      }
      if (c.usage) setUsage(c.usage.prompt_tokens ?? c.usage.input_tokens, c.usage.completion_tokens ?? c.usage.output_tokens, c.usage.total_tokens);
    };
    if (isSSE) {
      for (const ev of sse(body)) {
        const c = ev.data !== '[DONE]' && jsonOr(ev.data);
        if (c) apply(c, true);
      }
    } else if ((body = jsonOr(body))) apply(body, false);
  } else if (req.api === 'responses') {
    const final = (b) => {
      if (b.status) r.finish = { completed: 'stop', incomplete: 'length' }[b.status] || b.status;
      if (b.usage) setUsage(b.usage.input_tokens, b.usage.output_tokens, b.usage.total_tokens);
    };
    const textOf = (b) => {
      for (const o of b.output || []) {
        if (o.type !== 'message') continue;
        for (const c of o.content || []) if (c.type === 'output_text' && typeof c.text === 'string') addText(c.text);
      }
    };
    if (isSSE) {
      let last = null;
      for (let ev of sse(body)) {
        ev = jsonOr(ev.data);
        if (!ev) continue;
        if (ev.type === 'response.output_text.delta' && typeof ev.delta === 'string') addText(ev.delta);
        else if (ev.response) last = ev.response;
      }
      if (last) {
        final(last);
        if (!r.hasText) textOf(last);
      }
    } else if ((body = jsonOr(body))) {
      final(body);
      textOf(body);
    }
  } else if (req.provider === 'anthropic') {
    let i;
    let o;
    if (isSSE) {
      for (let ev of sse(body)) {
        ev = jsonOr(ev.data);
        if (!ev) continue;
        if (ev.type === 'message_start' && ev.message && ev.message.usage) [i, o] = [ev.message.usage.input_tokens, ev.message.usage.output_tokens];
        else if (ev.type === 'content_block_delta' && ev.delta && ev.delta.type === 'text_delta' && typeof ev.delta.text === 'string') addText(ev.delta.text);
        else if (ev.type === 'message_delta') {
          if (ev.delta && ev.delta.stop_reason) r.finish = ev.delta.stop_reason;
          if (ev.usage) {
            if (ev.usage.input_tokens != null) i = ev.usage.input_tokens;
            if (ev.usage.output_tokens != null) o = ev.usage.output_tokens;
          }
        }
      }
    } else if ((body = jsonOr(body))) {
      for (const c of body.content || []) if (c.type === 'text' && typeof c.text === 'string') addText(c.text);
      r.finish = body.stop_reason || '';
      if (body.usage) [i, o] = [body.usage.input_tokens, body.usage.output_tokens];
    }
    if (i != null || o != null) setUsage(i, o, null);
    if (!r.finish) r.finish = 'end_turn';
  } else if (req.provider === 'google' && req.api === 'generate_content') {
    let chunks = [];
    if (isSSE) chunks = sse(body).map((e) => jsonOr(e.data)).filter(Boolean);
    else {
      const v = jsonOr(body);
      chunks = Array.isArray(v) ? v : v ? [v] : [];
    }
    let fin = '';
    for (const c of chunks) {
      for (const cand of c.candidates || []) {
        if ((cand.index || 0) !== 0) continue;
        for (const p of (cand.content && cand.content.parts) || []) if (typeof p.text === 'string' && !p.thought) addText(p.text);
        if (cand.finishReason) fin = cand.finishReason;
      }
      const u = c.usageMetadata;
      if (u) setUsage(u.promptTokenCount, u.candidatesTokenCount, u.totalTokenCount);
    }
    r.finish = { '': 'stop', STOP: 'stop', MAX_TOKENS: 'length', SAFETY: 'safety' }[fin] || fin.toLowerCase();
  } else {
    const v = jsonOr(body);
    if (v && v.usage) setUsage(v.usage.prompt_tokens, 0, v.usage.total_tokens);
  }
  if (!r.finish) r.finish = 'stop';
  return r;
}

function errorText(body, status) {
  const v = jsonOr(body);
  let msg = '';
  if (v && v.error && typeof v.error.message === 'string') msg = v.error.message;
  else if (v && typeof v.error === 'string') msg = v.error;
  else if (v && typeof v.message === 'string') msg = v.message;
  else msg = String(body).trim().slice(0, 200);
  return scrub('HTTP ' + status + ': ' + msg);
}

function record(req, site, start, resp, err) {
  const data = {
    provider: req.provider,
    model_id: req.model || 'unknown',
    api: req.api,
    stream: req.stream,
  };
  const usage = resp && resp.usage;
  if (usage) Object.assign(data, { input_tokens: usage[0], output_tokens: usage[1], total_tokens: usage[2], usage_source: 'provider' });
  else Object.assign(data, { input_tokens: 0, output_tokens: 0, total_tokens: 0, usage_source: 'absent' });
  data.latency_ms = Math.round(performance.now() - start);
  data.finish_reason = err ? 'error' : (resp && resp.finish) || 'stop';
  data.error = err ? scrub(err) : null;
  data.input_hash = req.hash;
  data.output_hash = resp && resp.hasText && !err ? sha256(canon(resp.text)) : null;
  data.content_hash_alg = ALG;
  data.message_count = req.count;
  data.integration_source = SOURCE;
  if (site) [data.callsite_id, data.callsite_file, data.callsite_line] = site;
  emit(data);
}

// ---- fetch ----

// ASSAY_CAPTURE_SKIP=anthropic,src/llm.ts:12 leaves a provider's calls, or
// the calls of one call site (path:line relative to the project), unrecorded.
function skipped(provider, site) {
  const skip = (process.env.ASSAY_CAPTURE_SKIP || '').split(',').map((s) => s.trim());
  return skip.includes(provider) || (site !== null && skip.includes(site[1].split(path.sep).join('/') + ':' + site[2]));
}

function wrapFetch() {
  const orig = globalThis.fetch;
  if (typeof orig !== 'function' || orig.__assayWrapped) return;
  const wrapped = function fetch(input, init) {
    let u;
    let method = (init && init.method) || (input && typeof input === 'object' && input.method) || 'GET';
    try {
      u = new URL(typeof input === 'string' || input instanceof URL ? String(input) : input.url);
    } catch {
      return orig.call(this, input, init);
    }
    const m = String(method).toUpperCase() === 'POST' && match(u.pathname);
    if (!m) return orig.call(this, input, init);
    const store = als.getStore();
    const site = (store && store.site) || callsite();
    if (skipped(m[0], site)) return orig.call(this, input, init);
    const body = init && typeof init.body === 'string' ? init.body : init && init.body instanceof Uint8Array ? Buffer.from(init.body).toString('utf8') : null;
    const req = body === null ? { provider: m[0], api: m[1], model: m[2] || '', stream: !!m[3], count: 0, hash: null } : parseRequest(m, body);
    if (process.env.ASSAY_GATEWAY) {
      // Tell assay's recording gateway this call is recorded here already.
      const h = new Headers((init && init.headers) || (input && input.headers) || undefined);
      h.set(CAPTURED, '1');
      init = { ...(init || {}), headers: h };
    }
    const start = performance.now();
    let p;
    try {
      p = orig.call(this, input, init);
    } catch (e) {
      record(req, site, start, null, String(e && e.message));
      throw e;
    }
    return Promise.resolve(p).then(
      (res) => {
        let copy;
        try {
          copy = res.clone();
        } catch {
          record(req, site, start, null, null);
          return res;
        }
        copy.text().then(
          (text) => {
            if (!res.ok) record(req, site, start, null, errorText(text, res.status));
            else record(req, site, start, parseResponse(req, res.headers.get('content-type'), text), null);
          },
          (e) => record(req, site, start, null, String(e && e.message)),
        );
        return res;
      },
      (e) => {
        record(req, site, start, null, String(e && e.message));
        throw e;
      },
    );
  };
  wrapped.__assayWrapped = true;
  globalThis.fetch = wrapped;
}

// ---- SDK methods: take the calling line when the program calls ----

function wrapMethod(proto, name) {
  if (!proto || typeof proto[name] !== 'function' || proto[name].__assayWrapped) return;
  const orig = proto[name];
  const w = function (...args) {
    const store = als.getStore();
    if (store && store.site) return orig.apply(this, args); // an SDK helper calling its own create
    return als.run({ site: callsite() }, () => orig.apply(this, args));
  };
  w.__assayWrapped = true;
  Object.defineProperty(proto, name, { value: w, writable: true, configurable: true });
}

function patchModule(name, mod) {
  if (!mod || state.patched.has(mod)) return;
  state.patched.add(mod);
  const get = (o, ...ks) => ks.reduce((x, k) => (x == null ? x : x[k]), o);
  if (name === 'openai') {
    const O = mod.OpenAI || mod.default || mod;
    for (const [cls, ms] of [
      [get(O, 'Chat', 'Completions'), ['create', 'parse', 'stream', 'runTools']],
      [get(O, 'Beta', 'Chat', 'Completions'), ['create', 'parse', 'stream', 'runTools']],
      [get(O, 'Responses'), ['create', 'parse', 'stream']],
      [get(O, 'Embeddings'), ['create']],
      [get(O, 'Completions'), ['create']],
    ])
      for (const mm of ms) wrapMethod(cls && cls.prototype, mm);
  } else if (name === '@anthropic-ai/sdk') {
    const A = mod.Anthropic || mod.default || mod;
    for (const cls of [get(A, 'Messages'), get(A, 'Beta', 'Messages'), get(A, 'Completions')]) for (const mm of ['create', 'stream']) wrapMethod(cls && cls.prototype, mm);
  } else if (name === '@google/genai') {
    for (const mm of ['sendMessage', 'sendMessageStream']) wrapMethod(mod.Chat && mod.Chat.prototype, mm);
  }
}

const SDKS = ['openai', '@anthropic-ai/sdk', '@google/genai'];

// cjs patches the CommonJS builds of the installed SDKs (what require()
// returns); the ES module (assay_capture.mjs) patches their ESM builds.
function cjs() {
  for (const n of SDKS) {
    try {
      patchModule(n, require(require.resolve(n, { paths: [process.cwd(), ROOT, __dirname] })));
    } catch {}
  }
}

wrapFetch();
// Stack traces through source maps: a TypeScript program compiled to
// dist/ reports its .ts lines, the ones the scanner's contract lists.
if (typeof process.setSourceMapsEnabled === 'function') process.setSourceMapsEnabled(true);
// Loaded by require(): patch the CommonJS builds now. Imported from an ES
// module (module.parent unset), assay_capture.mjs patches the ESM builds.
if (module.parent) cjs();

// emit is exported for assay's own tests (the store interop test).
module.exports = { cjs, patchModule, SDKS, canon, callsite, emit };
