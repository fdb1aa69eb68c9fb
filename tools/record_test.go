package tools

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/canon"
)

func TestEveryCallIsRecorded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	args := map[string]any{"type": "guardian_verdict", "data": map[string]any{"b": 2, "a": "x"}}
	res := e.ok("emit-receipt", args, nil)
	recs := e.trace()
	if len(recs) != 2 {
		t.Fatalf("want the emitted receipt and one mcp_tool_call, got %d", len(recs))
	}
	r := recs[1]
	argJSON, _ := json.Marshal(args)
	wantArgs, _ := HashJSON(argJSON)
	resJSON, _ := json.Marshal(ResultForHash(res))
	wantRes, _ := HashJSON(resJSON)
	checks := map[string]string{
		"type": "mcp_tool_call", "tool_name": "emit-receipt", "server_id": ServerName, "server_transport": TransportInProcess,
		"trace_id": e.srv.TraceID(), "outcome": "completed", "policy_verdict": "no_policy",
		"arguments_hash": wantArgs, "result_hash": wantRes, "integration_source": IntegrationSource,
	}
	for k, want := range checks {
		if got := r.String(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	for k, re := range map[string]string{
		"receipt_id": `^mtc_[0-9a-f]{16}$`, "invocation_id": `^inv_[0-9a-f]{16}$`, "session_id": `^mcp_[0-9a-f]{16}$`,
		"request_observed_at": `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$`,
		"arguments_hash":      `^sha256:[0-9a-f]{64}$`,
	} {
		if !regexp.MustCompile(re).MatchString(r.String(k)) {
			t.Errorf("%s = %q does not match %s", k, r.String(k), re)
		}
	}
	if id, _ := r.Get("mcp_request_id"); id == nil {
		t.Errorf("mcp_request_id not recorded")
	}
	if v, _ := r.Get("result_is_error"); v != false {
		t.Errorf("result_is_error = %v", v)
	}
	// Canonical hashing: key order in the arguments does not matter.
	h1, _ := HashJSON([]byte(`{"a":1,"b":[1,2]}`))
	h2, _ := HashJSON([]byte(`{ "b":[1,2], "a":1 }`))
	if h1 != h2 {
		t.Errorf("hash depends on key order")
	}
}

// The receipt carries the reference proxy's field names (runtime.md §7.2),
// except proxy_version: this server is not a proxy (server_version).
func TestReceiptFieldsMatchReference(t *testing.T) {
	t.Parallel()
	f, err := os.Open("../testdata/vectors/reference-1.24/mcp_pack/receipt_pack.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var ref *canon.Object
	for sc.Scan() {
		v, err := canon.Decode(sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if o := v.(*canon.Object); o.String("type") == "mcp_tool_call" {
			ref = o
			break
		}
	}
	if ref == nil {
		t.Fatal("no mcp_tool_call in the reference pack")
	}
	e := newEnv(t, nil)
	e.ok("emit-receipt", map[string]any{"type": "decision_v1"}, nil)
	ours := e.trace()[1]
	have := map[string]bool{}
	for _, m := range ours.Members {
		have[m.Key] = true
	}
	var missing []string
	for _, m := range ref.Members {
		if !have[m.Key] && m.Key != "proxy_version" {
			missing = append(missing, m.Key)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Fatalf("our mcp_tool_call lacks reference fields %v", missing)
	}
}

func TestNoRecord(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) { c.NoRecord = true })
	e.ok("emit-receipt", map[string]any{"type": "decision_v1"}, nil)
	e.fails("emit-receipt", map[string]any{"type": "nope"}, "proof pack")
	recs := e.trace()
	if len(recs) != 1 || recs[0].String("type") != "decision_v1" {
		t.Fatalf("with NoRecord the trace holds only the emitted receipt, got %d", len(recs))
	}
}

// A call that cannot be recorded says so in its result (evidence is never
// dropped in silence).
func TestRecordFailureIsLoud(t *testing.T) {
	t.Parallel()
	home := filepath.Join(t.TempDir(), "home")
	e := newEnv(t, func(c *Config) { c.Home = home })
	// The home becomes a file: nothing can be appended any more.
	if err := os.WriteFile(home, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.fails("scan", map[string]any{}, "could not record this call")
}

func TestClip(t *testing.T) {
	t.Parallel()
	s := strings.Repeat("é", 10)
	c := clip(s, 5)
	if !strings.HasPrefix(c, "éé") || strings.HasPrefix(c, "ééé") || !strings.Contains(c, "cut at 4 bytes") {
		t.Fatalf("clip %q", c)
	}
	if clip("short", 10) != "short" {
		t.Fatal("clip changed a short string")
	}
}

func TestStoreContent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) { c.StoreArgs, c.StoreResults = true, true })
	e.ok("emit-receipt", map[string]any{"type": "decision_v1", "data": map[string]any{"k": "v"}}, nil)
	r := e.trace()[1]
	args, _ := r.Get("arguments_content")
	res, _ := r.Get("result_content")
	a, ok := args.(*canon.Object)
	if !ok || a.String("type") != "decision_v1" {
		t.Fatalf("arguments_content %v", args)
	}
	o, ok := res.(*canon.Object)
	if !ok {
		t.Fatalf("result_content %v", res)
	}
	if _, ok := o.Get("structuredContent"); !ok {
		t.Fatalf("result_content lacks structuredContent: %s", mustJSON(o))
	}
	// The hashes still cover exactly the stored content.
	ab, _ := canon.Marshal(a)
	if h, _ := HashJSON(ab); h != r.String("arguments_hash") {
		t.Fatalf("arguments_hash does not cover arguments_content")
	}
	rb, _ := canon.Marshal(o)
	if h, _ := HashJSON(rb); h != r.String("result_hash") {
		t.Fatalf("result_hash does not cover result_content")
	}
	// By default, hashes only.
	d := newEnv(t, nil)
	d.ok("emit-receipt", map[string]any{"type": "decision_v1"}, nil)
	if v, _ := d.trace()[1].Get("arguments_content"); v != nil {
		t.Fatalf("arguments stored without opt-in")
	}
}
