package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// maxSlowMs bounds slow, so a typo cannot park a test for hours.
const maxSlowMs = 60000

func (e *env) faultTools() []server.ServerTool {
	return []server.ServerTool{
		{Tool: tool("echo", "Echo the arguments",
			"Returns its arguments verbatim: the raw JSON as text, and as structuredContent.", readOnly,
			`{"type":"object","description":"Any arguments; they are returned unchanged.","properties":{},"additionalProperties":true}`),
			Handler: e.handler("echo", echo)},
		{Tool: tool("fail", "Fail with a message",
			"Returns an isError result carrying the message.", readOnly,
			`{"type":"object","properties":{"message":{"type":"string","description":"Error text to return"}},"required":["message"],"additionalProperties":false}`),
			Handler: e.handler("fail", fail)},
		{Tool: tool("slow", "Answer after a delay",
			"Sleeps for ms milliseconds, then answers. Closing stdin does not cut the sleep short; shutting the server down does.", readOnly,
			fmt.Sprintf(`{"type":"object","properties":{"ms":{"type":"integer","minimum":0,"maximum":%d,"description":"Delay in milliseconds"}},"required":["ms"],"additionalProperties":false}`, maxSlowMs)),
			Handler: e.handler("slow", e.slow)},
		{Tool: tool("hang", "Never answer",
			"Never answers. While it is in flight the server does not exit on stdin EOF: it must be killed.", readOnly,
			`{"type":"object","properties":{},"additionalProperties":false}`),
			Handler: e.handler("hang", e.hang)},
		{Tool: tool("crash", "Exit mid-call",
			"Ends the server process with the given exit code before answering.",
			hints{destructive: true},
			`{"type":"object","properties":{"code":{"type":"integer","minimum":0,"maximum":255,"description":"Process exit code"}},"required":["code"],"additionalProperties":false}`),
			Handler: e.handler("crash", e.crash)},
		{Tool: tool("garbage", "Write a non-JSON line to stdout",
			"Writes text as one raw line on the protocol stream (stdout), then answers normally.", writes,
			`{"type":"object","properties":{"text":{"type":"string","pattern":"^[^\\r\\n]*$","description":"The line to write, without line breaks"}},"required":["text"],"additionalProperties":false}`),
			Handler: e.handler("garbage", e.garbage)},
	}
}

func echo(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	raw := req.Params.RawArguments
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = json.RawMessage("{}")
	}
	return mcp.NewToolResultStructured(json.RawMessage(raw), string(raw)), nil
}

func fail(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	return mcp.NewToolResultError(req.GetString("message", "")), nil
}

// slow and hang wait on the server's life, not on the request context:
// mcp-go cancels every request context on stdin EOF, and these tools model
// a server that keeps working (or stays stuck) after its client has gone.
func (e *env) slow(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	ms, err := req.RequireInt("ms")
	if err != nil {
		return mcp.NewToolResultError(err.Error()), nil
	}
	if ms < 0 || ms > maxSlowMs {
		return mcp.NewToolResultError(fmt.Sprintf("ms must be between 0 and %d", maxSlowMs)), nil
	}
	t := time.NewTimer(time.Duration(ms) * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
		return mcp.NewToolResultStructured(map[string]any{"slept_ms": ms}, fmt.Sprintf("slept %d ms", ms)), nil
	case <-e.life.Done():
		return mcp.NewToolResultError("the server is shutting down"), nil
	}
}

func (e *env) hang(_ context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	<-e.life.Done()
	return mcp.NewToolResultError("the server is shutting down"), nil
}

func (e *env) crash(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	code, err := req.RequireInt("code")
	if err != nil {
		return mcp.NewToolResultError(err.Error()), nil
	}
	e.log.Warn().Int("code", code).Msg("crash: exiting mid-call as asked")
	e.opts.Exit(code)
	// Only reached when Exit is a test hook that returns.
	return mcp.NewToolResultError(fmt.Sprintf("exit(%d) was called but returned", code)), nil
}

func (e *env) garbage(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	text, err := req.RequireString("text")
	if err != nil {
		return mcp.NewToolResultError(err.Error()), nil
	}
	if strings.ContainsAny(text, "\r\n") {
		return mcp.NewToolResultError("text must be one line (no line breaks)"), nil
	}
	// One Write for the whole line, so it cannot interleave with a message.
	if _, err := e.out.Write([]byte(text + "\n")); err != nil {
		return mcp.NewToolResultError("cannot write the garbage line: " + err.Error()), nil
	}
	return mcp.NewToolResultStructured(map[string]any{"wrote_bytes": len(text) + 1}, fmt.Sprintf("wrote %d bytes of garbage to stdout", len(text)+1)), nil
}
