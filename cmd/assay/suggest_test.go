package main

import "testing"

// Mistyped commands, flags and flag values get a did-you-mean in the one
// bad-input line.
func TestDidYouMean(t *testing.T) {
	t.Parallel()
	ckEnv(t)
	for _, c := range []struct {
		argv []string
		want string
	}{
		{[]string{"verfy-pack", "x"}, "did you mean verify-pack?"},
		{[]string{"key", "lst"}, "did you mean list?"},
		{[]string{"verify-pack", "x", "--jsn"}, "did you mean --json?"},
		{[]string{"run", "--alow-empty", "--", "true"}, "did you mean --allow-empty?"},
		{[]string{"flow", "adpot"}, "did you mean adopt?"},
		{[]string{"cards", "show", "receipt_completenes"}, "did you mean receipt_completeness?"},
		{[]string{"lock", "write", "--cards", "no_breakglas"}, "did you mean no_breakglass?"},
		{[]string{"explain", "x", "--format", "mdd"}, "did you mean md?"},
		{[]string{"scan", ".", "--format", "sarf"}, "did you mean sarif?"},
	} {
		ckOneLine(t, c.argv, c.want)
	}
	ckOneLine(t, []string{"xyzzy"}, `unknown command "xyzzy" for "assay" (see 'assay --help')`)
}
