package ops

import (
	"strings"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/explain"
)

// ExplainRequest asks to explain a pack directory or audit bundle.
type ExplainRequest struct {
	Path string
}

// Explain runs the request; the result is the document 'assay explain
// --json' prints and the MCP explain-pack tool returns.
func Explain(r ExplainRequest) (*explain.Explanation, error) {
	if strings.TrimSpace(r.Path) == "" {
		return nil, exit.Bad("give the pack directory or audit bundle", "no pack given")
	}
	return explain.Pack(r.Path)
}
