package tlog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/transparency-dev/tessera/api/layout"

	"github.com/assay-dev/assay/internal/lazyre"
)

// AddPath is where a team log accepts appends (POST, bearer token).
const AddPath = "/assay/v1/add"

// VKeyPath serves the log's public key. A client must still pin it out of
// band: whoever serves the log also serves this.
const VKeyPath = "/log.vkey"

// tilePath matches the tlog-tiles resources a log serves, nothing else
// (the private .state directory stays private).
var tilePath = lazyre.New(`^(checkpoint|tile/(entries|[0-9]{1,2})(/x[0-9]{3})*/[0-9]{3}(\.p/[0-9]{1,3})?)$`)

// Server serves a local log over HTTP as tlog-tiles (static tiles and
// checkpoint, readable by any tiles client) and accepts appends.
type Server struct {
	app   *Appender
	tiles *os.Root // POSIX: the tiles directory
	token [32]byte
}

// NewServer opens the log in dir for serving. token is the bearer token
// appends must carry (it is kept hashed, compared in constant time).
func NewServer(ctx context.Context, dir, token string, o AppendOptions) (*Server, error) {
	if len(token) < 16 {
		return nil, fmt.Errorf("the append token must be at least 16 characters")
	}
	if o.BatchSize == 0 {
		o.BatchSize = 256
	}
	a, err := OpenAppender(ctx, dir, o)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(filepath.Join(dir, DirTiles))
	if err != nil {
		_ = a.Close(ctx)
		return nil, fmt.Errorf("open tiles: %w", err)
	}
	return &Server{app: a, tiles: root, token: sha256.Sum256([]byte(token))}, nil
}

// NewServerWith serves the log open returns (a backend of its own package,
// e.g. tlogaws), checking the token before opening anything.
func NewServerWith(token string, o AppendOptions, open func(AppendOptions) (*Appender, error)) (*Server, error) {
	if len(token) < 16 {
		return nil, fmt.Errorf("the append token must be at least 16 characters")
	}
	if o.BatchSize == 0 {
		o.BatchSize = 256
	}
	a, err := open(o)
	if err != nil {
		return nil, err
	}
	return &Server{app: a, token: sha256.Sum256([]byte(token))}, nil
}

// Keys are the served log's keys.
func (s *Server) Keys() *LogKeys { return s.app.Keys }

// Close stops the appender.
func (s *Server) Close(ctx context.Context) error {
	if s.tiles != nil {
		s.tiles.Close()
	}
	return s.app.Close(ctx)
}

// ServeHTTP routes tiles, the vkey and appends.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == AddPath:
		s.add(w, r)
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	case r.URL.Path == VKeyPath:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, s.app.Keys.VKey+"\n")
	default:
		s.static(w, r)
	}
}

func (s *Server) static(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimPrefix(r.URL.Path, "/")
	if !tilePath().MatchString(p) {
		http.NotFound(w, r)
		return
	}
	b, err := s.read(r.Context(), p)
	if errors.Is(err, fs.ErrNotExist) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, "cannot read the log", http.StatusInternalServerError)
		return
	}
	if p == "checkpoint" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
	} else {
		w.Header().Set("Content-Type", "application/octet-stream")
		if !strings.Contains(p, ".p/") {
			w.Header().Set("Cache-Control", "max-age=604800,immutable")
		}
	}
	w.Write(b)
}

// read returns one tlog-tiles resource (path already matched tilePath).
func (s *Server) read(ctx context.Context, p string) ([]byte, error) {
	if s.tiles != nil {
		return s.tiles.ReadFile(p)
	}
	rd := s.app.reader
	if p == "checkpoint" {
		return rd.ReadCheckpoint(ctx)
	}
	rest := strings.TrimPrefix(p, "tile/")
	level, index, _ := strings.Cut(rest, "/")
	if level == "entries" {
		i, w, err := layout.ParseTileIndexPartial(index)
		if err != nil {
			return nil, fs.ErrNotExist
		}
		return rd.ReadEntryBundle(ctx, i, w)
	}
	l, i, w, err := layout.ParseTileLevelIndexPartial(level, index)
	if err != nil {
		return nil, fs.ErrNotExist
	}
	return rd.ReadTile(ctx, l, i, w)
}

// addResponse is what an append returns.
type addResponse struct {
	Origin    string `json:"log_origin"`
	VKey      string `json:"log_vkey"`
	Index     uint64 `json:"leaf_index"`
	TLogProof string `json:"tlog_proof"`
}

func (s *Server) add(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST a leaf", http.StatusMethodNotAllowed)
		return
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	h := sha256.Sum256([]byte(tok))
	if !ok || subtle.ConstantTimeCompare(h[:], s.token[:]) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="assay-log"`)
		http.Error(w, "a valid bearer token is required to append", http.StatusUnauthorized)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 2048))
	if err != nil {
		http.Error(w, "cannot read the body", http.StatusBadRequest)
		return
	}
	if _, err := ParseLeaf(body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	ps, err := s.app.Append(ctx, [][]byte{body})
	if err != nil {
		http.Error(w, "append failed", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(addResponse{Origin: ps[0].Origin, VKey: ps[0].VKey, Index: ps[0].Index, TLogProof: string(ps[0].TLogProof)})
}

// CheckLogURL refuses a team-log URL that would send the bearer token in
// clear to another machine: https, or http to a loopback address only.
func CheckLogURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%q is not a log URL", raw)
	}
	switch u.Scheme {
	case "https":
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, fmt.Errorf("%s: plain http is allowed only to localhost (the bearer token would travel in clear)", raw)
		}
	default:
		return nil, fmt.Errorf("%q: want an https:// URL", raw)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u, nil
}

// RemoteAppend appends leaves to a team log and checks each returned proof
// (inclusion and log signature) before accepting it. logKey, when set, pins
// the log's key; otherwise the key the log returns is used and recorded.
func RemoteAppend(ctx context.Context, c *http.Client, logURL, token, logKey string, leaves [][]byte) ([]*Proof, error) {
	u, err := CheckLogURL(logURL)
	if err != nil {
		return nil, err
	}
	add := u.JoinPath(AddPath)
	out := make([]*Proof, len(leaves))
	for i, l := range leaves {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, add.String(), bytes.NewReader(l))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "text/plain; charset=utf-8")
		resp, err := c.Do(req)
		if err != nil {
			return nil, fmt.Errorf("append to %s: %w", u.Redacted(), err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnchor))
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("append to %s: %w", u.Redacted(), err)
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("append to %s: %s: %s", u.Redacted(), resp.Status, strings.TrimSpace(string(body)))
		}
		var ar addResponse
		if err := json.Unmarshal(body, &ar); err != nil {
			return nil, fmt.Errorf("append to %s: the log's answer is not JSON: %v", u.Redacted(), err)
		}
		p := &Proof{Origin: ar.Origin, VKey: ar.VKey, URL: u.String(), Index: ar.Index, TLogProof: []byte(ar.TLogProof)}
		if _, err := VerifyProof(NewAnchor(p, time.Now()), l, VerifyOptions{LogKey: logKey}); err != nil {
			return nil, fmt.Errorf("the log at %s returned a proof that does not verify: %w", u.Redacted(), err)
		}
		out[i] = p
	}
	return out, nil
}
