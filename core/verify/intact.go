package verify

import (
	"os"
	"strings"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/pack"
)

// RequireIntactDir is the gate before something is added to a pack
// (anchoring it, timestamping it): path must be a pack directory, not an
// audit bundle, whose integrity verifies; adding to a changed pack would
// vouch for a lie. verb names the action in the messages ("anchor").
func RequireIntactDir(path, verb string) error {
	p, err := OpenIntactDir(path, verb)
	p.Close()
	return err
}

// OpenIntactDir is RequireIntactDir that hands back the verified pack, so
// what is added is derived from the bytes just verified (the anchor leaf
// from the manifest read once), not from a second read. The caller closes
// it.
func OpenIntactDir(path, verb string) (*pack.Pack, error) {
	if strings.HasSuffix(path, ".tar.gz") || strings.HasSuffix(path, ".tgz") {
		return nil, exit.Bad(verb+" the pack directory, not the bundle", "%s is an audit bundle", path)
	}
	if st, err := os.Stat(path); err == nil && !st.IsDir() {
		return nil, exit.Bad("give the pack directory", "not a pack directory: %s", path)
	}
	if err := (Options{}).Validate(); err != nil {
		return nil, err
	}
	p, err := pack.OpenDir(path)
	var r *Result
	if err != nil {
		r, err = Unopened(path, err, Options{})
	} else {
		r, err = VerifyPack(p, Options{})
	}
	if err != nil {
		p.Close()
		return nil, err
	}
	if r.Integrity != VerdictPass {
		p.Close()
		first := r.Verdict
		if len(r.Errors) > 0 {
			first = r.Errors[0].Code + ": " + r.Errors[0].Message
		}
		return nil, exit.New(exit.Tampered, verb+" only intact packs", "%s does not verify (%s); not %s it", path, first, gerund(verb))
	}
	return p, nil
}

func gerund(verb string) string {
	if strings.HasSuffix(verb, "e") {
		return verb[:len(verb)-1] + "ing"
	}
	return verb + "ing"
}
