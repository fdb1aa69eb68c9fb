package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/capture/mockllm"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/seal"
)

// These tests run the real assay binary with real children that record
// receipts through each capture path and then attack the trace file, as a
// compromised agent running as the same user would (issue 20).

// attackPy waits until the recorder has sealed N receipts (the attack is
// on evidence already recorded), then alters the trace file.
const attackPy = `import glob, json, os, sys, time
mode, n = sys.argv[1], int(sys.argv[2])
home, trace = os.environ["ASSAY_HOME"], os.environ["ASSAY_TRACE_ID"]
log = os.path.join(home, "seal", trace, "log.jsonl")
for _ in range(6000):
    if os.path.exists(log) and open(log).read().count("\n") >= n:
        break
    time.sleep(0.01)
else:
    sys.exit("the recorder never sealed %d receipts" % n)
path = glob.glob(os.path.join(home, "*", trace + ".jsonl"))[0]
lines = open(path).read().splitlines()
if mode == "change":
    r = json.loads(lines[0])
    if "verdict" in r:
        r["verdict"] = "deny"
    else:
        r["model_id"] = "gpt-forged"
    lines[0] = json.dumps(r, separators=(",", ":"))
elif mode == "delete":
    del lines[1]
elif mode == "reorder":
    lines[0], lines[1] = lines[1], lines[0]
elif mode == "backdate":
    r = json.loads(lines[0])
    r.update(receipt_id="r_backdated0001", verdict="deny", seq=0, timestamp="2020-01-01T00:00:00+00:00",
             _stored_at="2020-01-01T00:00:00+00:00", _store_seq=0)
    lines.append(json.dumps(r, separators=(",", ":")))
elif mode == "truncate":
    lines = lines[:1]
if mode != "none":
    with open(path, "r+") as f:
        f.seek(0)
        f.write("".join(l + "\n" for l in lines))
        f.truncate()
`

// capturePaths are the ways a receipt reaches the recorder: assay emit
// (socket), the Python capture module (socket), the recording gateway
// (in-process) and the reference's emitter (appends to the file).
func capturePaths(t *testing.T, bin, repo, llmURL string) map[string]string {
	patchDir := filepath.Join(repo, "core", "patch")
	return map[string]string{
		"emit": `"$ASSAY_BIN" emit guardian_verdict verdict=allow tool=web_search >/dev/null && "$ASSAY_BIN" emit guardian_verdict verdict=allow tool=shell >/dev/null`,
		"python module": `python3 -c 'import sys; sys.path.insert(0, "` + patchDir + `"); import assay_capture as a
for m in ("gpt-4o", "gpt-4o-mini"): a._emit({"provider": "openai", "model_id": m, "integration_source": "assay.test"})'`,
		"gateway": `python3 -c 'import os, urllib.request
for m in ("gpt-4o", "gpt-4o-mini"):
    req = urllib.request.Request(os.environ["OPENAI_BASE_URL"] + "/chat/completions", data=("{\"model\": \"%s\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}" % m).encode(),
                                 headers={"Authorization": "Bearer test", "Content-Type": "application/json"})
    urllib.request.urlopen(req).read()'`,
		"reference emitter": `python3 -c 'from assay import emit_receipt
emit_receipt("guardian_verdict", {"verdict": "allow", "tool": "web_search"})
emit_receipt("guardian_verdict", {"verdict": "allow", "tool": "shell"})'`,
	}
}

func TestRecorderDetectsAlterationsUnderRun(t *testing.T) {
	t.Parallel()
	bin := assayBinary(t)
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	llm, err := mockllm.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { llm.Close() })
	attack := filepath.Join(t.TempDir(), "attack.py")
	if err := os.WriteFile(attack, []byte(attackPy), 0o644); err != nil {
		t.Fatal(err)
	}
	for path, emit := range capturePaths(t, bin, repo, llm.URL()) {
		for _, mode := range []string{"none", "change", "delete", "reorder", "backdate", "truncate"} {
			t.Run(path+"/"+mode, func(t *testing.T) {
				t.Parallel()
				home, work := t.TempDir(), t.TempDir()
				env := rtBinEnv("HOME="+home, "ASSAY_BIN="+bin, "PYTHONPATH="+filepath.Join(repo, "testdata", "python"),
					"ASSAY_UPSTREAM_OPENAI="+llm.URL()+"/v1")
				args := []string{"run", "--json", "-o", filepath.Join(work, "pack")}
				if path == "gateway" {
					args = append(args, "--gateway")
				}
				script := emit + ` && python3 "` + attack + `" ` + mode + ` 2`
				p := rtExec(t, env, work, bin, append(args, "--", "sh", "-c", script)...)
				sum := rtSummary(t, p.stdout)
				sealDoc, _ := sum["seal"].(map[string]any)
				out := filepath.Join(work, "pack")
				if mode == "none" {
					if p.code != 0 || sealDoc["status"] != seal.StatusIntact || sealDoc["covers"] != float64(2) {
						t.Fatalf("clean run: exit %d seal %v\n%s", p.code, sealDoc, p.stderr)
					}
					if code, res := rtVerify(t, out); code != 0 || res.Seal == nil || !res.Seal.Verified || res.Seal.Covers != 2 {
						t.Fatalf("clean pack: verify exit %d seal %+v errors %+v", code, res.Seal, res.Errors)
					}
					return
				}
				if p.code == 0 || !strings.Contains(p.stderr, seal.AlteredMessage) {
					t.Fatalf("%s not detected: exit %d\n%s", mode, p.code, p.stderr)
				}
				if sealDoc["status"] != seal.StatusAltered || sum["verdict"] == "PASS" {
					t.Fatalf("summary %v", sum)
				}
				code, res := rtVerify(t, out)
				if code == 0 || res.Verdict == "PASS" || res.Seal == nil || res.Seal.Status != seal.StatusAltered || !res.Seal.Verified {
					t.Fatalf("the pack of an altered history verifies %s (exit %d), seal %+v", res.Verdict, code, res.Seal)
				}
				packed, err := os.ReadFile(filepath.Join(out, pack.FileReceipts))
				if err != nil {
					t.Fatal(err)
				}
				for _, bad := range []string{`"deny"`, "gpt-forged", "r_backdated0001"} {
					if bytes.Contains(packed, []byte(bad)) {
						t.Fatalf("the altered line was packed (%s):\n%s", bad, packed)
					}
				}
				if n := len(rtPackLines(t, out)); n != 2 {
					t.Fatalf("pack holds %d receipts, want the 2 sealed", n)
				}
				// explain says it in words.
				ex := rtExec(t, env, work, bin, "explain", out)
				if !strings.Contains(ex.stdout, "ALTERED: "+seal.AlteredMessage) {
					t.Fatalf("explain:\n%s", ex.stdout)
				}
			})
		}
	}
}

// SIGKILL of the recorder (assay run itself) mid-run: the sealed prefix and
// its last checkpoint become a pack that verifies and says where the seal
// ends; a receipt written after the kill is packed as unsealed.
func TestRecorderSIGKILLLeavesSealedPrefix(t *testing.T) {
	t.Parallel()
	bin := assayBinary(t)
	home, work := t.TempDir(), t.TempDir()
	env := rtBinEnv("HOME="+home, "ASSAY_BIN="+bin)
	script := `"$ASSAY_BIN" emit guardian_verdict verdict=allow tool=a >/dev/null
"$ASSAY_BIN" emit guardian_verdict verdict=allow tool=b >/dev/null
echo "$ASSAY_TRACE_ID" > trace.txt
cps="$ASSAY_HOME/seal/$ASSAY_TRACE_ID/checkpoints.jsonl"
i=0; until tail -n 1 "$cps" | grep -q '"tree_size":2'; do i=$((i+1)); [ $i -gt 6000 ] && exit 9; sleep 0.01; done
kill -KILL $PPID
"$ASSAY_BIN" emit guardian_verdict verdict=allow tool=c >/dev/null 2>&1 && exit 8
ASSAY_RECORDER= "$ASSAY_BIN" emit guardian_verdict verdict=allow tool=after-kill >/dev/null
touch done
`
	p := rtExec(t, env, work, bin, "run", "-o", filepath.Join(work, "never"), "--", "sh", "-c", script)
	if p.code != 137 && p.code != -1 {
		t.Fatalf("assay run was not killed: exit %d\n%s", p.code, p.stderr)
	}
	// The orphaned child carries on after its parent died: wait for it.
	for i := 0; !fileExists(filepath.Join(work, "done")); i++ {
		if i > 6000 {
			t.Fatalf("the child never finished\n%s", p.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	raw, err := os.ReadFile(filepath.Join(work, "trace.txt"))
	if err != nil {
		t.Fatal(err)
	}
	trace := strings.TrimSpace(string(raw))
	out := filepath.Join(work, "pack")
	pp := rtExec(t, env, work, bin, "proof-pack", "--json", "-o", out, trace)
	if pp.code != 0 {
		t.Fatalf("proof-pack exit %d\n%s%s", pp.code, pp.stdout, pp.stderr)
	}
	var doc struct {
		Seal struct {
			Status   string `json:"status"`
			Covers   uint64 `json:"covers"`
			Unsealed int    `json:"unsealed"`
		} `json:"seal"`
	}
	if err := json.Unmarshal([]byte(pp.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Seal.Status != seal.StatusTruncated || doc.Seal.Covers != 2 || doc.Seal.Unsealed != 1 {
		files, _ := filepath.Glob(filepath.Join(home, ".assay", "*", trace+".jsonl"))
		var b []byte
		if len(files) == 1 {
			b, _ = os.ReadFile(files[0])
		}
		t.Fatalf("seal %+v; store:\n%s\nrun stderr: %s", doc.Seal, b, p.stderr)
	}
	if !strings.Contains(pp.stderr, "the seal ends at receipt 2") {
		t.Fatalf("stderr: %s", pp.stderr)
	}
	code, res := rtVerify(t, out)
	if code != 0 || res.Seal == nil || !res.Seal.Verified || res.Seal.Status != seal.StatusTruncated || res.ReceiptCount != 3 {
		t.Fatalf("verify exit %d seal %+v errors %+v", code, res.Seal, res.Errors)
	}
	ex := rtExec(t, env, work, bin, "explain", out)
	if !strings.Contains(ex.stdout, "Sealed as recorded up to receipt 2") || !strings.Contains(ex.stdout, "1 receipt of this pack is not sealed") {
		t.Fatalf("explain:\n%s", ex.stdout)
	}
	vj := rtExec(t, env, work, bin, "verify-pack", "--json", out)
	var vdoc struct {
		Seal *seal.Report `json:"seal"`
	}
	if err := json.Unmarshal([]byte(vj.stdout), &vdoc); err != nil || vj.code != 0 || vdoc.Seal == nil || vdoc.Seal.Covers != 2 || vdoc.Seal.LastCheckpointAt == "" {
		t.Fatalf("verify-pack --json exit %d: %s", vj.code, vj.stdout)
	}
}
