package check

import (
	"strings"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/tlog"
	"github.com/assay-dev/assay/core/verify"
)

// newAnchorGate turns the anchor options into the tlog gate, reading the
// log key file and the witness policy with read (confined to the roots when
// the caller is the MCP server).
func newAnchorGate(a AnchorOptions, read func(string) ([]byte, error)) (*tlog.Gate, error) {
	g := &tlog.Gate{Required: a.Require}
	if a.LogKey != "" {
		k := strings.TrimSpace(a.LogKey)
		if _, err := tlog.CheckLogKey(k); err != nil {
			// Not a vkey itself: a file holding one.
			b, rerr := read(k)
			if rerr != nil {
				return nil, exit.Bad("give the log's vkey (name+id+key) or a file holding it", "log key (--log-key): not a note vkey, and %v", rerr)
			}
			if k, err = tlog.CheckLogKey(string(b)); err != nil {
				return nil, err
			}
		}
		g.Options.LogKey = k
	}
	if a.WitnessPolicy != "" {
		b, err := read(a.WitnessPolicy)
		if err != nil {
			return nil, exit.Bad("give a witness policy file (C2SP tlog-policy)", "witness policy (--witness-policy): %v", err)
		}
		p, err := tlog.ParsePolicy(b)
		if err != nil {
			return nil, exit.Bad("fix the witness policy (see docs/anchoring.md)", "%s: %v", a.WitnessPolicy, err)
		}
		g.Options.Policy = p
	}
	return g, nil
}

// annotateAnchor puts what a passed anchor gate proved in its detail, so the
// CLI and the MCP tool show the same line.
func annotateAnchor(r *verify.Result, g *tlog.Gate) {
	if g == nil {
		return
	}
	for i := range r.Gates {
		if r.Gates[i].Name != g.Name() || !r.Gates[i].Passed {
			continue
		}
		if g.Result != nil {
			r.Gates[i].Detail = g.Result.Summary()
		} else {
			r.Gates[i].Detail = "no anchor (not required)"
		}
	}
}
