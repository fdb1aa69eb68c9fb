package diff

import (
	"github.com/assay-dev/assay/core/verify"
)

// preflight runs the full verifier on one pack. Only its integrity outcome
// matters here: a pack whose claims honestly failed is still compared.
func preflight(dir string) (Preflight, error) {
	r, err := verify.Verify(dir, verify.Options{IntegrityOnly: true})
	if err != nil {
		return Preflight{}, err
	}
	pf := Preflight{Path: dir, Verdict: r.Verdict, ExitCode: r.ExitCode, Errors: []string{}}
	for _, e := range r.Errors {
		msg := e.Code
		if e.Field != "" {
			msg += " " + e.Field
		}
		if e.Message != "" {
			msg += ": " + e.Message
		}
		pf.Errors = append(pf.Errors, msg)
	}
	return pf, nil
}
