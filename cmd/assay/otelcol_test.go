package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/otlpout"
	"github.com/assay-dev/assay/core/store"
)

// collectorBinary is the test Collector that scripts/setup.d/45-otelcol.sh
// builds from testdata/otelcol into a cache directory keyed by the
// sources' hash. A missing binary fails the test with the command that
// builds it (never a skip).
func collectorBinary(t *testing.T) string {
	t.Helper()
	src, err := filepath.Abs("../../testdata/otelcol")
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	for _, f := range []string{"go.mod", "go.sum", "main.go"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		h.Write(b)
	}
	cache := os.Getenv("ASSAY_CACHE_DIR")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			t.Fatal(err)
		}
		cache = filepath.Join(home, ".cache", "assay")
	}
	bin := filepath.Join(cache, "otelcol", hex.EncodeToString(h.Sum(nil))[:16], "assay-testcol")
	if st, err := os.Stat(bin); err != nil || st.Mode()&0o111 == 0 {
		t.Fatalf("the test OpenTelemetry Collector is not built (%s missing): run bash scripts/setup.d/45-otelcol.sh (a few minutes the first time)", bin)
	}
	return bin
}

// freeAddr returns a loopback address with a port that was free a moment
// ago (the Collector needs a fixed port in its config).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startCollector runs the Collector: OTLP/HTTP in on its own port, out to
// assay collect (traces and logs) and to a JSON file (traces).
func startCollector(t *testing.T, assayURL, fileOut string) string {
	t.Helper()
	bin := collectorBinary(t)
	addr := freeAddr(t)
	cfg := fmt.Sprintf(`receivers:
  otlp:
    protocols:
      http: { endpoint: %q }
exporters:
  otlp_http/assay:
    endpoint: %q
    encoding: proto
    compression: none
  file: { path: %q }
service:
  telemetry: { logs: { level: warn }, metrics: { level: none } }
  pipelines:
    traces: { receivers: [otlp], exporters: [otlp_http/assay, file] }
    logs: { receivers: [otlp], exporters: [otlp_http/assay] }
`, addr, assayURL, fileOut)
	cfgPath := filepath.Join(t.TempDir(), "otelcol.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	c := exec.Command(bin, "--config=file:"+cfgPath)
	var logs syncBuf
	c.Stdout, c.Stderr = &logs, &logs
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- c.Wait() }()
	t.Cleanup(func() {
		_ = c.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = c.Process.Kill()
		}
	})
	// Up when its OTLP port answers (an empty export is accepted).
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Post("http://"+addr+"/v1/traces", "application/json", strings.NewReader("{}"))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return "http://" + addr
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("the Collector exited: %v\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Collector did not come up on %s\n%s", addr, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitLines polls until the trace holds n receipts (the Collector
// forwards asynchronously).
func waitTrace(t *testing.T, home, trace string, n int) {
	t.Helper()
	st := store.Open(home)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if rs, _, err := st.Read(trace); err == nil && len(rs) >= n {
			return
		}
		if time.Now().After(deadline) {
			rs, _, _ := st.Read(trace)
			t.Fatalf("trace %s holds %d receipts, want %d", trace, len(rs), n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// fileSpans reads the Collector's file exporter output (one OTLP/JSON
// request per line) with pdata and returns the spans by assay.receipt_id.
func fileSpans(t *testing.T, path string) map[string]ptrace.Span {
	t.Helper()
	out := map[string]ptrace.Span{}
	b, err := os.ReadFile(path)
	if err != nil {
		return out
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(sc.Bytes())
		if err != nil {
			t.Fatalf("file exporter line: %v", err)
		}
		rss := td.ResourceSpans()
		for i := 0; i < rss.Len(); i++ {
			sss := rss.At(i).ScopeSpans()
			for j := 0; j < sss.Len(); j++ {
				sps := sss.At(j).Spans()
				for k := 0; k < sps.Len(); k++ {
					if v, ok := sps.At(k).Attributes().Get("assay.receipt_id"); ok {
						out[v.Str()] = sps.At(k)
					}
				}
			}
		}
	}
	return out
}

// A real OpenTelemetry Collector between the apps and assay: a Go app
// (official Go SDK) and a Node app (official Node SDK with
// @opentelemetry/instrumentation-openai) send GenAI spans to the Collector,
// which fans them out to `assay collect`; the pack holds one receipt per LLM
// call with the right fields and verifies. Then the other way: `assay
// export otlp` sends the pack to the Collector, whose file exporter holds
// one span per receipt with the GenAI and assay attributes, and those
// spans, fanned back to assay collect, do not become receipts again.
func TestCollectorPipeline(t *testing.T) {
	t.Parallel()
	app := nodeOTelApp(t)
	m, home, dir := otelStart(t)
	env := otlpEnv(home)
	const trace = "fleet_otelcol_1"
	assayURL, stopCollect := startCollect(t, env, "--trace", trace)
	fileOut := filepath.Join(dir, "collector-traces.jsonl")
	col := startCollector(t, assayURL, fileOut)

	sendGoSpans(t, m.URL(), otlptracehttp.WithEndpointURL(col+"/v1/traces"))
	node := exec.Command("node", app)
	node.Env = append(otlpEnv(home, nodeAppEnv(t, m.URL(), "node-collector-app")...),
		"OTEL_EXPORTER_OTLP_ENDPOINT="+col, "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf")
	if out, err := node.CombinedOutput(); err != nil || !strings.Contains(string(out), "calls=3 failed=1") {
		t.Fatalf("node app: %v\n%s", err, out)
	}
	waitTrace(t, home, trace, 2*len(otelPrompts))

	pack := filepath.Join(dir, "pack")
	rs := otelPack(t, env, trace, pack)
	by := map[string][]*canon.Object{}
	for _, r := range rs {
		by[r.String("otel_service_name")] = append(by[r.String("otel_service_name")], r)
	}
	checkOTelCalls(t, by["go-collect-app"], "go-collect-app", true)
	checkOTelCalls(t, by["node-collector-app"], "node-collector-app", false)
	if len(rs) != 2*len(otelPrompts) {
		t.Fatalf("%d receipts in the pack, want %d", len(rs), 2*len(otelPrompts))
	}

	// The other way: the pack into the Collector.
	out, err := cliCmd(env, "export", "otlp", pack, "--otlp-endpoint", col, "--json").Output()
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	var res exportResult
	ckJSON(t, string(out), &res)
	if res.Spans != len(rs) || res.PackID == "" {
		t.Fatalf("export result %+v", res)
	}
	deadline := time.Now().Add(60 * time.Second)
	spans := fileSpans(t, fileOut)
	for len(spans) < len(rs) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		spans = fileSpans(t, fileOut)
	}
	for _, r := range rs {
		id := r.String("receipt_id")
		sp, ok := spans[id]
		if !ok {
			t.Fatalf("receipt %s not in the Collector's file output (%d spans there)", id, len(spans))
		}
		a := sp.Attributes()
		want := map[string]string{
			"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": r.String("model_id"),
			"assay.trace_id": trace, "assay.pack_id": res.PackID, "assay.receipt_type": "model_call", "assay.integration_source": "assay.otlp",
		}
		if r.String("usage_source") == "provider" {
			in, _ := r.Get("input_tokens")
			want["gen_ai.usage.input_tokens"] = fmt.Sprint(in)
		}
		if h := r.String("input_hash"); h != "" {
			want["assay.input_hash"] = h
		}
		for k, v := range want {
			got, ok := a.Get(k)
			if !ok || got.AsString() != v {
				t.Errorf("receipt %s span attribute %s = %v, want %q", id, k, got.AsString(), v)
			}
		}
		if sp.TraceID() != [16]byte(otlpout.TraceIDFor(trace)) || sp.Links().Len() != 1 {
			t.Errorf("receipt %s span trace/links: %v %d", id, sp.TraceID(), sp.Links().Len())
		}
	}

	// The exported spans also reached assay collect through the Collector:
	// they are receipts already and are not stored again.
	errs := stopCollect()
	if !strings.Contains(errs, fmt.Sprintf("trace %s: %d receipts", trace, 2*len(otelPrompts))) {
		t.Fatalf("collect stored more than the calls: %s", errs)
	}
}
