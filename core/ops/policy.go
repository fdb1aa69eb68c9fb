package ops

import (
	"strings"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/mcppolicy"
)

// PolicyCheckRequest asks whether one tools/call would pass an MCP proxy
// policy, as the first call of a fresh session.
type PolicyCheckRequest struct {
	// Policy is the policy file (default mcppolicy.DefaultFile).
	Policy string
	Tool   string
	// Arguments are the call's arguments as JSON (nil or empty: none).
	Arguments []byte
}

// PolicyCheck runs the request; the result is the document 'assay mcp
// policy check --json' prints and the MCP policy-check tool returns.
func PolicyCheck(r PolicyCheckRequest) (*mcppolicy.CallCheck, error) {
	if strings.TrimSpace(r.Tool) == "" {
		return nil, exit.Bad("name the tool, e.g. --tool write_file", "the tool name is required")
	}
	if r.Policy == "" {
		r.Policy = mcppolicy.DefaultFile
	}
	p, err := mcppolicy.Load(r.Policy)
	if err != nil {
		return nil, err
	}
	return p.CheckCall(r.Tool, r.Arguments)
}
