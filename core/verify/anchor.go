package verify

// Transparency-log anchor gate codes (core/tlog runs the gate; this file
// only names its errors, so they render and count like every other code).
const (
	// EAnchorMissing: --require-anchor, and the pack has no _unsigned/anchor.json (exit 1).
	EAnchorMissing = "E_ANCHOR_MISSING"
	// EAnchorInvalid: the anchor's leaf, inclusion proof, checkpoint
	// signature or witness cosignatures do not verify (exit 2).
	EAnchorInvalid = "E_ANCHOR_INVALID"
	StageAnchor    = "gate_anchor"
)

func init() {
	meanings[EAnchorMissing] = "an anchor in a transparency log was required, but the pack carries none (_unsigned/anchor.json)"
	meanings[EAnchorInvalid] = "the pack's transparency-log anchor does not verify: the pack, the proof, the checkpoint or a cosignature was changed, or the log key or witness quorum is not met"
	mechanisms[EAnchorMissing] = "policy_conflict"
	mechanisms[EAnchorInvalid] = "tamper_detected"
	gateCodes[EAnchorMissing] = true
}
