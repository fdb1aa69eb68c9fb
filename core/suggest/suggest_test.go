package suggest

import "testing"

func TestClosest(t *testing.T) {
	t.Parallel()
	cmds := []string{"verify-pack", "verify-signer", "verify-receipt", "run", "scan", "patch"}
	flows := []string{"adopt", "audit", "ci", "mcp", "try"}
	cards := []string{"receipt_completeness", "no_breakglass", "timestamp_ordering"}
	for _, c := range []struct {
		in   string
		opts []string
		want string
	}{
		{"verfy-pack", cmds, "verify-pack"},
		{"verify-pakc", cmds, "verify-pack"},
		{"adpot", flows, "adopt"},
		{"audti", flows, "audit"},
		{"receipt_completenes", cards, "receipt_completeness"},
		{"no_breakglas", cards, "no_breakglass"},
		{"mardown", []string{"text", "md", "json", "markdown"}, "markdown"},
		{"jsn", []string{"json", "lock", "latest"}, "json"},
		{"xyzzy", cmds, ""},                     // nothing close
		{"run", cmds, ""},                       // exact: no suggestion
		{"", cmds, ""},                          // empty
		{"verify", cmds, ""},                    // prefix of several
		{"timest", cards, "timestamp_ordering"}, // prefix of one
	} {
		if got := Closest(c.in, c.opts); got != c.want {
			t.Errorf("Closest(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if Hint("adpot", flows) != "did you mean adopt? " || Hint("zzz", flows) != "" {
		t.Error("Hint")
	}
}
