// Package ops holds one request type per operation that both front ends
// offer (verify, explain, diff, scan, emit, pack and audit bundle, policy
// check), with its defaults and validation, and the function that runs it
// and returns the one result document. The CLI's flags and the MCP tools'
// arguments both fill these requests; the front ends only resolve paths
// (the MCP server confines them to its roots) and render the result, so
// the two cannot disagree on a default, a rule or a field.
package ops

import "os"

// Env is what an operation needs from its front end besides the request.
type Env struct {
	// Home is the assay home (trace store and keystore).
	Home string
	// ReadFile reads the files a request names (lockfile, coverage
	// contract, log key, witness policy). nil reads by path (the CLI:
	// users name their own files); the MCP server passes a reader confined
	// to its roots.
	ReadFile func(path string) ([]byte, error)
	// Getenv reads the environment a pack's CI binding is detected from;
	// nil means an empty environment.
	Getenv func(string) string
}

func (e Env) readFile() func(string) ([]byte, error) {
	if e.ReadFile == nil {
		return os.ReadFile
	}
	return e.ReadFile
}
