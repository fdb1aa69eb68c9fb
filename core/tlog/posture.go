package tlog

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/assay-dev/assay/core/tlog/tsa"
)

// Posture says how far beyond its own signature a pack's evidence reaches:
// T0 self-signed, T1 logged (in a transparency log), T2 witnessed (the
// log's checkpoint cosigned under a witness policy), and whether an RFC 3161
// authority timestamped it.
type Posture struct {
	// Level is T0, T1 or T2.
	Level string `json:"level"`
	// Log is the verified anchor (T1 and up).
	Log *Verification `json:"log,omitempty"`
	// CheckpointCosigners are the names on the checkpoint's other signature
	// lines; without a witness policy they are not verified.
	CheckpointCosigners []string `json:"checkpoint_cosigners,omitempty"`
	// Timestamp is the verified RFC 3161 timestamp, if any.
	Timestamp *tsa.Result `json:"timestamp,omitempty"`
	// Problems are anchors or timestamps present that do not verify.
	Problems []string `json:"problems,omitempty"`
}

// PackPosture works out the posture of the pack in dir from what it carries
// (o pins the log key and witness policy when the caller has them).
func PackPosture(dir string, o VerifyOptions) *Posture {
	p := &Posture{Level: "T0"}
	v, err := VerifyAnchor(dir, o)
	switch {
	case errors.Is(err, ErrNoAnchor):
	case err != nil:
		p.Problems = append(p.Problems, err.Error())
	default:
		p.Log, p.Level = v, "T1"
		if o.Policy != nil && o.Policy.Quorum != "none" {
			p.Level = "T2"
		}
		p.CheckpointCosigners = otherSigners(v)
	}
	ts, err := tsa.Verify(dir, nil)
	switch {
	case errors.Is(err, tsa.ErrNoBundle):
	case err != nil:
		p.Problems = append(p.Problems, err.Error())
	default:
		p.Timestamp = ts
	}
	return p
}

// otherSigners lists the key names of the checkpoint's signature lines
// other than the log's.
func otherSigners(v *Verification) []string {
	var out []string
	_, err := note.Open([]byte(v.Checkpoint), note.VerifierList())
	var un *note.UnverifiedNoteError
	if !errors.As(err, &un) {
		return nil
	}
	for _, s := range un.Note.UnverifiedSigs {
		if s.Name != v.Origin {
			out = append(out, s.Name)
		}
	}
	return out
}

// Lines renders the posture as sentences.
func (p *Posture) Lines() []string {
	var out []string
	switch p.Level {
	case "T0":
		out = append(out, "T0 self-signed: only the signer's key vouches for this pack; whoever holds it could re-sign another history. Anchor it with 'assay anchor'.")
	default:
		v := p.Log
		out = append(out, fmt.Sprintf("%s logged: entry %d of transparency log %s, in a signed checkpoint of %d entries (anchored %s).", p.Level, v.LeafIndex, v.Origin, v.TreeSize, v.AnchoredAt))
		if !v.LogKeyPinned {
			out = append(out, "The log key is the one recorded in the pack; pin it with 'assay verify-pack --require-anchor --log-key VKEY'.")
		}
		if p.Level == "T2" {
			names := make([]string, len(v.Cosigners))
			for i, c := range v.Cosigners {
				names[i] = c.Name + " at " + c.Time.Format(time.RFC3339)
			}
			out = append(out, fmt.Sprintf("T2 witnessed: cosigned by %s (quorum %s).", strings.Join(names, ", "), v.Quorum))
		} else if len(p.CheckpointCosigners) > 0 {
			out = append(out, fmt.Sprintf("The checkpoint carries cosignatures from %s, not verified here: check them with --witness-policy.", strings.Join(p.CheckpointCosigners, ", ")))
		}
	}
	if t := p.Timestamp; t != nil {
		pin := " (CA recorded in the bundle; pin it with 'assay verify-witness --ca')"
		if t.CAPinned {
			pin = ""
		}
		out = append(out, fmt.Sprintf("Timestamped: the pack root existed at %s, by %s%s.", t.GenTime.Format(time.RFC3339), t.TSA, pin))
	}
	for _, pr := range p.Problems {
		out = append(out, "PROBLEM: "+pr)
	}
	return out
}
