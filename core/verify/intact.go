package verify

import (
	"os"
	"strings"

	"github.com/assay-dev/assay/core/exit"
)

// RequireIntactDir is the gate before something is added to a pack
// (anchoring it, timestamping it): path must be a pack directory, not an
// audit bundle, whose integrity verifies; adding to a changed pack would
// vouch for a lie. verb names the action in the messages ("anchor").
func RequireIntactDir(path, verb string) error {
	if strings.HasSuffix(path, ".tar.gz") || strings.HasSuffix(path, ".tgz") {
		return exit.Bad(verb+" the pack directory, not the bundle", "%s is an audit bundle", path)
	}
	if st, err := os.Stat(path); err == nil && !st.IsDir() {
		return exit.Bad("give the pack directory", "not a pack directory: %s", path)
	}
	r, err := Verify(path, Options{})
	if err != nil {
		return err
	}
	if r.Integrity != VerdictPass {
		first := r.Verdict
		if len(r.Errors) > 0 {
			first = r.Errors[0].Code + ": " + r.Errors[0].Message
		}
		return exit.New(exit.Tampered, verb+" only intact packs", "%s does not verify (%s); not %s it", path, first, gerund(verb))
	}
	return nil
}

func gerund(verb string) string {
	if strings.HasSuffix(verb, "e") {
		return verb[:len(verb)-1] + "ing"
	}
	return verb + "ing"
}
