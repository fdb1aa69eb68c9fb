package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/capture/mockllm"
	"github.com/assay-dev/assay/core/receipt"
)

// The official JavaScript SDKs (openai, @anthropic-ai/sdk, @google/genai,
// pinned in testdata/js/package-lock.json) run unchanged under
// `assay run --gateway -- node app.js`, with the gateway's upstreams
// pointed at the synthetic LLM server.

// rtJSApp returns testdata/js/app.js, failing (never skipping) when node or
// the SDKs are missing.
func rtJSApp(t *testing.T) string {
	t.Helper()
	js, err := filepath.Abs("../../testdata/js")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node is not installed: run scripts/setup.d/30-npm-js-sdks.sh (it installs Debian's nodejs and the SDKs)")
	}
	for _, pkg := range []string{"openai", "@anthropic-ai/sdk", "@google/genai"} {
		if _, err := os.Stat(filepath.Join(js, "node_modules", pkg, "package.json")); err != nil {
			t.Fatalf("the JavaScript SDK %s is not installed in testdata/js/node_modules: run scripts/setup.d/30-npm-js-sdks.sh", pkg)
		}
	}
	return filepath.Join(js, "app.js")
}

// rtMock starts the synthetic LLM server and points the gateway's
// upstreams at it; the SDKs get fake keys that must never be recorded.
func rtMock(t *testing.T) *mockllm.Server {
	t.Helper()
	m, err := mockllm.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	ckSetenv(t, "ASSAY_UPSTREAM_OPENAI", m.URL()+"/v1")
	ckSetenv(t, "ASSAY_UPSTREAM_ANTHROPIC", m.URL())
	ckSetenv(t, "ASSAY_UPSTREAM_GEMINI", m.URL())
	for _, k := range []string{"OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "GOOGLE_GEMINI_BASE_URL", "APP_STEPS", "APP_KILL_AFTER"} {
		ckSetenv(t, k, "")
		os.Unsetenv(k)
	}
	ckSetenv(t, "OPENAI_API_KEY", "sk-test-openai-SECRET-0123456789")
	ckSetenv(t, "ANTHROPIC_API_KEY", "sk-ant-test-SECRET-0123456789")
	ckSetenv(t, "GEMINI_API_KEY", "gemini-test-SECRET-0123456789")
	return m
}

func rtHash(t *testing.T, v any) string {
	t.Helper()
	h, err := receipt.ContentHash(v)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func rtDecode(t *testing.T, s string) any {
	t.Helper()
	v, err := canon.Decode([]byte(s))
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return v
}

func TestRunJSSDKsThroughGateway(t *testing.T) {
	app := rtJSApp(t)
	_, dir := ckProcessEnv(t)
	rtMock(t)
	const prompt = "Say hello to the receipts."

	// What app.js sends on the wire, per step, as the receipt's input
	// hash covers it: {"input": messages|input|contents, "system": ...}.
	user := `[{"role":"user","content":"` + prompt + `"}]`
	wantInput := map[string]string{
		"openai/chat/false":            `{"input":[{"role":"system","content":"Be brief."},{"role":"user","content":"` + prompt + `"}]}`,
		"openai/chat/true":             `{"input":` + user + `}`,
		"openai/responses/false":       `{"input":"` + prompt + `"}`,
		"anthropic/messages/false":     `{"input":` + user + `,"system":"Be brief."}`,
		"anthropic/messages/true":      `{"input":` + user + `}`,
		"google/generateContent/false": `{"input":[{"role":"user","parts":[{"text":"` + prompt + `"}]}]}`,
		"google/generateContent/true":  `{"input":[{"role":"user","parts":[{"text":"` + prompt + `"}]}]}`,
	}
	wantFinish := map[string]string{"openai": "stop", "anthropic": "end_turn", "google": "stop"}

	out := filepath.Join(dir, "pack")
	code, stdout, stderr := ckRun(t, "run", "--gateway", "--json", "-o", out, "--", "node", app)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	sum := rtSummary(t, stdout)
	// In --json mode the child's stdout (app.js's report lines) is on stderr.
	calls := rtJSONLines(stderr)
	if len(calls) != 7 || sum["n_receipts"] != float64(7) {
		t.Fatalf("%d SDK calls reported, %v receipts; stderr:\n%s", len(calls), sum["n_receipts"], stderr)
	}
	if vc, res := rtVerify(t, out); vc != 0 || res.ReceiptCount != 7 {
		t.Fatalf("verify exit %d, %d receipts: %+v", vc, res.ReceiptCount, res.Errors)
	}
	recs := rtPackLines(t, out)
	byKey := map[string]*canon.Object{}
	for _, r := range recs {
		if r.String("type") != "model_call" {
			t.Fatalf("unexpected receipt %v", r)
		}
		stream, _ := r.Get("stream")
		api := r.String("api")
		switch api { // the receipt's api names, mapped to app.js's
		case "chat_completions":
			api = "chat"
		case "generate_content":
			api = "generateContent"
		}
		key := r.String("provider") + "/" + api + "/" + boolStr(stream == true)
		if byKey[key] != nil {
			t.Fatalf("two receipts for %s", key)
		}
		byKey[key] = r
	}
	for _, c := range calls {
		key := c["provider"].(string) + "/" + c["api"].(string) + "/" + boolStr(c["stream"] == true)
		r := byKey[key]
		if r == nil {
			t.Fatalf("no receipt for %s; have %v", key, keysOf(byKey))
		}
		t.Run(key, func(t *testing.T) {
			num := func(k string) float64 {
				v, _ := r.Get(k)
				n, _ := v.(canon.Number)
				var f float64
				_, _ = fmt.Sscan(string(n), &f)
				return f
			}
			if r.String("model_id") != c["model"] {
				t.Errorf("model_id %q, SDK saw %q", r.String("model_id"), c["model"])
			}
			if num("input_tokens") != c["input_tokens"] || num("output_tokens") != c["output_tokens"] ||
				num("total_tokens") != c["input_tokens"].(float64)+c["output_tokens"].(float64) || r.String("usage_source") != "provider" {
				t.Errorf("tokens %v/%v/%v (%s), SDK saw %v/%v", num("input_tokens"), num("output_tokens"), num("total_tokens"), r.String("usage_source"), c["input_tokens"], c["output_tokens"])
			}
			if got, want := r.String("output_hash"), rtHash(t, c["text"].(string)); got != want {
				t.Errorf("output_hash %s, want sha256-jcs of the text the SDK got (%s)", got, want)
			}
			if got, want := r.String("input_hash"), rtHash(t, rtDecode(t, wantInput[key])); got != want {
				t.Errorf("input_hash %s, want %s (of %s)", got, want, wantInput[key])
			}
			if r.String("content_hash_alg") != "sha256-jcs-v1" || r.String("finish_reason") != wantFinish[r.String("provider")] || num("http_status") != 200 {
				t.Errorf("alg %s finish %s status %v", r.String("content_hash_alg"), r.String("finish_reason"), num("http_status"))
			}
			if e, _ := r.Get("error"); e != nil {
				t.Errorf("error %v", e)
			}
			if !strings.HasPrefix(r.String("receipt_id"), "mcr_") || !rtTSPattern.MatchString(r.String("timestamp")) {
				t.Errorf("receipt id %s timestamp %s", r.String("receipt_id"), r.String("timestamp"))
			}
		})
	}
	// API keys pass through to the server but never into the pack.
	filepath.Walk(out, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			b, _ := os.ReadFile(p)
			if strings.Contains(string(b), "SECRET") {
				t.Errorf("%s holds an API key", p)
			}
		}
		return nil
	})
}

func TestRunJSGatewayCrashAndBadUpstreams(t *testing.T) {
	app := rtJSApp(t)

	t.Run("SIGKILL after 3 of 5 calls", func(t *testing.T) {
		_, dir := ckProcessEnv(t)
		rtMock(t)
		ckSetenv(t, "APP_STEPS", "openaiChat,openaiChatStream,anthropicMessages,anthropicMessagesStream,geminiGenerate")
		ckSetenv(t, "APP_KILL_AFTER", "3")
		out := filepath.Join(dir, "pack")
		code, _, stderr := ckRun(t, "run", "--gateway", "-o", out, "--", "node", app)
		if code != 128+9 {
			t.Fatalf("exit %d, want 137\n%s", code, stderr)
		}
		recs := rtPackLines(t, out)
		if len(recs) != 3 {
			t.Fatalf("pack holds %d receipts, want the 3 calls made before the kill", len(recs))
		}
		for i, want := range []string{"openai", "openai", "anthropic"} {
			if recs[i].String("provider") != want {
				t.Fatalf("receipt %d provider %s, want %s", i, recs[i].String("provider"), want)
			}
		}
		if vc, res := rtVerify(t, out); vc != 0 {
			t.Fatalf("verify exit %d: %+v", vc, res.Errors)
		}
	})

	t.Run("unreachable upstream", func(t *testing.T) {
		_, dir := ckProcessEnv(t)
		rtMock(t)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		dead := "http://" + ln.Addr().String() + "/v1"
		ln.Close() // nothing listens there now
		ckSetenv(t, "ASSAY_UPSTREAM_OPENAI", dead)
		ckSetenv(t, "APP_STEPS", "openaiChat")
		out := filepath.Join(dir, "pack")
		code, _, stderr := ckRun(t, "run", "--gateway", "-o", out, "--", "node", app)
		// The SDK call fails, app.js exits 1, and run exits with that code;
		// the failed call is still evidence.
		if code != 1 {
			t.Fatalf("exit %d, want the child's 1\n%s", code, stderr)
		}
		if !strings.Contains(stderr, "app.js: openaiChat failed") {
			t.Fatalf("stderr:\n%s", stderr)
		}
		recs := rtPackLines(t, out)
		if len(recs) < 1 {
			t.Fatal("no receipt for the failed call")
		}
		for _, r := range recs {
			e, _ := r.Get("error")
			msg, _ := e.(string)
			if r.String("finish_reason") != "error" || !strings.Contains(msg, ln.Addr().String()) || strings.Contains(msg, "SECRET") {
				t.Fatalf("receipt %v", r)
			}
		}
		if vc, res := rtVerify(t, out); vc != 0 {
			t.Fatalf("verify exit %d: %+v", vc, res.Errors)
		}
	})

	t.Run("bad upstream URL is refused before the child starts", func(t *testing.T) {
		home, dir := ckProcessEnv(t)
		rtMock(t)
		ckSetenv(t, "ASSAY_UPSTREAM_ANTHROPIC", "ftp://example.invalid")
		marker := filepath.Join(dir, "child-ran")
		code, _, stderr := ckRun(t, "run", "--gateway", "-o", filepath.Join(dir, "pack"), "--", "sh", "-c", "touch "+marker)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if code != 3 || len(lines) != 1 || !strings.Contains(lines[0], "anthropic upstream") {
			t.Fatalf("exit %d stderr %q", code, stderr)
		}
		ents, _ := os.ReadDir(dir)
		if rtFileExists(marker) || len(ents) != 0 {
			t.Fatalf("child ran or files left: %v", ents)
		}
		if days, _ := filepath.Glob(filepath.Join(home, "*", "*.jsonl")); len(days) != 0 {
			t.Fatalf("trace written: %v", days)
		}
	})
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func keysOf(m map[string]*canon.Object) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
