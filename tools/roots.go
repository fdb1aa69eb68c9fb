package tools

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/assay-dev/assay/core/fsutil"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// roots confines path arguments. Explicit --root directories always win;
// without them the client's MCP roots are used when it offers them, else the
// working directory.
type roots struct {
	explicit bool

	mu      sync.Mutex
	dirs    []string // absolute, symlinks resolved
	fetched bool     // client roots asked for (once)
}

func newRoots(dirs []string) (*roots, error) {
	r := &roots{explicit: len(dirs) > 0}
	if !r.explicit {
		dirs = []string{cwd()}
	}
	for _, d := range dirs {
		abs, err := canonicalDir(d)
		if err != nil {
			return nil, err
		}
		r.dirs = append(r.dirs, abs)
	}
	return r, nil
}

func canonicalDir(d string) (string, error) {
	abs, err := filepath.Abs(d)
	if err != nil {
		return "", fmt.Errorf("root %q: %w", d, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", fmt.Errorf("root %q does not exist: %w", d, err)
	}
	fi, err := os.Stat(real)
	if err != nil || !fi.IsDir() {
		return "", fmt.Errorf("root %q is not a directory", d)
	}
	return real, nil
}

func (r *roots) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.dirs...)
}

// fromClient replaces the default root with the client's roots, once, when
// no --root was given and the client answers roots/list.
func (r *roots) fromClient(ctx context.Context, s *server.MCPServer) {
	r.mu.Lock()
	if r.explicit || r.fetched {
		r.mu.Unlock()
		return
	}
	r.fetched = true
	r.mu.Unlock()
	sess := server.ClientSessionFromContext(ctx)
	if _, ok := sess.(server.SessionWithRoots); !ok {
		return
	}
	// Ask only clients that declared the roots capability: others would
	// leave the request unanswered until the timeout.
	if ci, ok := sess.(server.SessionWithClientInfo); !ok || ci.GetClientCapabilities().Roots == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	res, err := s.RequestRoots(ctx, mcp.ListRootsRequest{})
	if err != nil || res == nil {
		return
	}
	var dirs []string
	for _, rt := range res.Roots {
		u, err := url.Parse(rt.URI)
		if err != nil || u.Scheme != "file" {
			continue
		}
		if d, err := canonicalDir(u.Path); err == nil {
			dirs = append(dirs, d)
		}
	}
	if len(dirs) > 0 {
		r.mu.Lock()
		r.dirs = dirs
		r.mu.Unlock()
	}
}

// pin stops the client's roots from replacing the current ones.
func (r *roots) pin() {
	r.mu.Lock()
	r.explicit = true
	r.mu.Unlock()
}

// refresh makes the next path argument ask the client for its roots again.
func (r *roots) refresh() {
	r.mu.Lock()
	r.fetched = false
	r.mu.Unlock()
}

// resolve turns a path argument into an absolute path inside a root.
// Relative paths are taken from the first root. The path need not exist
// (outputs), but its nearest existing ancestor is resolved through symlinks
// so a link cannot lead out of the roots.
func (r *roots) resolve(p string) (string, error) {
	dirs := r.list()
	if strings.TrimSpace(p) == "" {
		return "", Failf("empty path; pass a path under %s", strings.Join(dirs, " or "))
	}
	if strings.HasPrefix(p, "~") {
		return "", Failf("path %q starts with ~; pass an absolute path or one relative to %s", p, dirs[0])
	}
	abs := p
	if !filepath.IsAbs(p) {
		abs = filepath.Join(dirs[0], p)
	}
	abs = filepath.Clean(abs)
	real, err := fsutil.ResolvePartial(abs)
	if err != nil {
		return "", Failf("cannot resolve path %q: %v", p, err)
	}
	for _, d := range dirs {
		// Where the path is spelled under a root, it must also be
		// reachable through os.Root, which follows no `..` and no symlink
		// out of the root at any component.
		if within(d, abs) && !inRoot(d, abs) {
			break
		}
		if within(d, real) {
			return real, nil
		}
	}
	return "", Failf("path %q is outside the allowed roots (%s); use a path under one of them, or restart assay-mcp with --root",
		p, strings.Join(dirs, ", "))
}

// inRoot reports whether abs (clean, lexically under root) resolves inside
// root through os.Root: each component is resolved in the root, and a
// `..` or symlink (absolute or relative) that leaves it is an error. A
// path that does not exist yet is confined when its deepest existing
// ancestor is.
func inRoot(root, abs string) bool {
	rel, err := filepath.Rel(root, abs)
	if err != nil {
		return false
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return false
	}
	defer r.Close()
	for {
		_, err := r.Stat(rel)
		switch {
		case err == nil:
			return true
		case !errors.Is(err, fs.ErrNotExist):
			return false // escapes, or cannot be checked
		case rel == ".":
			return true
		}
		rel = filepath.Dir(rel)
	}
}

// resolveIn is resolve with relative paths taken from base (a resolved
// directory inside the roots) instead of the first root.
func (r *roots) resolveIn(base, p string) (string, error) {
	if strings.TrimSpace(p) != "" && !filepath.IsAbs(p) && !strings.HasPrefix(p, "~") {
		p = filepath.Join(base, p)
	}
	return r.resolve(p)
}

func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// Path resolves a path argument against the allowed roots (asking the
// client for its roots first when it offers them).
func (c *Call) Path(ctx context.Context, p string) (string, error) {
	c.Server.roots.fromClient(ctx, c.Server.MCP)
	return c.Server.roots.resolve(p)
}
