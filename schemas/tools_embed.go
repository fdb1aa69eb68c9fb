package schemas

import (
	"bytes"
	"embed"
)

// toolFiles are the MCP tools' checked-in schemas (schemas/tools), which
// the server serves as they are instead of reflecting them at every start.
//
//go:embed tools/*.json
var toolFiles embed.FS

// Tool returns the checked-in schema schemas/tools/FILE (e.g.
// "scan.input.json") without its final newline, and whether it exists.
func Tool(file string) ([]byte, bool) {
	b, err := toolFiles.ReadFile("tools/" + file)
	if err != nil {
		return nil, false
	}
	return bytes.TrimSuffix(b, []byte("\n")), true
}
