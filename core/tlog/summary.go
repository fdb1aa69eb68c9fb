package tlog

import (
	"fmt"
	"strings"
)

// Summary is one line on what a verified anchor proves.
func (v *Verification) Summary() string {
	s := fmt.Sprintf("entry %d of %s (tree size %d)", v.LeafIndex, v.Origin, v.TreeSize)
	if !v.LogKeyPinned {
		s += ", log key from the pack (not pinned: pass --log-key)"
	}
	if v.Quorum != "" {
		names := make([]string, len(v.Cosigners))
		for i, c := range v.Cosigners {
			names[i] = c.Name
			if !c.Time.IsZero() {
				names[i] += " at " + c.Time.Format("2006-01-02T15:04:05Z")
			}
		}
		s += fmt.Sprintf("; witnessed by %s (quorum %s)", strings.Join(names, ", "), v.Quorum)
	}
	return s
}
