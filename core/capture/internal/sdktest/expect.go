package sdktest

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/core/store"
	"github.com/assay-dev/assay/core/verify"
)

// The standard conversation every capture test sends, and what the
// synthetic server answers: "be brief" + "hello there" are 4 input tokens,
// the answer is 5 output tokens.
const (
	System = "be brief"
	Prompt = "hello there"
	Answer = "Synthetic answer to: hello there"
	Secret = "sk-assaytest-SECRET-0123456789abcdef"
)

// API describes how one SDK call looks on the wire, written out by hand
// from what the SDKs send, so the tests check our hashing recipe against
// an independent canonical form.
type API struct {
	Name       string
	Run        Func
	Provider   string
	API        string
	Messages   int
	Finish     string
	InputCanon string // canonical JSON of {"input":..., "system":...}
}

// APIs are the four captured APIs with the standard conversation.
var APIs = []API{
	{"openai-chat", OpenAIChat, "openai", "chat_completions", 2, "stop",
		`{"input":[{"content":"be brief","role":"system"},{"content":"hello there","role":"user"}]}`},
	{"openai-responses", OpenAIResponses, "openai", "responses", 1, "stop",
		`{"input":"hello there","system":"be brief"}`},
	{"anthropic", Anthropic, "anthropic", "messages", 1, "end_turn",
		`{"input":[{"content":[{"text":"hello there","type":"text"}],"role":"user"}],"system":[{"text":"be brief","type":"text"}]}`},
	{"gemini", Gemini, "google", "generate_content", 1, "stop",
		`{"input":[{"parts":[{"text":"hello there"}],"role":"user"}],"system":{"parts":[{"text":"be brief"}],"role":"user"}}`},
}

// Sha256 is the hex SHA-256 of s.
func Sha256(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// Want are the exact values a receipt of a successful standard call has.
func (a API) Want(model string, stream bool) map[string]string {
	return map[string]string{
		"type":             "model_call",
		"provider":         a.Provider,
		"model_id":         model,
		"api":              a.API,
		"stream":           strconv.FormatBool(stream),
		"input_tokens":     "4",
		"output_tokens":    "5",
		"total_tokens":     "9",
		"usage_source":     "provider",
		"finish_reason":    a.Finish,
		"error":            "null",
		"input_hash":       Sha256(a.InputCanon),
		"output_hash":      Sha256(`"` + Answer + `"`),
		"content_hash_alg": "sha256-jcs-v1",
		"message_count":    strconv.Itoa(a.Messages),
		"http_status":      "200",
		"schema_version":   "3.0",
	}
}

// Field renders a receipt field for comparison: strings as they are,
// everything else as canonical JSON ("null" when absent).
func Field(r *receipt.Receipt, key string) string {
	v, ok := r.Get(key)
	if !ok {
		return "<absent>"
	}
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := canon.Marshal(v)
	return string(b)
}

// Check compares a receipt's fields with want.
func Check(t testing.TB, r *receipt.Receipt, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got := Field(r, k); got != v {
			t.Errorf("receipt %s: %s = %q, want %q", Field(r, "model_id"), k, got, v)
		}
	}
	if id := Field(r, "receipt_id"); !strings.HasPrefix(id, "mcr_") || len(id) != 20 {
		t.Errorf("receipt_id %q is not mcr_ + 16 hex", id)
	}
}

// ByModel indexes receipts by model_id.
func ByModel(rs []*receipt.Receipt) map[string]*receipt.Receipt {
	m := map[string]*receipt.Receipt{}
	for _, r := range rs {
		m[Field(r, "model_id")] = r
	}
	return m
}

// PackVerifies builds a signed proof pack from a trace (a fresh test key)
// and verifies it offline: the receipts captured must make a pack that
// verifies with exit 0 and carries every one of them.
func PackVerifies(t testing.TB, st *store.Store, traceID string) {
	t.Helper()
	dir := t.TempDir()
	signer, err := keys.Open(dir).Generate("capture-test")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "pack")
	built, probs, err := pack.FromTrace(st, traceID, pack.Options{Signer: signer, OutDir: out, RequireReceipts: true})
	if err != nil || len(probs) > 0 {
		t.Fatalf("build pack: %v %v", err, probs)
	}
	res, err := verify.Verify(out, verify.Options{})
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if res.ExitCode != 0 || res.ReceiptCount != built.NReceipts {
		t.Fatalf("pack verdict %s exit %d, %d receipts of %d; errors %v", res.Verdict, res.ExitCode, res.ReceiptCount, built.NReceipts, res.Errors)
	}
}
