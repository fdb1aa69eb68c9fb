package mcpproxy

import (
	"context"
	"time"
)

// Upstream is the MCP server behind the proxy, whatever its transport.
// The proxy sends it the client's messages and reads its messages back;
// Send and Recv are called from different goroutines, each by one caller.
type Upstream interface {
	// Send delivers one client message. A stdio upstream writes m.Raw
	// unchanged; an HTTP upstream POSTs m.Body.
	Send(ctx context.Context, m Message) error
	// Recv returns the server's next message, or io.EOF once the server
	// will send no more (stdout closed, or the HTTP session ended).
	Recv() (Message, error)
	// CloseSend tells the server the client is gone (closes its stdin;
	// over HTTP, ends the session). It may be called while a Send is
	// blocked (a server that stopped reading) and must not wait for it.
	CloseSend() error
	// Stop ends the server: it waits up to grace for it to exit on its own,
	// then terminates it. It returns how the server ended. Safe to call
	// more than once.
	Stop(grace time.Duration) Exit
	// Transport names the transport in receipts ("stdio", "streamable-http").
	Transport() string
}

// Exit is how an upstream ended.
type Exit struct {
	// Code is the process exit code (128+signal when killed by a signal, as
	// shells report it); -1 when unknown or not a process.
	Code int `json:"code"`
	// Killed is true when the proxy had to terminate the server.
	Killed bool `json:"killed,omitempty"`
	// Detail says what happened in words ("exited 0", "killed after 5s").
	Detail string `json:"detail"`
}
