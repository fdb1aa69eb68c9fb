package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// Shell completion offers card ids, flow names, signer ids and the packs
// found under the working directory.
func TestShellCompletion(t *testing.T) {
	home, dir := ckProcessEnv(t) // relative paths: the CLI resolves them in the process's working directory
	if code, _, _ := ckRun(t, "key", "generate", "team"); code != 0 {
		t.Fatal("key generate")
	}
	ckPack(t, home, filepath.Join(dir, "evidence", "run1"), nil, "gpt-4o")
	for _, c := range []struct {
		argv []string
		want []string
	}{
		{[]string{"cards", "show", ""}, []string{"receipt_completeness", "no_breakglass"}},
		{[]string{"flow", ""}, []string{"adopt", "audit", "ci", "mcp", "try"}},
		{[]string{"key", "set-active", ""}, []string{"team"}},
		{[]string{"lock", "write", "--signer", ""}, []string{"team"}},
		{[]string{"lock", "write", "--cards", "receipt_completeness,"}, []string{"receipt_completeness,no_breakglass"}},
		{[]string{"verify-pack", ""}, []string{"evidence/run1"}},
		{[]string{"explain", ""}, []string{"evidence/run1"}},
	} {
		code, out, _ := ckRun(t, append([]string{"__complete"}, c.argv...)...)
		lines := strings.Split(out, "\n")
		for _, w := range c.want {
			found := false
			for _, l := range lines {
				found = found || l == w
			}
			if code != 0 || !found {
				t.Errorf("complete %v: %d, %q lacks %q", c.argv, code, out, w)
			}
		}
	}
}
