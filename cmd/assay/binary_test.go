package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// The real assay binary, for the tests that run it as its own process
// (flows, the recorder, run end to end). Built once per test binary.
var (
	// assayBuildEnv is the environment before any test changes HOME or the
	// Go cache locations, so the build uses the real caches.
	assayBuildEnv = os.Environ()
	assayBinOnce  sync.Once
	assayBinDir   string // removed by TestMain
	assayBinPath  string
	assayBinErr   error
)

// assayBinary builds assay once and returns its path. It changes no
// process state, so parallel tests may call it.
func assayBinary(t *testing.T) string {
	t.Helper()
	assayBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "assay-test-bin-")
		if err != nil {
			assayBinErr = err
			return
		}
		assayBinDir = dir
		path := filepath.Join(dir, "assay")
		cmd := exec.Command("go", "build", "-o", path, ".")
		cmd.Env = assayBuildEnv
		if out, err := cmd.CombinedOutput(); err != nil {
			assayBinErr = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		assayBinPath = path
	})
	if assayBinErr != nil {
		t.Fatal(assayBinErr)
	}
	return assayBinPath
}
