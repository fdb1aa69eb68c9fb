// Package explain says in plain words what a proof pack records: what
// happened (receipts, models, tokens, errors, time range), whether the
// evidence is intact, how the claims came out, and what the pack proves and
// does not prove. It verifies first; it never trusts an unverified pack's
// contents without saying so.
package explain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/claims"
	"github.com/assay-dev/assay/core/fsutil"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/seal"
	"github.com/assay-dev/assay/core/tlog"
	"github.com/assay-dev/assay/core/verify"
)

// Model aggregates the model_call receipts of one model.
type Model struct {
	Model        string `json:"model"`
	Provider     string `json:"provider,omitempty"`
	Calls        int    `json:"calls"`
	InputTokens  int64  `json:"input_tokens"`
	OutputTokens int64  `json:"output_tokens"`
	Errors       int    `json:"errors"`
}

// Explanation is the structured explanation of a pack.
type Explanation struct {
	Path           string               `json:"path"`
	PackID         string               `json:"pack_id"`
	RunID          string               `json:"run_id"`
	Verdict        string               `json:"verdict"`
	ExitCode       int                  `json:"exit_code"`
	Integrity      string               `json:"integrity_verdict"`
	ClaimCheck     string               `json:"claim_check"`
	Signer         string               `json:"signer_id"`
	Fingerprint    string               `json:"signer_fingerprint"`
	Mode           string               `json:"mode"`
	TimestampStart string               `json:"timestamp_start"`
	TimestampEnd   string               `json:"timestamp_end"`
	Receipts       int                  `json:"receipts"`
	Types          map[string]int       `json:"receipt_types"`
	Models         []Model              `json:"models"`
	MCPSessions    []MCPSession         `json:"mcp_sessions"`
	ModelErrors    int                  `json:"model_call_errors"`
	Claims         *claims.Verification `json:"claims,omitempty"`
	Errors         []verify.Error       `json:"errors"`
	Proves         []string             `json:"proves"`
	DoesNotProve   []string             `json:"does_not_prove"`
	CIBinding      any                  `json:"ci_binding"`
	// Verified says whether everything above was read from a pack that
	// passed integrity verification; when false, Note says so in words.
	Verified bool   `json:"verified"`
	Note     string `json:"note,omitempty"`
	// Posture: T0 self-signed, T1 logged, T2 witnessed, timestamped (core/tlog).
	Posture *tlog.Posture `json:"posture,omitempty"`
	// Seal is the recorder's seal, when the pack has one (core/seal).
	Seal *seal.Report `json:"seal,omitempty"`
}

// Pack explains the pack or bundle at path.
func Pack(path string) (*Explanation, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		// Refuse a pack with a file linking out of it before anything is
		// read (or echoed in an error).
		if err := fsutil.CheckPackDir(path); err != nil {
			return nil, err
		}
	}
	// One open (a bundle is extracted once): the receipts and claim
	// results below are read from the very files just verified.
	p, r, err := verify.OpenVerified(path, verify.Options{IntegrityOnly: true})
	if err != nil {
		return nil, err
	}
	defer p.Close()
	e := &Explanation{
		Path: path, PackID: r.Pack.PackID, RunID: r.Pack.RunID, Verdict: r.Verdict, ExitCode: r.ExitCode,
		Integrity: r.Integrity, ClaimCheck: r.Pack.ClaimCheck, Signer: r.Pack.SignerID, Fingerprint: r.Pack.Fingerprint,
		Mode: r.Pack.Mode, TimestampStart: r.Pack.TimestampStart, TimestampEnd: r.Pack.TimestampEnd,
		Receipts: r.ReceiptCount, Types: r.TypeCounts, Errors: r.Errors, Proves: r.Proves, DoesNotProve: r.DoesNotProve,
		CIBinding: r.Pack.CIBinding, Models: []Model{}, MCPSessions: []MCPSession{}, Seal: r.Seal,
	}
	if r.Pack.ClaimCheck == "FAIL" && r.ExitCode == 0 {
		// explain reports claims; the verdict of the evidence itself is
		// HONEST_FAIL, as verify-pack would say (a tampered pack stays
		// TAMPERED, whatever its claims say).
		e.Verdict, e.ExitCode = verify.VerdictHonestFail, 1
	}
	e.Verified = e.Integrity == "PASS"
	if !e.Verified {
		e.Note = UnverifiedNote
	}
	if p == nil {
		return e, nil // the manifest could not be read: nothing to describe
	}
	e.Models, e.ModelErrors = models(p)
	if ms := mcpSessions(p); ms != nil {
		e.MCPSessions = ms
	}
	e.Claims = readClaims(p)
	if e.Verified {
		e.Posture = tlog.PackPosture(p.Dir, tlog.VerifyOptions{})
	}
	return e, nil
}

// UnverifiedNote is what explain says of a pack that failed verification.
const UnverifiedNote = "Unverified: the pack failed verification, so what follows was read from files that may have been altered."

// models reads the model calls of the pack (through the pack's root: no
// link out of it is followed).
func models(p *pack.Pack) ([]Model, int) {
	it, err := p.Receipts()
	if err != nil {
		return []Model{}, 0
	}
	defer it.Close()
	by := map[string]*Model{}
	errs := 0
	for it.Next() {
		line := it.Line()
		if !bytes.Contains(line, []byte(`"model_call"`)) {
			continue
		}
		v, err := canon.Decode(line)
		if err != nil {
			continue
		}
		o, ok := v.(*canon.Object)
		if !ok || o.String("type") != "model_call" {
			continue
		}
		name := o.String("model_id")
		if name == "" {
			name = o.String("model")
		}
		if name == "" {
			name = "unknown"
		}
		m := by[name]
		if m == nil {
			m = &Model{Model: name, Provider: o.String("provider")}
			by[name] = m
		}
		m.Calls++
		m.InputTokens += num(o, "input_tokens")
		m.OutputTokens += num(o, "output_tokens")
		if ev, ok := o.Get("error"); ok && ev != nil && ev != "" && ev != false {
			m.Errors++
			errs++
		}
	}
	out := make([]Model, 0, len(by))
	for _, m := range by {
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Calls > out[j].Calls || out[i].Calls == out[j].Calls && out[i].Model < out[j].Model
	})
	return out, errs
}

// maxReport bounds the verify report read for its claim results.
const maxReport = 64 << 20

func num(o *canon.Object, k string) int64 {
	v, _ := o.Get(k)
	n, ok := v.(canon.Number)
	if !ok {
		return 0
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return 0
	}
	return int64(f)
}

func readClaims(p *pack.Pack) *claims.Verification {
	raw, err := p.ReadFile(pack.FileReport, maxReport)
	if err != nil {
		return nil
	}
	var rep struct {
		CV *claims.Verification `json:"claim_verification"`
	}
	if json.Unmarshal(raw, &rep) != nil {
		return nil
	}
	return rep.CV
}

// Text renders the explanation for a terminal (md=false) or as Markdown.
func (e *Explanation) Text(md bool) string {
	var b strings.Builder
	h := func(s string) {
		if md {
			fmt.Fprintf(&b, "\n## %s\n\n", s)
		} else {
			fmt.Fprintf(&b, "\n%s\n", strings.ToUpper(s))
		}
	}
	bullet := func(format string, a ...any) {
		if md {
			b.WriteString("- ")
		} else {
			b.WriteString("  ")
		}
		fmt.Fprintf(&b, format+"\n", a...)
	}
	id := e.PackID
	if id == "" {
		id = "with an unreadable manifest"
	}
	if md {
		fmt.Fprintf(&b, "# Proof pack %s\n", id)
	} else {
		fmt.Fprintf(&b, "Proof pack %s (%s)\n", id, e.Path)
	}
	h("What happened")
	if !e.Verified {
		bullet("%s", UnverifiedNote)
	}
	if e.RunID != "" {
		bullet("Run %s recorded %d receipts between %s and %s (mode %s).", e.RunID, e.Receipts, e.TimestampStart, e.TimestampEnd, e.Mode)
	}
	types := make([]string, 0, len(e.Types))
	for t, n := range e.Types {
		types = append(types, fmt.Sprintf("%s ×%d", t, n))
	}
	sort.Strings(types)
	if len(types) > 0 {
		bullet("Receipt types: %s.", strings.Join(types, ", "))
	}
	for _, m := range e.Models {
		bullet("%s: %s, %d input + %d output tokens, %s.", m.Model, plural(m.Calls, "call"), m.InputTokens, m.OutputTokens, plural(m.Errors, "error"))
	}
	for _, m := range e.MCPSessions {
		who := "MCP session " + m.SessionID
		if m.Source == "assay.mcp_proxy" {
			who = "MCP proxy session " + m.SessionID
		}
		oc := make([]string, 0, len(m.Outcomes))
		for k, n := range m.Outcomes {
			oc = append(oc, fmt.Sprintf("%d %s", n, k))
		}
		sort.Strings(oc)
		detail := ""
		if len(oc) > 0 {
			detail = " (" + strings.Join(oc, ", ") + ")"
		}
		bullet("%s, server %s: %s%s.", who, m.ServerID, plural(m.ToolCalls, "tool call"), detail)
		if len(m.Denied) > 0 {
			bullet("Denied by policy: %s.", strings.Join(m.Denied, ", "))
		}
		switch {
		case m.Complete == nil:
		case *m.Complete:
			bullet("The session completed: every forwarded call was answered and the server ended normally.")
		default:
			bullet("INCOMPLETE session: %s.", strings.Join(m.IncompleteReasons, "; "))
		}
	}
	h("Integrity")
	switch e.Integrity {
	case "PASS":
		bullet("Intact: every file hash, the receipts, the attestation and the Ed25519 signature check out.")
		bullet("Signed by %s (fingerprint %s).", e.Signer, e.Fingerprint)
	default:
		bullet("TAMPERED: the pack changed after it was signed.")
		for i, er := range e.Errors {
			if i == 5 {
				bullet("… %d more errors", len(e.Errors)-5)
				break
			}
			bullet("%s %s: %s", er.Code, er.Field, er.Message)
		}
	}
	if e.Seal != nil {
		h("Seal")
		for _, l := range SealLines(e.Seal) {
			bullet("%s", l)
		}
	}
	if e.Posture != nil {
		h("Anchoring")
		for _, l := range e.Posture.Lines() {
			bullet("%s", l)
		}
	}
	h("Claims")
	switch {
	case e.Claims == nil && e.ClaimCheck == "N/A":
		bullet("No claims were declared when the pack was built.")
	case e.Claims == nil && e.ClaimCheck == "":
		bullet("Signed claim check: unknown (the manifest could not be read).")
	case e.Claims == nil:
		bullet("Signed claim check: %s.", e.ClaimCheck)
	case e.ClaimCheck == "":
		bullet("Claim results in verify_report.json (unsigned here: the manifest could not be read): %d of %d claims passed.", e.Claims.NPassed, e.Claims.NClaims)
	default:
		bullet("Signed claim check: %s (%d of %d claims passed).", e.ClaimCheck, e.Claims.NPassed, e.Claims.NClaims)
		for _, r := range e.Claims.Results {
			mark := "pass"
			if !r.Passed {
				mark = "FAIL"
			}
			bullet("[%s] %s (%s): expected %s; actual: %s", mark, r.ClaimID, r.Severity, r.Expected, r.Actual)
		}
	}
	h("What this pack proves")
	for _, p := range e.Proves {
		bullet("%s", strings.ReplaceAll(p, "_", " "))
	}
	h("What it does not prove")
	for _, p := range e.DoesNotProve {
		bullet("%s", strings.ReplaceAll(p, "_", " "))
	}
	return b.String()
}

// plural is "1 call", "2 calls".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// SealLines says in plain words what a pack's seal shows.
func SealLines(r *seal.Report) []string {
	var out []string
	if !r.Verified {
		out = append(out, "The seal does NOT hold: the pack's receipts cannot be shown to be the ones recorded.")
		for i, p := range r.Problems {
			if i == 5 {
				out = append(out, fmt.Sprintf("… %d more", len(r.Problems)-5))
				break
			}
			out = append(out, p)
		}
		return out
	}
	key := r.RunKeySHA256
	if len(key) > 16 {
		key = key[:16] + "…"
	}
	switch r.Status {
	case seal.StatusIntact:
		out = append(out, fmt.Sprintf("Sealed as recorded: %s, last checkpoint at %s.", plural(int(r.Covers), "receipt"), r.LastCheckpointAt))
	case seal.StatusTruncated:
		out = append(out, fmt.Sprintf("Sealed as recorded up to receipt %d, last checkpoint at %s: the recorder stopped before the run ended (killed?); %s of this pack %s not sealed.",
			r.Covers, r.LastCheckpointAt, plural(r.Unsealed, "receipt"), map[bool]string{true: "is", false: "are"}[r.Unsealed == 1]))
	case seal.StatusAltered:
		out = append(out, fmt.Sprintf("ALTERED: %s (%s). The pack holds the %s as they were sealed (last checkpoint at %s).",
			seal.AlteredMessage, plural(r.AlterationsTotal, "alteration"), plural(int(r.Covers), "receipt"), r.LastCheckpointAt))
		for i, a := range r.Alterations {
			if i == 5 {
				out = append(out, fmt.Sprintf("… %d more", r.AlterationsTotal-5))
				break
			}
			out = append(out, a.String())
		}
	}
	out = append(out, fmt.Sprintf("Each receipt was sealed when it was recorded, under run key %s certified by %s at the start of the run.", key, r.CertifiedBy))
	return out
}
