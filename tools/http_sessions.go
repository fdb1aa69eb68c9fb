package tools

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/assay-dev/assay/core/jsonrpc"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/core/store"
)

// DefaultMaxSessions bounds the live handshake-era HTTP sessions.
const DefaultMaxSessions = 1024

// How a session ended, as its session_metadata receipt says.
const (
	EndedByClient       = "client"        // DELETE
	EndedBySessionLimit = "session_limit" // evicted to make room
	EndedByShutdown     = "shutdown"      // the server stopped
)

// httpSessions is the one registry of handshake-era HTTP sessions. It is
// mcp-go's SessionIdManager, so an id is valid exactly while it is in the
// registry: an unknown or ended id is refused (404), never re-created.
// Each session has its own trace; ending a session (DELETE, eviction past
// the limit, shutdown) waits for its in-flight requests, appends a
// session_metadata receipt and packs the trace. A trace is never handed to
// a second session.
type httpSessions struct {
	s   *Server
	max int

	mu   sync.Mutex
	live map[string]*liveSession // by Mcp-Session-Id
	lru  *list.List              // of *liveSession, front = most recently used

	ending sync.WaitGroup // session ends in progress (evictions run in the background)
}

// liveSession is one HTTP session and its requests in flight.
type liveSession struct {
	key     string // the Mcp-Session-Id (a secret the client holds; never recorded)
	sess    *session
	started time.Time
	elem    *list.Element
	ended   bool

	inflight map[*context.CancelFunc]struct{}
	wg       sync.WaitGroup
}

func newHTTPSessions(s *Server, max int) *httpSessions {
	if max <= 0 {
		max = DefaultMaxSessions
	}
	return &httpSessions{s: s, max: max, live: map[string]*liveSession{}, lru: list.New()}
}

// Generate implements server.SessionIdManager: a new session with a new
// trace, for an initialize request. At the limit, the least recently used
// session is ended and packed first (in the background: it may have
// requests to drain).
func (h *httpSessions) Generate() string {
	sess, err := newSession("")
	if err != nil {
		h.s.log.Error().Err(err).Msg("cannot make an HTTP session")
		return ""
	}
	ls := &liveSession{key: receipt.NewID("mcp-session-", 32), sess: sess, started: time.Now(), inflight: map[*context.CancelFunc]struct{}{}}
	h.mu.Lock()
	var evict []*liveSession
	for len(h.live) >= h.max {
		old := h.lru.Back().Value.(*liveSession)
		h.detach(old)
		evict = append(evict, old)
	}
	ls.elem = h.lru.PushFront(ls)
	h.live[ls.key] = ls
	h.ending.Add(len(evict))
	h.mu.Unlock()
	for _, old := range evict {
		h.s.log.Warn().Int("max_sessions", h.max).Str("trace_id", old.sess.traceID).Msg("HTTP session limit reached: ending and packing the least recently used session")
		go func(old *liveSession) {
			defer h.ending.Done()
			reason := fmt.Sprintf("the server ended the session to stay within its limit of %d HTTP sessions", h.max)
			_, _ = h.finish(old, EndedBySessionLimit, reason)
		}(old)
	}
	h.s.log.Info().Str("trace_id", sess.traceID).Msg("new HTTP session")
	return ls.key
}

// Validate implements server.SessionIdManager: only live ids are valid.
func (h *httpSessions) Validate(key string) (bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.live[key]; !ok {
		return false, errors.New("unknown or ended session")
	}
	return false, nil
}

// Terminate implements server.SessionIdManager. The HTTP layer ends the
// session (and packs it) before mcp-go sees the DELETE, so there is
// nothing left to do here.
func (h *httpSessions) Terminate(string) (bool, error) { return false, nil }

// detach removes ls from the registry so no new request can reach it.
// Callers hold h.mu.
func (h *httpSessions) detach(ls *liveSession) {
	ls.ended = true
	delete(h.live, ls.key)
	h.lru.Remove(ls.elem)
}

// acquire counts a request in flight on a live session and returns the
// request's context (cancelled if the session ends) and its release.
func (h *httpSessions) acquire(ctx context.Context, key string) (*liveSession, context.Context, func(), bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ls, ok := h.live[key]
	if !ok {
		return nil, ctx, nil, false
	}
	h.lru.MoveToFront(ls.elem)
	ctx, cancel := context.WithCancel(ctx)
	ls.inflight[&cancel] = struct{}{}
	ls.wg.Add(1)
	release := func() {
		h.mu.Lock()
		delete(ls.inflight, &cancel)
		h.mu.Unlock()
		cancel()
		ls.wg.Done()
	}
	return ls, ctx, release, true
}

// lookup returns the live session with this id.
func (h *httpSessions) lookup(key string) (*session, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ls, ok := h.live[key]
	if !ok {
		return nil, false
	}
	return ls.sess, true
}

// end ends a live session now and packs it (DELETE); false when the id
// is not (or no longer) live.
func (h *httpSessions) end(key, endedBy, reason string) (string, bool, error) {
	h.mu.Lock()
	ls, ok := h.live[key]
	if ok {
		h.detach(ls)
		h.ending.Add(1)
	}
	h.mu.Unlock()
	if !ok {
		return "", false, nil
	}
	defer h.ending.Done()
	dir, err := h.finish(ls, endedBy, reason)
	return dir, true, err
}

// endAll ends every live session (shutdown) and waits for every end in
// progress, evictions included.
func (h *httpSessions) endAll(reason string) {
	h.mu.Lock()
	var all []*liveSession
	for _, ls := range h.live {
		all = append(all, ls)
	}
	for _, ls := range all {
		h.detach(ls)
	}
	h.ending.Add(len(all))
	h.mu.Unlock()
	for _, ls := range all {
		_, _ = h.finish(ls, EndedByShutdown, reason)
		h.ending.Done()
	}
	h.ending.Wait()
}

// finish runs once per detached session: it cancels and drains the
// session's requests (so every tool call's receipt is in the trace), then
// writes the session_metadata receipt and packs the trace.
func (h *httpSessions) finish(ls *liveSession, endedBy, reason string) (string, error) {
	h.mu.Lock()
	for c := range ls.inflight {
		(*c)()
	}
	h.mu.Unlock()
	ls.wg.Wait()
	dir, err := h.s.closeSession(ls.sess, ls.started, endedBy, reason)
	if err != nil {
		// The trace keeps every receipt; only the pack is missing.
		h.s.log.Error().Err(err).Str("trace_id", ls.sess.traceID).Msg("HTTP session ended, but its trace could not be packed; pack it with bundle or assay")
		return "", err
	}
	h.s.log.Info().Str("trace_id", ls.sess.traceID).Str("ended_by", endedBy).Str("pack", dir).Msg("HTTP session ended and packed")
	return dir, nil
}

// closeSession appends the session_metadata receipt (complete only when
// the client ended the session) and packs the session's trace.
func (s *Server) closeSession(sess *session, started time.Time, endedBy, reason string) (string, error) {
	recs, _, err := s.readTrace(sess.traceID)
	if err != nil {
		return "", err
	}
	calls, outcomes := 0, map[string]int{}
	for _, r := range recs {
		if t, _ := r.Get("type"); t == "mcp_tool_call" {
			calls++
			o, _ := r.Get("outcome")
			if name, ok := o.(string); ok {
				outcomes[name]++
			}
		}
	}
	end := time.Now()
	complete := endedBy == EndedByClient
	var reasons []string
	if !complete {
		reasons = []string{reason}
	}
	d := receipt.SessionMetadata{
		SessionID: sess.id, TraceID: sess.traceID, ServerID: ServerName, Transport: s.cfg.Transport,
		Complete: complete, Incomplete: reasons, EndedBy: endedBy,
		Closing: true, ReceiptCount: int64(len(recs)), ToolCalls: calls, Outcomes: outcomes,
		StartedAt: receipt.Timestamp(started), EndedAt: receipt.Timestamp(end),
		IntegrationSource: IntegrationSource,
	}.Data()
	_, err = s.store.Emit(sess.traceID, receipt.TypeSessionMetadata, d, store.EmitOptions{ReceiptID: receipt.NewID("smd_", 16), Timestamp: receipt.Timestamp(end)})
	if err != nil {
		return "", fmt.Errorf("EVIDENCE LOST: the session_metadata receipt of trace %s could not be written: %w", sess.traceID, err)
	}
	signer, _, err := keys.Open(s.home).ActiveSigner(true)
	if err != nil {
		return "", fmt.Errorf("load the signing key: %w", err)
	}
	out := s.sessionPackDir(sess.traceID)
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", filepath.Dir(out), err)
	}
	// The trace now ends with the session_metadata receipt; packed streamed.
	built, _, err := pack.FromTrace(s.store, sess.traceID, pack.Options{Signer: signer, OutDir: out})
	if err != nil {
		return "", fmt.Errorf("pack trace %s: %w", sess.traceID, err)
	}
	s.registerPack(built.Dir)
	return built.Dir, nil
}

// readTrace returns a trace's receipts; a trace with no file yet is empty.
func (s *Server) readTrace(traceID string) ([]*receipt.Receipt, []store.LineProblem, error) {
	if _, ok, err := s.store.Find(traceID); err != nil {
		return nil, nil, fmt.Errorf("find trace %s: %w", traceID, err)
	} else if !ok {
		return nil, nil, nil
	}
	recs, probs, err := s.store.Read(traceID)
	if err != nil {
		return nil, nil, fmt.Errorf("read trace %s: %w", traceID, err)
	}
	for _, p := range probs {
		s.log.Warn().Int("line", p.Line).Str("problem", p.Err).Str("trace_id", traceID).Msg("trace line is not a receipt; left out of the pack")
	}
	return recs, probs, nil
}

// sessionPackDir is where an ended HTTP session's pack goes: beside the
// bundle tool's packs, under the first root, named after the trace (a
// trace belongs to one session, so the name is never reused).
func (s *Server) sessionPackDir(traceID string) string {
	return filepath.Join(s.roots.list()[0], ".assay", "mcp", "packs", "session_"+traceID)
}

// httpSessionFor returns the session of a handshake-era request. The HTTP
// layer only lets a request through while its session is live and holds
// it live until the request ends, so the lookup cannot miss; if it ever
// did, the call gets a trace of its own rather than another session's.
func (s *Server) httpSessionFor(key string) *session {
	if h := s.httpSess.Load(); h != nil {
		if sess, ok := h.lookup(key); ok {
			return sess
		}
	}
	s.log.Error().Msg("tool call on an HTTP session that is not live; recording it in a trace of its own")
	sess, err := newSession("")
	if err != nil {
		return s.session
	}
	return sess
}

// recordRefusals appends, for each tools/call in a message the envelope
// refused, the same mcp_tool_call receipt the stdio transport writes
// (RecordRefusal: outcome denied, the reason in outcome_detail, naming the
// tool a lenient reader such as mcp-go would have run): the attempt is
// evidence even though nothing ran. It goes to the trace of the request's
// live session, else the process's.
func (s *Server) recordRefusals(ctx context.Context, key string, body []byte, je *jsonrpc.Error) {
	calls := je.ToolCalls()
	if len(calls) == 0 {
		return
	}
	sess, release := s.refusalSession(ctx, key)
	defer release() // the session cannot be packed before these receipts are in
	for _, c := range calls {
		if err := s.recordRefusal(sess, c.ID, c.Tool, body, "malformed ("+string(je.Reason)+"): "+je.Detail); err != nil {
			s.log.Error().Err(err).Str("trace_id", sess.traceID).Msg("EVIDENCE LOST: the receipt of a refused call could not be written")
		}
	}
}

// refusalSession is the session a refused request is receipted in: its own
// live session, else the process's (sessionless requests). release must be
// called once the receipts are written.
func (s *Server) refusalSession(ctx context.Context, key string) (*session, func()) {
	if h := s.httpSess.Load(); h != nil && key != "" {
		if ls, _, release, ok := h.acquire(ctx, key); ok {
			return ls.sess, release
		}
	}
	return s.session, func() {}
}

// recordOversized receipts a body refused for its size, as the stdio server
// does an oversized line: a message that cannot be read cannot be shown not
// to be a call, so it is receipted under the tool its start names, else as
// an unnamed attempt.
func (s *Server) recordOversized(ctx context.Context, key string, tl *BodyTooLargeError) {
	sess, release := s.refusalSession(ctx, key)
	defer release()
	if err := s.recordRefusal(sess, nil, jsonrpc.ToolInPrefix(tl.Prefix), tl.Prefix, "oversized: "+tl.Error()); err != nil {
		s.log.Error().Err(err).Str("trace_id", sess.traceID).Msg("EVIDENCE LOST: the receipt of an oversized request could not be written")
	}
}

// refuseCall receipts a tools/call refused before any session could serve
// it (every attempt leaves a receipt); a write failure is said loudly.
func (s *Server) refuseCall(sess *session, msg *jsonrpc.Message, tool, detail string) {
	if err := s.recordRefusal(sess, msg.ID, tool, msg.Encode(), detail); err != nil {
		s.log.Error().Err(err).Str("trace_id", sess.traceID).Msg("EVIDENCE LOST: the receipt of a refused call could not be written")
	}
}
