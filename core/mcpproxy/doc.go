// Package mcpproxy is the MCP notary proxy: it sits between an MCP client and
// a server it did not write, forwards every message unchanged, records one
// mcp_tool_call receipt per tools/call (runtime.md §7.2, DECISIONS 19), can
// enforce a policy (core/mcppolicy), and ends with a session_metadata receipt
// that says whether the session completed.
//
// A session is complete when every call that reached the server got its
// response, the server ended normally (exit 0, or by itself after the
// client closed its input), no server output was garbage, the proxy was not
// interrupted, and every receipt was written. Anything else is recorded as
// an incomplete session, with the reasons, and still packed.
package mcpproxy
