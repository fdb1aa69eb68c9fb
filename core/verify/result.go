// Package verify checks a proof pack offline: the seven stages of the
// reference's verifier (pack-format.md §5.3) with every error collected,
// then the requested gates, and one exit code per DECISIONS 6.
package verify

import (
	"github.com/assay-dev/assay/core/coverage"
	"github.com/assay-dev/assay/core/seal"
)

// Verdicts.
const (
	VerdictPass       = "PASS"
	VerdictHonestFail = "HONEST_FAIL"
	VerdictTampered   = "TAMPERED"
)

// Error codes (pack-format.md §5.6).
const (
	EManifestTamper   = "E_MANIFEST_TAMPER"
	EPackSigInvalid   = "E_PACK_SIG_INVALID"
	EOmission         = "E_PACK_OMISSION_DETECTED"
	EPathEscape       = "E_PATH_ESCAPE"
	ESchemaUnknown    = "E_SCHEMA_UNKNOWN"
	ETimestampInvalid = "E_TIMESTAMP_INVALID"
	EPackStale        = "E_PACK_STALE"
	ECIMissing        = "E_CI_BINDING_MISSING"
	ECIMismatch       = "E_CI_BINDING_MISMATCH"
	EClaimFailed      = "E_CLAIM_FAILED"
	EClaimGate        = "E_CLAIM_GATE"
	EExpired          = "E_PACK_EXPIRED"
	ELockMismatch     = "E_LOCK_MISMATCH"
	ECoverage         = "E_COVERAGE_BELOW_THRESHOLD"
	EContractTamper   = "E_CONTRACT_TAMPER"
)

// Stage names, in order. The first seven are the reference's; the rest name
// the checks it runs without recording a stage.
const (
	StageSchema      = "validate_schema"
	StagePaths       = "validate_paths"
	StageFileHashes  = "validate_file_hashes"
	StageReceipts    = "validate_receipts"
	StageAttestation = "validate_attestation"
	StageSignature   = "verify_signature"
	StageD12         = "check_d12_invariant"
	StageFreshness   = "check_freshness"
	StageCIBinding   = "check_ci_binding"
	StageTypes       = "check_receipt_types"
	StageClaims      = "gate_claims"
	StageExpiry      = "gate_expiry"
	StageLock        = "gate_lock"
	StageCoverage    = "gate_coverage"
)

// Error is one verification error.
type Error struct {
	Code         string `json:"code"`
	Field        string `json:"field,omitempty"`
	Stage        string `json:"stage"`
	Message      string `json:"message"`
	ReceiptIndex *int   `json:"receipt_index,omitempty"`
	// Meaning says in plain words what this kind of error means.
	Meaning string `json:"meaning"`
	// gate marks an honest failure of a requested gate (exit 1), as
	// opposed to tampering (exit 2).
	gate bool
}

// Stage is the outcome of one stage.
type Stage struct {
	Stage  string         `json:"stage"`
	Status string         `json:"status"` // ok or fail
	Detail map[string]any `json:"detail,omitempty"`
}

// Merkle reports the DECISIONS 9 Merkle check.
type Merkle struct {
	Algorithm string `json:"algorithm"`
	TreeSize  uint64 `json:"tree_size"`
	Root      string `json:"root"`
	Recorded  bool   `json:"recorded"` // false: the pack (e.g. a reference pack) records no root
	Match     bool   `json:"match"`
}

// Pack summarises what the manifest says (all of it signed when integrity
// passes).
type Pack struct {
	PackID   string `json:"pack_id"`
	RunID    string `json:"run_id"`
	SignerID string `json:"signer_id"`
	// Fingerprint is sha256 of the public key that verified the signature
	// ("" when none did); SignerKey says where that key came from:
	// "embedded" (the pack's signer_pubkey) or "keystore" (the local key
	// for signer_id, used only when the pack embeds none). Only an embedded
	// key proves a signer (DECISIONS 20). ClaimedFingerprint is what the
	// manifest says, verified or not.
	Fingerprint        string `json:"signer_pubkey_sha256"`
	SignerKey          string `json:"signer_key"`
	ClaimedFingerprint string `json:"claimed_signer_pubkey_sha256"`
	SignerPubkey       string `json:"signer_pubkey"`
	SignatureAlg       string `json:"signature_alg"`
	PackRootSHA256     string `json:"pack_root_sha256"`
	ClaimSetHash       string `json:"claim_set_hash"`
	ReceiptIntegrity   string `json:"receipt_integrity"`
	ClaimCheck         string `json:"claim_check"`
	Mode               string `json:"mode"`
	TimestampStart     string `json:"timestamp_start"`
	TimestampEnd       string `json:"timestamp_end"`
	VerifierVersion    string `json:"built_by_version"`
	FormatVersion      string `json:"pack_format_version"`
	CIBinding          any    `json:"ci_binding"`
	ValidUntil         string `json:"valid_until,omitempty"`
}

// Coverage is the coverage gate's report.
type Coverage struct {
	CoveredIDs   []string `json:"covered_ids"`
	UncoveredIDs []string `json:"uncovered_ids"`
	ExtraIDs     []string `json:"extra_ids"`
	CoveragePct  float64  `json:"coverage_pct"`
	CoveredCount int      `json:"covered_count"`
	TotalCount   int      `json:"total_count"`
	MinCoverage  float64  `json:"min_coverage"`
	Passed       bool     `json:"passed"`
	// Unattributed and Note explain model calls that name no call site
	// (coverage.Report); absent when there are none.
	Unattributed *coverage.Unattributed `json:"unattributed,omitempty"`
	Note         string                 `json:"note,omitempty"`
}

// Result is the outcome of Verify: what the --json output prints.
type Result struct {
	Command  string `json:"command"`
	Verdict  string `json:"verdict"`
	ExitCode int    `json:"exit_code"`
	// Integrity is PASS or TAMPERED: the mechanical checks alone.
	Integrity string `json:"integrity_verdict"`
	// ClaimVerdict maps the signed claim_check: PASS, HONEST_FAIL or NOT_EVALUATED.
	ClaimVerdict string  `json:"claim_verdict"`
	Passed       bool    `json:"passed"`
	Path         string  `json:"path"`
	Pack         Pack    `json:"pack"`
	ReceiptCount int     `json:"receipt_count"`
	HeadHash     *string `json:"head_hash" jsonschema:"oneof_type=string;null"`
	Merkle       *Merkle `json:"merkle,omitempty"`
	// Seal is the check of the recorder's seal, when the pack has one.
	Seal *seal.Report `json:"seal,omitempty"`
	// Errors lists the first MaxErrors errors in full; ErrorCount counts
	// all of them and ErrorsOmitted those not listed, so a pack with
	// millions of bad receipts costs no more memory than one with a hundred.
	Errors        []Error  `json:"errors"`
	ErrorCount    int      `json:"error_count"`
	ErrorsOmitted int      `json:"errors_omitted"`
	Warnings      []string `json:"warnings"`
	Stages        []Stage  `json:"stages"`
	// Gates lists the gates that ran and whether each passed.
	Gates    []Gate    `json:"gates"`
	Coverage *Coverage `json:"coverage,omitempty"`
	// LockErrors are "lock mismatch: <field>: expected X, got Y" lines.
	LockErrors   []string `json:"lock_errors,omitempty"`
	Proves       []string `json:"proves"`
	DoesNotProve []string `json:"does_not_prove"`
	// FailureMechanisms counts errors per fault family.
	FailureMechanisms map[string]int `json:"failure_mechanisms"`
	// CallsiteIDs are the distinct callsite_id values of the receipts
	// (used by the coverage gate).
	CallsiteIDs []string `json:"-"`
	// ModelCallsWithoutCallsite counts the model_call receipts that name
	// no call site (the coverage gate explains them).
	ModelCallsWithoutCallsite int `json:"-"`
	// GatewayCallsWithoutCallsite counts those the gateway recorded.
	GatewayCallsWithoutCallsite int `json:"-"`
	// ModelCalls counts model_call receipts (for explain).
	TypeCounts map[string]int `json:"receipt_types"`
	// MCPSessions lists the MCP proxy sessions an intact pack records and
	// whether each closed cleanly (see mcpsessions.go).
	MCPSessions []MCPSession `json:"mcp_sessions,omitempty"`

	honestReceiptFail bool
	// sealAltered: the pack's intact seal records evidence altered after
	// it was recorded (an honest failure).
	sealAltered bool
	// Running tallies over every error, listed or not.
	nTamper, nGate int
	failed         map[string]bool // stages with an error
	gateFailed     map[string]bool // stages with a gate error
	errFields      map[string]bool // fields named by an error
	// badInput is set when the pack holds something that must not be
	// read (a FIFO or device): Verify returns it as exit 3.
	badInput error
}

// MaxErrors is how many errors a Result lists in full.
const MaxErrors = 100

// newResult is an empty result with its tallies ready.
func newResult(path string) *Result {
	return &Result{Command: "verify-pack", Path: path, Errors: []Error{}, Warnings: []string{}, Stages: []Stage{}, Gates: []Gate{},
		TypeCounts: map[string]int{}, FailureMechanisms: map[string]int{},
		failed: map[string]bool{}, gateFailed: map[string]bool{}, errFields: map[string]bool{}}
}

// add records an error: counted always, listed while fewer than MaxErrors
// are.
func (r *Result) add(e Error) {
	r.ErrorCount++
	if e.gate {
		r.nGate++
		r.gateFailed[e.Stage] = true
	} else {
		r.nTamper++
	}
	r.failed[e.Stage] = true
	r.errFields[e.Field] = true
	r.FailureMechanisms[mechanisms[e.Code]]++
	if len(r.Errors) < MaxErrors {
		r.Errors = append(r.Errors, e)
	} else {
		r.ErrorsOmitted++
	}
}

// addUnlisted counts n more errors of code (not gate errors) in stage that
// are not listed (their details were never kept).
func (r *Result) addUnlisted(code, stage string, n int) {
	if n <= 0 {
		return
	}
	r.ErrorCount += n
	r.nTamper += n
	r.failed[stage] = true
	r.FailureMechanisms[mechanisms[code]] += n
	r.ErrorsOmitted += n
}

// Gate is one requested gate's outcome.
type Gate struct {
	Name   string `json:"name"`
	Passed bool   `json:"passed"`
	Detail string `json:"detail"`
}

var meanings = map[string]string{
	EManifestTamper:   "a file, hash or signed field no longer matches what was signed: the pack was changed after it was built",
	EPackSigInvalid:   "the manifest signature does not verify: the manifest was changed or signed by another key",
	EOmission:         "the number of receipts differs from the signed count: receipts were added or removed",
	EPathEscape:       "the manifest points at a file outside the pack directory",
	ESchemaUnknown:    "a receipt has a type a proof pack may not carry",
	ETimestampInvalid: "a timestamp is unreadable, or lies more than 24 hours in the future",
	EPackStale:        "the pack is older than --max-age-hours allows",
	ECIMissing:        "the pack carries no CI binding, but one was required",
	ECIMismatch:       "the pack was built for another commit than --expected-commit-sha",
	EClaimFailed:      "the signed claim check says FAIL: the evidence is intact and shows a failed claim",
	EClaimGate:        "--require-claim-pass was given but the claim check is not PASS",
	EExpired:          "the pack's valid_until is in the past or unreadable",
	ELockMismatch:     "the pack does not satisfy the lockfile (cards, format or signer)",
	ECoverage:         "fewer call sites emitted receipts than the coverage contract requires",
	EContractTamper:   "the coverage contract's own hash does not match its call sites",
}

var mechanisms = map[string]string{
	EManifestTamper: "tamper_detected", EPackSigInvalid: "tamper_detected", EOmission: "tamper_detected",
	EPathEscape: "tamper_detected", ESchemaUnknown: "schema_mismatch", ETimestampInvalid: "stale_evidence",
	EPackStale: "stale_evidence", ECIMissing: "policy_conflict", ECIMismatch: "policy_conflict",
	EClaimFailed: "claim_failed", EClaimGate: "claim_failed", EExpired: "stale_evidence",
	ELockMismatch: "policy_conflict", ECoverage: "coverage_gap", EContractTamper: "tamper_detected",
}

// gateCodes are honest failures (exit 1) rather than tampering.
var gateCodes = map[string]bool{
	EPackStale: true, ECIMissing: true, ECIMismatch: true, EClaimFailed: true, EClaimGate: true,
	EExpired: true, ECoverage: true,
}

// NewError builds an error for a gate: gate true for an honest failure
// (exit 1), false for tampering (exit 2).
func NewError(code, field, stage, msg string, gate bool) Error {
	m := meanings[code]
	return Error{Code: code, Field: field, Stage: stage, Message: msg, Meaning: m, gate: gate}
}
