package mcpproxy

import (
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/store"
)

// Conclude ends a session the way `assay mcp-proxy` does: it decides
// whether a pack is built (not for a joined trace, with auto-pack off, or
// for a complete session without tool calls; PackNote says why), writes the
// session file and the pack (Finish) and returns the report with its exit
// code: 0 for a complete session whose evidence is all written and packed,
// else 1. The error is Finish's, already recorded in the report; callers
// log it. signer is nil when no pack is to be signed.
func Conclude(st *store.Store, sess *Session, set Settings, signer *keys.Signer) (*Report, error) {
	rep := &Report{Command: "mcp-proxy", Status: "complete", Session: sess}
	if !sess.Complete {
		rep.Status = "incomplete"
	}
	switch {
	case set.JoinTrace != "":
		rep.PackNote = "joined trace " + set.JoinTrace + " from " + store.EnvTrace + "; its owner builds the pack"
		signer = nil
	case !set.AutoPack:
		rep.PackNote = "auto-pack is off; build it with: assay proof-pack " + sess.TraceID
	case sess.Complete && sess.ToolCalls == 0:
		rep.PackNote = "no tool calls in this session; no pack built"
		signer = nil
	}
	art, err := Finish(st, sess, set.AuditDir, signer, set.Mode)
	rep.Artifacts = art
	rep.ExitCode = exit.OK
	if !sess.Complete || sess.EvidenceLost > 0 {
		rep.ExitCode = exit.HonestFail
	}
	if art != nil && art.Unreadable > 0 {
		// The pack is honest about what it holds, but not the whole trace.
		rep.ExitCode = exit.HonestFail
	}
	if err != nil {
		rep.ExitCode = exit.HonestFail
		rep.Error = err.Error()
	}
	return rep, err
}

// NeedsSigner reports whether the session will sign a pack, so the key is
// made (or found) before the server starts.
func (s Settings) NeedsSigner() bool { return s.AutoPack && s.JoinTrace == "" }
