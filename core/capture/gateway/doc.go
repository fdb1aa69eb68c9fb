// Package gateway is assay's zero-code recording gateway: an HTTP reverse
// proxy on loopback that the official LLM SDKs are pointed at through the
// base-URL environment variables they read. Every OpenAI, Anthropic and
// Gemini call passing through becomes a model_call receipt (core/capture)
// in the trace; the call itself is forwarded untouched (API keys and auth
// headers included, never recorded) to the real upstream, and streams pass
// through chunk by chunk, flushed as they arrive.
//
// # Routes
//
//	/openai/...     -> ASSAY_UPSTREAM_OPENAI     (default https://api.openai.com/v1)
//	/anthropic/...  -> ASSAY_UPSTREAM_ANTHROPIC  (default https://api.anthropic.com)
//	/gemini/...     -> ASSAY_UPSTREAM_GEMINI     (default https://generativelanguage.googleapis.com)
//
// The path after the prefix is appended to the upstream, with the query
// kept: POST /openai/chat/completions goes to
// https://api.openai.com/v1/chat/completions. An upstream takes the same
// value you would give the SDK's base-URL variable (so a LiteLLM proxy is
// ASSAY_UPSTREAM_OPENAI=http://127.0.0.1:4000/v1). When ASSAY_UPSTREAM_X is
// unset but the SDK variable (OPENAI_BASE_URL...) was already set in the
// environment, that value is the upstream, so an existing chain survives.
// Requests without a prefix are recognised by their path (/v1/messages,
// .../models/M:generateContent, .../chat/completions, .../responses).
// Anything else (model listings, embeddings, files) is forwarded without a
// receipt.
//
// A caller may send X-Assay-Callsite (a 12-hex callsite id, or
// "relative/path:line") to set the receipt's callsite_id; the header is
// removed before forwarding. A request carrying X-Assay-Captured was
// already recorded in-process by the Go middleware: it is forwarded without
// a second receipt, and the header is removed.
//
// # Base-URL variables read by the official SDKs
//
// Found in the SDKs' source (Go module cache; npm packages openai 6.49.0,
// @anthropic-ai/sdk 1.14.0, @google/genai 2.32.0). The Python SDKs were not
// reachable from this build machine; their variables are the documented
// ones of the same Stainless / Google generators and are marked so.
//
//	SDK                                   variable                 value Env() sets
//	openai-go v3 (Go)                     OPENAI_BASE_URL          <gateway>/openai
//	openai (JS/TS, also AzureOpenAI)      OPENAI_BASE_URL          <gateway>/openai
//	openai (Python, documented)           OPENAI_BASE_URL          <gateway>/openai
//	anthropic-sdk-go v2 (Go)              ANTHROPIC_BASE_URL       <gateway>/anthropic
//	@anthropic-ai/sdk (JS/TS)             ANTHROPIC_BASE_URL       <gateway>/anthropic
//	anthropic (Python, documented)        ANTHROPIC_BASE_URL       <gateway>/anthropic
//	google.golang.org/genai (Go)          GOOGLE_GEMINI_BASE_URL   <gateway>/gemini
//	@google/genai (JS/TS)                 GOOGLE_GEMINI_BASE_URL   <gateway>/gemini
//	google-genai (Python, documented)     GOOGLE_GEMINI_BASE_URL   <gateway>/gemini
//
// Not covered by a variable: Vertex AI (GOOGLE_VERTEX_BASE_URL exists in
// the genai SDKs, but Vertex upstreams are per project and location and
// use OAuth; point it at <gateway>/gemini with ASSAY_UPSTREAM_GEMINI set to
// your Vertex endpoint if you need it), the legacy google-generativeai
// Python SDK (no base-URL variable; the reference patches it in-process),
// and any client constructed with an explicit base URL in code (that code
// wins over the environment).
//
// Receipts hold hashes of prompts and answers, not the text; Options.
// StoreContent (or ASSAY_STORE_CONTENT=1) opts in to recording the text.
//
// # Guarantees
//
// One receipt per forwarded model call, written when the response ends:
// at the end of the stream, with the streamed text hashed and the usage
// the provider sent in the stream. An upstream error status, an upstream
// that drops the stream, and a client that disconnects mid-stream still
// produce a receipt (error set, finish_reason "error"). An unreachable
// upstream produces a receipt and a 502 with one line naming the upstream
// and the variable that sets it. Receipt writes (each fsynced) run on a
// background writer, so responses never wait for the disk; Close returns
// only after every receipt is durable, and a receipt that cannot be
// written is logged on stderr and counted in Stats().ReceiptsLost.
package gateway
