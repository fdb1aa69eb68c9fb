package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/version"
)

func TestVersionFlag(t *testing.T) {
	t.Parallel()
	mcpBin, _ := binaries(t)
	out, err := exec.Command(mcpBin, "--version").Output()
	if err != nil || strings.TrimSpace(string(out)) != "assay-mcp "+version.Version+" (pack format "+version.PackFormat+")" {
		t.Fatalf("--version: %v %q", err, out)
	}
}
