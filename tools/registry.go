package tools

// Registry returns the tool table of a server started without
// --allow-exec, in tools/list order. Adding a tool is one line in Tools
// plus its file (and a case in the CLI parity test).
func Registry() []Tool { return Tools(false) }

// Tools returns the tool table in tools/list order; allowExec registers
// run-flow able to run the steps (with apply), else plan-only.
func Tools(allowExec bool) []Tool {
	return []Tool{
		scanTool(),
		emitTool(),
		verifyTool(),
		explainTool(),
		diffTool(),
		flowTool(allowExec),
		bundleTool(),
		policyTool(),
	}
}
