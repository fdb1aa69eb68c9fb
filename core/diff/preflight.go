package diff

import (
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/verify"
)

// UnverifiedNote says what a diff with NoVerify (Result.Verified false)
// shows: figures read from packs whose integrity nobody checked.
const UnverifiedNote = "NOT VERIFIED (--no-verify): the figures were read from packs whose integrity was not checked"

// preflight runs the full verifier on one opened pack (nil: its manifest is
// not a JSON object). Only its integrity outcome matters here: a pack whose
// claims honestly failed is still compared.
func preflight(path string, p *pack.Pack, openErr error) (Preflight, error) {
	opt := verify.Options{IntegrityOnly: true}
	var r *verify.Result
	var err error
	if p == nil {
		r, err = verify.Unopened(path, openErr, opt)
	} else {
		r, err = verify.VerifyPack(p, opt)
	}
	if err != nil {
		return Preflight{}, err
	}
	pf := Preflight{Path: path, Verdict: r.Verdict, ExitCode: r.ExitCode, Errors: []string{}}
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
