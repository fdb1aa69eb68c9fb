// Package incident is the "policy time machine" (runtime.md §7.6): it
// re-evaluates the MCP tool calls a verified pack recorded against a
// candidate policy and reports which calls the candidate would have denied
// or allowed, so a team can tighten a policy against real traffic before
// turning it on.
//
// The candidate is evaluated by core/mcppolicy's Evaluator, the one the
// MCP proxy uses, with what the proxy gave it: the tool name exactly as
// recorded (no case folding or normalisation), the canonical JSON of the
// recorded arguments, the time the request was observed, and one
// evaluator per session started at the session's start, calls taken in
// the order the proxy saw them. Counters advance only on calls the
// candidate allows, as they would have under it.
//
// The pack is verified first; a tampered pack is refused (exit 2). Replay
// never prints.
package incident

import (
	"bytes"
	"fmt"
	"sort"
	"time"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/mcppolicy"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/core/verify"
)

// Recorded decisions besides mcppolicy.Allow and mcppolicy.Deny.
const (
	// NoPolicy: the session ran without a policy.
	NoPolicy = "no_policy"
	// Refused: the proxy refused the message before any policy
	// (malformed, oversized, before initialize); there is no call to
	// re-evaluate.
	Refused = "refused"
	// NotEvaluated is the candidate decision of a refused call.
	NotEvaluated = "not_evaluated"
)

// Changes a row can show.
const (
	NewlyDenied  = "newly_denied"
	NewlyAllowed = "newly_allowed"
	Unchanged    = "unchanged"
)

// Options tune Replay.
type Options struct {
	// Verify is passed to the verifier (keystore, now).
	Verify verify.Options
	// Current, when set, replaces the recorded decisions as what the
	// candidate is compared with: both policies are evaluated over the
	// same calls, each with its own counters.
	Current *mcppolicy.Policy
}

// Call is one recorded tool call and the candidate's decision on it.
type Call struct {
	ReceiptID string `json:"receipt_id"`
	SessionID string `json:"session_id"`
	Tool      string `json:"tool"`
	RequestAt string `json:"request_observed_at"`
	Outcome   string `json:"outcome"`
	// Recorded is allow, deny, no_policy or refused: the decision in the
	// pack, or the current policy's (Options.Current).
	Recorded       string `json:"recorded_decision" jsonschema:"enum=allow,enum=deny,enum=no_policy,enum=refused"`
	RecordedReason string `json:"recorded_reason"`
	RecordedRule   string `json:"recorded_rule"`
	// Candidate is allow, deny or not_evaluated.
	Candidate       string `json:"candidate_decision" jsonschema:"enum=allow,enum=deny,enum=not_evaluated"`
	CandidateReason string `json:"candidate_reason"`
	// Rule is the candidate's rule that decided (e.g. tools.deny[0]); ""
	// when it allowed.
	Rule   string `json:"rule"`
	Detail string `json:"detail"`
	// Change is newly_denied, newly_allowed, unchanged or not_evaluated.
	Change string `json:"change" jsonschema:"enum=newly_denied,enum=newly_allowed,enum=unchanged,enum=not_evaluated"`
	// ArgumentsRecorded is false when the session did not store arguments
	// (store_args off); Unchecked is then set if the candidate has
	// argument patterns for this tool, which could not be checked.
	ArgumentsRecorded bool   `json:"arguments_recorded"`
	Unchecked         bool   `json:"patterns_unchecked"`
	Note              string `json:"note,omitempty"`
}

// Summary counts the rows.
type Summary struct {
	Calls        int `json:"calls"`
	Evaluated    int `json:"evaluated"`
	NewlyDenied  int `json:"would_newly_deny"`
	NewlyAllowed int `json:"would_newly_allow"`
	Unchanged    int `json:"unchanged"`
	NotEvaluated int `json:"not_evaluated"`
	// CandidateDenied counts every call the candidate denies.
	CandidateDenied int `json:"candidate_denied"`
	// Unchecked counts calls whose argument patterns could not be checked.
	Unchecked int `json:"patterns_unchecked"`
}

// PolicyInfo names the candidate.
type PolicyInfo struct {
	Path string `json:"path"`
	Hash string `json:"hash"`
	Mode string `json:"mode"`
}

// Verification is what the verifier said about the pack.
type Verification struct {
	Integrity    string `json:"integrity_verdict"`
	ClaimVerdict string `json:"claim_verdict"`
	Verdict      string `json:"verdict"`
	ExitCode     int    `json:"exit_code"`
}

// Result is a whole replay (the JSON `assay incident replay --json` prints).
type Result struct {
	Command      string       `json:"command"`
	Status       string       `json:"status"`
	Pack         string       `json:"pack"`
	PackID       string       `json:"pack_id"`
	Verification Verification `json:"verification"`
	Policy       PolicyInfo   `json:"candidate_policy"`
	// Baseline says what the candidate is compared with: "recorded" (the
	// decisions in the pack) or "current_policy".
	Baseline      string      `json:"baseline" jsonschema:"enum=recorded,enum=current_policy"`
	CurrentPolicy *PolicyInfo `json:"current_policy,omitempty"`
	Sessions      []string    `json:"sessions"`
	Calls         []Call      `json:"calls"`
	Summary       Summary     `json:"summary"`
	Notes         []string    `json:"notes"`
}

// Replay verifies the pack (or audit bundle) at path and re-evaluates its
// mcp_tool_call receipts against candidate. A tampered pack is an
// exit-2 error; a path that is not a pack is bad input.
func Replay(path string, candidate *mcppolicy.Policy, o Options) (*Result, error) {
	if candidate == nil {
		return nil, exit.Bad("give the candidate policy with -p", "no candidate policy")
	}
	// One open (a bundle is extracted once); the receipts are read from
	// the pack just verified.
	pk, err := pack.Open(path)
	var vr *verify.Result
	if err != nil {
		vr, err = verify.Unopened(path, err, o.Verify)
	} else {
		defer pk.Close()
		vr, err = verify.VerifyPack(pk, o.Verify)
	}
	if err != nil {
		return nil, err
	}
	if vr.Integrity != verify.VerdictPass || vr.ExitCode == exit.Tampered {
		return nil, exit.New(exit.Tampered, "run 'assay verify-pack "+path+"' for details; replay reads only verified evidence",
			"pack %s failed verification: %s", path, firstError(vr))
	}
	recs, err := readVerified(pk)
	if err != nil {
		return nil, err
	}
	r := &Result{
		Command: "incident replay", Status: "ok", Pack: path, PackID: vr.Pack.PackID,
		Verification: Verification{Integrity: vr.Integrity, ClaimVerdict: vr.ClaimVerdict, Verdict: vr.Verdict, ExitCode: vr.ExitCode},
		Policy:       PolicyInfo{Path: candidate.Path, Hash: candidate.Hash, Mode: candidate.Mode},
		Sessions:     []string{}, Calls: []Call{}, Notes: []string{}, Baseline: "recorded",
	}
	if o.Current != nil {
		r.Baseline = "current_policy"
		r.CurrentPolicy = &PolicyInfo{Path: o.Current.Path, Hash: o.Current.Hash, Mode: o.Current.Mode}
	}
	for _, s := range vr.MCPSessions {
		if !s.Complete {
			r.Notes = append(r.Notes, fmt.Sprintf("session %s did not complete; its recorded calls are replayed as they are", s.SessionID))
		}
	}
	if candidate.Mode == mcppolicy.ModeAudit {
		r.Notes = append(r.Notes, "the candidate is in audit mode: calls it denies would be recorded as denied but still forwarded; set mode: enforce to block them")
	}
	evaluate(recs, candidate, o.Current, r)
	if r.Summary.Calls == 0 {
		r.Notes = append(r.Notes, "the pack records no MCP tool calls (mcp_tool_call receipts); record a session with 'assay mcp-proxy'")
	}
	if r.Summary.Unchecked > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d call(s) were recorded without arguments (store_args off), so the candidate's deny_patterns for them were not checked", r.Summary.Unchecked))
	}
	return r, nil
}

func firstError(vr *verify.Result) string {
	for _, e := range vr.Errors {
		s := e.Code
		if e.Field != "" {
			s += " " + e.Field
		}
		if e.Message != "" {
			s += ": " + e.Message
		}
		return s
	}
	return "integrity " + vr.Integrity
}

// records are the receipts replay needs, in file order.
type records struct {
	calls []*canon.Object
	// started maps a session id to its start time (session_metadata).
	started map[string]time.Time
}

// readVerified reads the receipt file of the pack the verifier just
// passed (the same open pack: its manifest is the one verified), through
// the pack's root, pinned to the manifest (pack.PinnedReceipts): a file
// swapped between the verification and this read is refused as tampered.
func readVerified(pk *pack.Pack) (*records, error) {
	it, err := pk.PinnedReceipts()
	if err != nil {
		return nil, err
	}
	defer it.Close()
	out := &records{started: map[string]time.Time{}}
	for it.Next() {
		line := it.Line()
		if len(line) > 0 && (bytes.Contains(line, []byte(`"mcp_tool_call"`)) || bytes.Contains(line, []byte(`"session_metadata"`))) {
			v, derr := canon.Decode(line)
			if o, ok := v.(*canon.Object); derr == nil && ok {
				switch o.String("type") {
				case receipt.TypeMCPToolCall:
					out.calls = append(out.calls, o)
				case "session_metadata":
					if t, ok := receipt.ParseTimestamp(o.String("started_at")); ok {
						sid := o.String("session_id")
						if old, seen := out.started[sid]; !seen || t.Before(old) {
							out.started[sid] = t
						}
					}
				}
			}
		}
	}
	if err := it.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// pending is a call with its parsed request time, for ordering.
type pending struct {
	rec  *canon.Object
	at   time.Time
	file int
}

// evaluate fills r.Calls and r.Summary: one evaluator per session, calls
// in the order the proxy admitted them.
func evaluate(recs *records, p, current *mcppolicy.Policy, r *Result) {
	bySession := map[string][]pending{}
	var order []string
	for i, o := range recs.calls {
		sid := o.String("session_id")
		if _, ok := bySession[sid]; !ok {
			order = append(order, sid)
		}
		at, _ := receipt.ParseTimestamp(o.String("request_observed_at"))
		bySession[sid] = append(bySession[sid], pending{rec: o, at: at, file: i})
	}
	r.Sessions = append(r.Sessions, order...)
	for _, sid := range order {
		calls := bySession[sid]
		sort.SliceStable(calls, func(i, j int) bool { return calls[i].at.Before(calls[j].at) })
		start, ok := recs.started[sid]
		if !ok && len(calls) > 0 {
			start = calls[0].at
		}
		ev := p.NewEvaluator(start)
		var cur *mcppolicy.Evaluator
		if current != nil {
			cur = current.NewEvaluator(start)
		}
		for _, c := range calls {
			row := replayOne(ev, p, cur, c)
			r.Calls = append(r.Calls, row)
			s := &r.Summary
			s.Calls++
			switch row.Change {
			case NewlyDenied:
				s.NewlyDenied++
			case NewlyAllowed:
				s.NewlyAllowed++
			case Unchanged:
				s.Unchanged++
			case NotEvaluated:
				s.NotEvaluated++
			}
			if row.Candidate != NotEvaluated {
				s.Evaluated++
			}
			if row.Candidate == mcppolicy.Deny {
				s.CandidateDenied++
			}
			if row.Unchecked {
				s.Unchecked++
			}
		}
	}
}

// replayOne evaluates one recorded call with the candidate's evaluator.
func replayOne(ev *mcppolicy.Evaluator, p *mcppolicy.Policy, cur *mcppolicy.Evaluator, c pending) Call {
	o := c.rec
	row := Call{
		ReceiptID: o.String("receipt_id"), SessionID: o.String("session_id"), Tool: o.String("tool_name"),
		RequestAt: o.String("request_observed_at"), Outcome: o.String("outcome"),
		Recorded: o.String("policy_verdict"), RecordedReason: o.String("policy_reason"), RecordedRule: o.String("policy_rule"),
	}
	if row.Recorded == "" {
		row.Recorded = NoPolicy
	}
	if row.Recorded == NoPolicy && row.Outcome == "denied" {
		// The proxy's own refusals carry no policy decision: there was no
		// well-formed call for a policy to judge.
		row.Recorded, row.Candidate, row.Change = Refused, NotEvaluated, NotEvaluated
		row.Note = "refused by the proxy before any policy"
		if d := o.String("outcome_detail"); d != "" {
			row.Note += ": " + d
		}
		return row
	}
	var args []byte
	if v, ok := o.Get("arguments_content"); ok && v != nil {
		if b, err := canon.Marshal(v); err == nil {
			args = b
			row.ArgumentsRecorded = true
			if want := o.String("arguments_hash"); want != "" && want != "sha256:"+receipt.SHA256Hex(b) {
				row.Note = "arguments_content does not hash to the recorded arguments_hash"
			}
		}
	}
	if !row.ArgumentsRecorded {
		if c, ok := p.Tools.Constraints[row.Tool]; ok && len(c.DenyPatterns) > 0 {
			row.Unchecked = true
			row.Note = "arguments were not recorded: the candidate's deny_patterns for this tool were not checked"
		}
	}
	if cur != nil {
		cd := cur.Evaluate(row.Tool, args, c.at)
		row.Recorded, row.RecordedReason, row.RecordedRule = cd.Verdict, cd.Reason, cd.Rule
	}
	d := ev.Evaluate(row.Tool, args, c.at)
	row.Candidate, row.CandidateReason, row.Rule, row.Detail = d.Verdict, d.Reason, d.Rule, d.Detail
	wasDenied := row.Recorded == mcppolicy.Deny
	switch {
	case d.Verdict == mcppolicy.Deny && !wasDenied:
		row.Change = NewlyDenied
	case d.Verdict == mcppolicy.Allow && wasDenied:
		row.Change = NewlyAllowed
	default:
		row.Change = Unchanged
	}
	return row
}
