package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/store"
)

// The session's pack is signed by the active signer (DECISIONS 13), not
// by the reference's fixed assay-local; a policy's audit_dir and server_id
// apply when no flag is given, and an explicit flag wins over the policy.
func TestMCPProxySignerAndPolicySettings(t *testing.T) {
	home, dir := ckProcessEnv(t)
	if code, _, errs := ckRun(t, "key", "generate", "team-key"); code != 0 {
		t.Fatalf("key generate: %s", errs)
	}
	policy := filepath.Join(dir, "p.yaml")
	os.WriteFile(policy, []byte("server_id: from-policy\naudit_dir: policy-audit\nstore_args: true\n"), 0o644)
	session := func(args ...string) map[string]any {
		t.Helper()
		cmd := exec.Command(os.Args[0], append([]string{"mcp-proxy", "--json", "--policy", policy}, append(args, "--", os.Args[0], "mcp", "demo-server")...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), envAsCLI+"=1", store.EnvHome+"="+home)
		cmd.Stdin = strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}
{"jsonrpc":"2.0","method":"notifications/initialized"}
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get_weather","arguments":{"city":"Oslo"}}}
`)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("proxy: %v\n%s", err, stderr.String())
		}
		dec := json.NewDecoder(strings.NewReader(stderr.String()))
		var last map[string]any
		for dec.More() {
			var doc map[string]any
			if err := dec.Decode(&doc); err != nil {
				t.Fatalf("stderr is not JSON: %v", err)
			}
			last = doc
		}
		return last
	}
	packOf := func(rep map[string]any) (string, []byte) {
		t.Helper()
		art, _ := rep["artifacts"].(map[string]any)
		p, _ := art["pack"].(map[string]any)
		d, _ := p["output_dir"].(string)
		if p["signer_id"] != "team-key" {
			t.Errorf("pack signed by %v, want the active signer team-key", p["signer_id"])
		}
		body, err := os.ReadFile(filepath.Join(dir, d, "receipt_pack.jsonl"))
		if err != nil {
			body, err = os.ReadFile(filepath.Join(d, "receipt_pack.jsonl"))
		}
		if err != nil {
			t.Fatalf("pack receipts: %v", err)
		}
		return d, body
	}

	d, body := packOf(session())
	if !strings.HasPrefix(filepath.ToSlash(d), "policy-audit/") && !strings.Contains(filepath.ToSlash(d), "/policy-audit/") {
		t.Errorf("pack in %s, want under the policy's audit_dir", d)
	}
	if !strings.Contains(string(body), `"server_id":"from-policy"`) || !strings.Contains(string(body), `"arguments_content":{"city":"Oslo"}`) {
		t.Errorf("the policy's server_id/store_args did not apply:\n%s", body)
	}

	d, body = packOf(session("--audit-dir", "flag-audit", "--server-id", "from-flag", "--store-args=false"))
	if !strings.Contains(filepath.ToSlash(d), "flag-audit/") || !strings.Contains(string(body), `"server_id":"from-flag"`) || !strings.Contains(string(body), `"arguments_content":null`) {
		t.Errorf("explicit flags did not win: pack %s\n%s", d, body)
	}
}

// A trace line that is not a receipt (here written by the server itself)
// cannot go into the pack: the session says so and exits 1.
func TestMCPProxyUnreadableTraceLine(t *testing.T) {
	home, dir := ckProcessEnv(t)
	script := `d="$ASSAY_HOME/$(date -u +%Y-%m-%d)"; mkdir -p "$d"; printf 'not a receipt\n' >> "$d/$ASSAY_TRACE_ID.jsonl"; exec "$0" mcp demo-server`
	cmd := exec.Command(os.Args[0], "mcp-proxy", "--audit-dir", "audit", "--", "sh", "-c", script, os.Args[0])
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), envAsCLI+"=1", store.EnvHome+"="+home)
	cmd.Stdin = strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}
{"jsonrpc":"2.0","method":"notifications/initialized"}
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get_weather","arguments":{"city":"Oslo"}}}
`)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(stderr.String(), "EVIDENCE LEFT OUT") {
		t.Fatalf("exit %v, want 1 with EVIDENCE LEFT OUT:\n%s", err, stderr.String())
	}
	if packs, _ := filepath.Glob(filepath.Join(dir, "audit", "packs", "proof_pack_*")); len(packs) != 1 {
		t.Fatalf("packs: %v (the readable receipts are still packed)", packs)
	}
}
