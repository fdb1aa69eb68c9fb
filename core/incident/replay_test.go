package incident

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/bundle"
	"github.com/assay-dev/assay/core/demo"
	"github.com/assay-dev/assay/core/demo/mcpserver"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/incident/incidenttest"
	"github.com/assay-dev/assay/core/mcppolicy"
	"github.com/assay-dev/assay/core/pack"
)

// The packs replayed here are recorded by the real MCP proxy
// (core/mcpproxy) in front of the demo MCP server, run as a child process
// (this test binary with envServer set), and packed by mcpproxy.Finish
// (see incidenttest).

const envServer = "ASSAY_INCIDENT_TEST_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(envServer) == "1" {
		if err := mcpserver.Serve(context.Background(), os.Stdin, os.Stdout, mcpserver.Options{}); err != nil {
			fmt.Fprintln(os.Stderr, "serve:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// session is the traffic every test replays (see incidenttest.Session).
var session = incidenttest.Session

func writePolicy(t *testing.T, text string) *mcppolicy.Policy { return incidenttest.Policy(t, text) }

// record runs one proxy session in front of the demo server (this test
// binary with envServer set) and returns its pack directory.
func record(t *testing.T, pol *mcppolicy.Policy, storeArgs bool, calls []incidenttest.Call) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return incidenttest.Record(t, incidenttest.Options{ServerArgv: []string{exe, "-test.run=^$"}, ServerEnv: []string{envServer + "=1"}, Policy: pol, StoreArgs: storeArgs, Calls: calls})
}

// The candidates: globs are case-sensitive (fnmatchcase) and compare code
// points, so neither a case variant nor a lookalike slips into or out of a
// rule by accident; argument patterns are case-insensitive regexps over the
// canonical JSON; budgets count allowed calls only.
var candidates = []struct {
	name   string
	policy string
	// want: the candidate's verdict per call of session
	want []string
}{
	{"deny globs are case-sensitive", `tools:
  deny: ["delete_*", "get_*"]
`, []string{"deny", "allow", "allow", "allow", "allow", "allow", "allow", "deny", "allow"}},
	{"a lookalike in the policy matches only the lookalike", `tools:
  deny: ["gеt_weather"]
`, []string{"allow", "allow", "deny", "allow", "allow", "allow", "allow", "allow", "allow"}},
	{"default deny with an allow list", `tools:
  default: deny
  allow: ["get_weather", "check_*", "calculate_risk"]
`, []string{"allow", "deny", "deny", "allow", "allow", "allow", "deny", "deny", "deny"}},
	{"per-tool budget and argument pattern", `tools:
  constraints:
    calculate_risk:
      max_calls: 1
    record_action:
      deny_patterns: ["delete"]
`, []string{"allow", "allow", "allow", "allow", "allow", "deny", "deny", "allow", "allow"}},
	{"session budget counts allowed calls only", `tools:
  deny: ["*_weather", "*_WEATHER"]
budget:
  max_tool_calls: 3
`, []string{"deny", "allow", "deny", "allow", "allow", "deny", "deny", "deny", "deny"}},
}

// Replaying a session against a candidate gives, call for call, the
// decision the proxy itself records when the same traffic runs under that
// candidate: replay uses the proxy's decision function and nothing else.
func TestReplayMatchesTheProxy(t *testing.T) {
	t.Parallel()
	recorded := record(t, nil, true, session)
	for _, tc := range candidates {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cand := writePolicy(t, tc.policy)
			r, err := Replay(recorded, cand, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Calls) != len(session) {
				t.Fatalf("%d rows, want %d", len(r.Calls), len(session))
			}
			// The same traffic through the proxy with the candidate (audit
			// mode: every call is forwarded, as it was when recorded).
			live, err := Replay(record(t, cand, true, session), cand, Options{})
			if err != nil {
				t.Fatal(err)
			}
			denied := 0
			for i, c := range r.Calls {
				if c.Tool != session[i].Tool || c.Recorded != NoPolicy {
					t.Errorf("row %d: %+v", i, c)
				}
				if c.Candidate != tc.want[i] {
					t.Errorf("row %d (%q): candidate %s (%s), want %s", i, c.Tool, c.Candidate, c.Rule, tc.want[i])
				}
				lc := live.Calls[i]
				if lc.Recorded != c.Candidate || lc.RecordedRule != c.Rule || lc.RecordedReason != c.CandidateReason {
					t.Errorf("row %d (%q): replay says %s/%s/%s, the proxy recorded %s/%s/%s", i, c.Tool, c.Candidate, c.CandidateReason, c.Rule, lc.Recorded, lc.RecordedReason, lc.RecordedRule)
				}
				if lc.Change != Unchanged {
					t.Errorf("row %d: replaying a session against its own policy changed %s", i, lc.Change)
				}
				if c.Candidate == "deny" {
					denied++
					if c.Change != NewlyDenied || c.Rule == "" {
						t.Errorf("row %d: %+v", i, c)
					}
				}
			}
			if r.Summary.NewlyDenied != denied || r.Summary.NewlyAllowed != 0 || r.Summary.Calls != len(session) || live.Summary.NewlyDenied != 0 {
				t.Errorf("summary %+v (live %+v), want %d newly denied", r.Summary, live.Summary, denied)
			}
		})
	}
}

// Against a recorded enforce-mode session: a looser candidate newly allows
// what the recorded policy denied; --current-policy compares two policies
// over the same calls.
func TestReplayNewlyAllowedAndCurrentPolicy(t *testing.T) {
	t.Parallel()
	strict := writePolicy(t, "mode: enforce\ntools:\n  deny: [\"delete_*\", \"DELETE_*\"]\n")
	dir := record(t, strict, true, session)
	loose := writePolicy(t, "tools:\n  deny: [\"DELETE_*\"]\n")
	r, err := Replay(dir, loose, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Summary.NewlyAllowed != 1 || r.Summary.NewlyDenied != 0 || r.Calls[7].Change != NewlyAllowed || r.Calls[7].Recorded != "deny" || r.Calls[7].RecordedRule != "tools.deny[0]" {
		t.Errorf("summary %+v, row 7 %+v", r.Summary, r.Calls[7])
	}
	if r.Calls[8].Change != Unchanged || r.Calls[8].Rule != "tools.deny[0]" || r.Calls[8].Outcome != "denied" {
		t.Errorf("row 8 %+v", r.Calls[8])
	}
	if r.Baseline != "recorded" {
		t.Errorf("baseline %q", r.Baseline)
	}
	empty := writePolicy(t, "version: \"1\"\n")
	c, err := Replay(dir, loose, Options{Current: empty})
	if err != nil {
		t.Fatal(err)
	}
	if c.Baseline != "current_policy" || c.CurrentPolicy == nil || c.Summary.NewlyDenied != 1 || c.Summary.NewlyAllowed != 0 || c.Calls[8].Change != NewlyDenied {
		t.Errorf("against the current policy: %+v", c.Summary)
	}
}

// Without recorded arguments, a candidate's argument patterns cannot be
// checked: the calls are flagged, never silently passed as checked.
func TestReplayArgumentsNotRecorded(t *testing.T) {
	t.Parallel()
	dir := record(t, nil, false, session)
	cand := writePolicy(t, "tools:\n  constraints:\n    record_action:\n      deny_patterns: [\"delete\"]\n")
	r, err := Replay(dir, cand, Options{})
	if err != nil {
		t.Fatal(err)
	}
	row := r.Calls[6]
	if row.ArgumentsRecorded || !row.Unchecked || row.Candidate != "allow" || r.Summary.Unchecked != 1 {
		t.Errorf("row %+v, summary %+v", row, r.Summary)
	}
	if r.Calls[0].Unchecked {
		t.Errorf("a tool without patterns was flagged: %+v", r.Calls[0])
	}
}

// A tampered pack is refused with exit 2 and nothing is replayed; a path
// that is not a pack is bad input.
func TestReplayRefusesTamperedPacks(t *testing.T) {
	t.Parallel()
	dir := record(t, nil, true, session[:2])
	cand := writePolicy(t, "tools:\n  deny: [\"get_*\"]\n")
	tampered := filepath.Join(t.TempDir(), "p")
	if err := os.CopyFS(tampered, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(tampered, pack.FileReceipts)
	b, _ := os.ReadFile(p)
	b2 := []byte(string(b))
	for i := 0; i+len("get_weather") <= len(b2); i++ {
		if string(b2[i:i+len("get_weather")]) == "get_weather" {
			copy(b2[i:], "put_weather")
			break
		}
	}
	if string(b2) == string(b) {
		t.Fatal("nothing to tamper with")
	}
	os.WriteFile(p, b2, 0o644)
	if r, err := Replay(tampered, cand, Options{}); exit.Code(err) != exit.Tampered || r != nil {
		t.Errorf("tampered: %v %+v", err, r)
	}
	c, err := demo.BuildChallenge(filepath.Join(t.TempDir(), "c"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Replay(filepath.Join(c.Dir, "tampered"), cand, Options{}); exit.Code(err) != exit.Tampered {
		t.Errorf("challenge tampered: %v", err)
	}
	// An honest pack without MCP calls replays to nothing, with a note.
	r, err := Replay(filepath.Join(c.Dir, "good"), cand, Options{})
	if err != nil || r.Summary.Calls != 0 || len(r.Notes) == 0 {
		t.Errorf("good: %+v %v", r, err)
	}
	for _, bad := range []string{filepath.Join(t.TempDir(), "missing"), p} {
		if _, err := Replay(bad, cand, Options{}); exit.Code(err) != exit.BadInput {
			t.Errorf("%s: %v, want bad input", bad, err)
		}
	}
}

// An audit bundle of the pack replays like the pack itself (extracted
// safely into a temp directory and verified first).
func TestReplayBundle(t *testing.T) {
	t.Parallel()
	dir := record(t, nil, true, session)
	tgz := filepath.Join(t.TempDir(), "audit.tar.gz")
	if _, err := bundle.Create(dir, tgz); err != nil {
		t.Fatal(err)
	}
	cand := writePolicy(t, "tools:\n  deny: [\"delete_*\"]\n")
	fromDir, err := Replay(dir, cand, Options{})
	if err != nil {
		t.Fatal(err)
	}
	fromBundle, err := Replay(tgz, cand, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if fromBundle.Summary != fromDir.Summary || fromBundle.PackID != fromDir.PackID || fromBundle.Summary.NewlyDenied != 1 || fromBundle.Pack != tgz {
		t.Errorf("bundle %+v, dir %+v", fromBundle.Summary, fromDir.Summary)
	}
}

// The wall-time budget counts from the session's start (its
// session_metadata started_at) to each call's request time, as the proxy
// counts it.
func TestReplayWallTime(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	dir := syntheticPack(t, start, []synthCall{{Tool: "a"}, {Tool: "b", At: 2999 * time.Millisecond}, {Tool: "c", At: 4 * time.Second}})
	cand := writePolicy(t, "budget:\n  max_wall_time_sec: 3\n")
	r, err := Replay(dir, cand, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rows(r), "[a:allow: b:allow: c:deny:"+mcppolicy.ReasonSessionTimedOut+"]"; got != want {
		t.Errorf("rows %s, want %s", got, want)
	}
}

// Calls are evaluated in the order the proxy admitted them (request time),
// not in the pack's order (response time): a long first call still uses
// the budget first.
func TestReplayRequestOrder(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	// Pack order by response: b (3s), c (4s), a (5s).
	dir := syntheticPack(t, start, []synthCall{{Tool: "a", Took: 5 * time.Second}, {Tool: "b", At: 2 * time.Second, Took: time.Second}, {Tool: "c", At: 3 * time.Second, Took: time.Second}})
	cand := writePolicy(t, "budget:\n  max_tool_calls: 2\n")
	r, err := Replay(dir, cand, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rows(r), "[a:allow: b:allow: c:deny:"+mcppolicy.ReasonSessionBudget+"]"; got != want {
		t.Errorf("rows %s, want %s", got, want)
	}
}

func rows(r *Result) string {
	var got []string
	for _, c := range r.Calls {
		got = append(got, c.Tool+":"+c.Candidate+":"+c.CandidateReason)
	}
	return fmt.Sprint(got)
}

// A tools/call the proxy refused before any policy (here: a case variant
// of a member name, DECISIONS 21) is listed as refused and not evaluated:
// there was no well-formed call for a policy to judge.
func TestReplayRefusedCalls(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := incidenttest.Record(t, incidenttest.Options{ServerArgv: []string{exe, "-test.run=^$"}, ServerEnv: []string{envServer + "=1"}, StoreArgs: true,
		Raw:   []string{`{"jsonrpc":"2.0","id":99,"method":"tools/call","params":{"name":"get_weather","Name":"delete_records","arguments":{}}}`},
		Calls: session[:1]})
	r, err := Replay(dir, writePolicy(t, "tools:\n  deny: [\"*\"]\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Calls) != 2 || r.Summary.NotEvaluated != 1 || r.Summary.NewlyDenied != 1 || r.Summary.Evaluated != 1 {
		t.Fatalf("summary %+v rows %+v", r.Summary, r.Calls)
	}
	ref := r.Calls[0]
	if ref.Recorded != Refused || ref.Candidate != NotEvaluated || ref.Change != NotEvaluated || !strings.Contains(ref.Note, "malformed") {
		t.Errorf("refused row %+v", ref)
	}
}
