package recorder

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/claims"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/recorder/client"
	"github.com/assay-dev/assay/core/store"
)

// ServeOptions configure a long-lived recorder (assay recorder serve).
type ServeOptions struct {
	// Home holds the recorder's own store, seals, keys and packs. Run as
	// its own OS user, nothing the agent runs can read the keys or change
	// the store (docs/recorder.md).
	Home   string
	Signer *keys.Signer
	Socket string
	// SocketMode: who may connect (default 0600, the same user; 0666 lets
	// agents of other users send receipts).
	SocketMode os.FileMode
	Every      uint64
	Interval   time.Duration
}

// Server records many traces, each with its own Recorder (its own run key
// and seal), opened and closed by its clients.
type Server struct {
	o    ServeOptions
	st   *store.Store
	ln   net.Listener
	mu   sync.Mutex
	runs map[string]*Recorder
	wg   sync.WaitGroup
}

// Serve listens on o.Socket.
func Serve(o ServeOptions) (*Server, error) {
	if o.Signer == nil || o.Home == "" || o.Socket == "" {
		return nil, errors.New("recorder: serve needs a home, a signer and a socket path")
	}
	mode := o.SocketMode
	if mode == 0 {
		mode = 0o600
	}
	ln, err := net.Listen("unix", o.Socket)
	if err != nil {
		return nil, exit.Bad("remove a stale socket or choose another --socket", "cannot listen on %s: %v", o.Socket, err)
	}
	if err := os.Chmod(o.Socket, mode); err != nil {
		ln.Close()
		return nil, fmt.Errorf("recorder: socket permissions: %w", err)
	}
	s := &Server{o: o, st: store.Open(o.Home), ln: ln, runs: map[string]*Recorder{}}
	return s, nil
}

// Run accepts connections until Close.
func (s *Server) Run() error {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		s.wg.Add(1)
		go s.serve(c)
	}
}

// Close stops listening and closes every open run's seal (final
// checkpoint); their packs can still be built with proof-pack.
func (s *Server) Close() error {
	s.ln.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	var first error
	for id, r := range s.runs {
		if err := r.Close(); err != nil && first == nil {
			first = err
		}
		delete(s.runs, id)
	}
	os.Remove(s.o.Socket)
	return first
}

func (s *Server) serve(c net.Conn) {
	defer s.wg.Done()
	defer c.Close()
	br := bufio.NewReaderSize(c, 64<<10)
	bw := bufio.NewWriter(c)
	for {
		line, err := readFrame(br)
		if err != nil {
			return
		}
		b, _ := json.Marshal(s.handle(line))
		bw.Write(append(b, '\n'))
		bw.Flush()
	}
}

func (s *Server) handle(line []byte) client.Ack {
	v, err := canon.Decode(line)
	req, ok := v.(*canon.Object)
	if err != nil || !ok {
		return client.Ack{Error: "request is not a JSON object", Code: exit.BadInput}
	}
	trace := req.String("trace_id")
	switch req.String("op") {
	case "ping":
		return client.Ack{OK: true}
	case "open":
		return s.open(trace)
	case "append":
		s.mu.Lock()
		r := s.runs[trace]
		s.mu.Unlock()
		if r == nil {
			return client.Ack{Error: fmt.Sprintf("trace %q is not open on this recorder", trace), Code: exit.BadInput}
		}
		rv, _ := req.Get("receipt")
		rc, ok := rv.(*canon.Object)
		if !ok {
			return client.Ack{Error: "append needs a receipt object", Code: exit.BadInput}
		}
		return r.Append(rc)
	case "close":
		return s.close(trace, req)
	}
	return client.Ack{Error: fmt.Sprintf("unknown op %q (want open, append, close or ping)", req.String("op")), Code: exit.BadInput}
}

func (s *Server) open(trace string) client.Ack {
	if err := store.ValidTraceID(trace); err != nil {
		return client.Ack{Error: err.Error(), Code: exit.BadInput}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.runs[trace] != nil {
		return client.Ack{Error: "trace " + trace + " is already open", Code: exit.BadInput}
	}
	if _, err := os.Stat(SealDir(s.o.Home, trace)); err == nil {
		return client.Ack{Error: "trace " + trace + " was already recorded", Code: exit.BadInput}
	}
	r, err := Start(Options{Store: s.st, TraceID: trace, Signer: s.o.Signer, Every: s.o.Every, Interval: s.o.Interval})
	if err != nil {
		return client.Ack{Error: err.Error(), Code: exit.HonestFail}
	}
	s.runs[trace] = r
	return client.Ack{OK: true, TraceID: trace}
}

// close ends a run: the seal is closed and the pack built from it, with
// the recorder's signer, under <home>/packs/ (readable by the client,
// which copies it where it wants it).
func (s *Server) close(trace string, req *canon.Object) client.Ack {
	s.mu.Lock()
	r := s.runs[trace]
	delete(s.runs, trace)
	s.mu.Unlock()
	if r == nil {
		return client.Ack{Error: fmt.Sprintf("trace %q is not open on this recorder", trace), Code: exit.BadInput}
	}
	if err := r.Close(); err != nil {
		return client.Ack{Error: "the recorder failed: " + err.Error(), Code: exit.HonestFail}
	}
	var cards []string
	if cv, ok := req.Get("cards"); ok {
		if arr, ok := cv.([]any); ok {
			for _, c := range arr {
				if id, ok := c.(string); ok {
					cards = append(cards, id)
				}
			}
		}
	}
	cardList, err := claims.LoadAll(cards)
	if err != nil {
		return client.Ack{Error: err.Error(), Code: exit.Code(err)}
	}
	packs := filepath.Join(s.o.Home, "packs")
	if err := os.MkdirAll(packs, 0o755); err != nil {
		return client.Ack{Error: err.Error(), Code: exit.HonestFail}
	}
	_ = os.Chmod(packs, 0o755)
	mode := req.String("mode")
	out := filepath.Join(packs, "proof_pack_"+trace)
	res, probs, err := BuildPack(r.SealDir(), r.TracePath(), pack.Options{
		RunID: trace, Signer: s.o.Signer, OutDir: out, Mode: mode, Claims: claims.Flatten(cardList),
		ClaimEnv: claims.Env{Dir: s.o.Home}, RequireReceipts: req.String("require_receipts") == "true",
	})
	if err != nil {
		code := exit.Code(err)
		if errors.Is(err, pack.ErrNoReceipts) {
			code = exit.HonestFail
		}
		return client.Ack{Error: err.Error(), Code: code}
	}
	// Packs are for sharing: readable by the client whatever the umask
	// that keeps the store and the keys private.
	_ = filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type()&fs.ModeSymlink == 0 {
			mode := os.FileMode(0o644)
			if d.IsDir() {
				mode = 0o755
			}
			_ = os.Chmod(p, mode)
		}
		return nil
	})
	b, _ := json.Marshal(struct {
		*PackResult
		Problems []store.LineProblem `json:"problems"`
	}{res, probs})
	return client.Ack{OK: true, TraceID: trace, PackDir: out, Result: b}
}
