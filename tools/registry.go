package tools

// Registry returns the tool table in tools/list order. Adding a tool is one
// line here plus its file.
func Registry() []Tool {
	return []Tool{
		scanTool(),
		emitTool(),
		verifyTool(),
		explainTool(),
		diffTool(),
		flowTool(),
		bundleTool(),
		policyTool(),
	}
}
