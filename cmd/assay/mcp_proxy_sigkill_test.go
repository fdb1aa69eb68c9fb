package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/mcpproxy"
	"github.com/assay-dev/assay/core/store"
)

// Class: SIGKILL leaves an incomplete session. A proxy killed with SIGKILL
// writes no closing receipt; the trace it leaves holds the opening
// session_metadata receipt and the calls. The pack built from it must say
// the session is incomplete in explain, in verify-pack --json and in the
// pack itself, never a plain PASS.
func TestMCPProxySIGKILLLeavesIncompleteSession(t *testing.T) {
	home, dir := ckProcessEnv(t)
	cmd := exec.Command(os.Args[0], "mcp-proxy", "--audit-dir", filepath.Join(dir, "audit"), "--", os.Args[0], "mcp", "demo-server", "--faults")
	cmd.Env = append(os.Environ(), envAsCLI+"=1", store.EnvHome+"="+home)
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	io.WriteString(in, mcpInit+`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get_weather","arguments":{"city":"Oslo"}}}`+"\n")
	br := bufio.NewReader(out)
	for i := 0; i < 2; i++ { // the initialize answer and the call's answer
		if _, err := br.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
	}
	// The call's receipt is written off the forwarding path: wait for it
	// in the trace, then kill.
	st := store.Open(home)
	var traceID string
	for i := 0; i < 500 && traceID == ""; i++ {
		traces, _ := st.List()
		for _, tr := range traces {
			recs, _, _ := st.Read(tr.TraceID)
			for _, r := range recs {
				if v, _ := r.Get("type"); v == "mcp_tool_call" {
					traceID = tr.TraceID
				}
			}
		}
		if traceID == "" {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if traceID == "" {
		t.Fatal("no tool-call receipt in the store")
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = cmd.Wait()

	packDir := filepath.Join(dir, "pack")
	if code, _, errs := ckRun(t, "proof-pack", traceID, "-o", packDir); code != 0 {
		t.Fatalf("proof-pack exit %d: %s", code, errs)
	}
	// The pack itself: its only session_metadata receipt is the opening
	// one, which says incomplete.
	b, _ := os.ReadFile(filepath.Join(packDir, "receipt_pack.jsonl"))
	if strings.Count(string(b), `"session_metadata"`) != 1 || !strings.Contains(string(b), `"session_state":"open"`) || !strings.Contains(string(b), `"session_complete":false`) {
		t.Fatalf("pack receipts: %s", b)
	}
	// verify-pack --json: intact, and the session listed as incomplete.
	code, stdout, _ := ckRun(t, "verify-pack", "--json", packDir)
	var res struct {
		Verdict     string   `json:"verdict"`
		Warnings    []string `json:"warnings"`
		MCPSessions []struct {
			State    string `json:"session_state"`
			Complete bool   `json:"session_complete"`
		} `json:"mcp_sessions"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	if code != 0 || len(res.MCPSessions) != 1 || res.MCPSessions[0].Complete || res.MCPSessions[0].State != mcpproxy.SessionOpen ||
		!strings.Contains(strings.Join(res.Warnings, "\n"), "INCOMPLETE") {
		t.Fatalf("verify-pack --json exit %d: %s", code, stdout)
	}
	// verify-pack (text): not a plain PASS.
	if _, text, _ := ckRun(t, "verify-pack", packDir); !strings.Contains(text, "INCOMPLETE") {
		t.Errorf("verify-pack says:\n%s", text)
	}
	// The pack's claims: with the mcp_session_complete card the claim
	// fails, and verify-pack says HONEST FAIL (exit 1).
	claimed := filepath.Join(dir, "pack-claimed")
	if code, _, errs := ckRun(t, "proof-pack", traceID, "-o", claimed, "-c", "mcp_session_complete"); code != 0 {
		t.Fatalf("proof-pack -c exit %d: %s", code, errs)
	}
	code, stdout, _ = ckRun(t, "verify-pack", "--json", claimed)
	var cres struct {
		Verdict      string `json:"verdict"`
		ClaimVerdict string `json:"claim_verdict"`
	}
	_ = json.Unmarshal([]byte(stdout), &cres)
	if code != 1 || cres.ClaimVerdict != "HONEST_FAIL" {
		t.Errorf("verify-pack of the claimed pack: exit %d, %s", code, stdout)
	}
	// explain: an INCOMPLETE session, because it never closed.
	if _, text, _ := ckRun(t, "explain", packDir); !strings.Contains(text, "INCOMPLETE session") || !strings.Contains(text, "did not close") {
		t.Errorf("explain says:\n%s", text)
	}
}
