package tools

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/assay-dev/assay/core/fsutil"
	"github.com/assay-dev/assay/core/ops"
	"github.com/assay-dev/assay/core/pack"
)

// BundleArgs are the arguments of bundle.
type BundleArgs struct {
	Pack string `json:"pack,omitempty" jsonschema:"description=Existing pack directory: make an audit bundle (.tar.gz) of it instead. Omit to build and sign a pack of this session's trace"`
	Out  string `json:"out,omitempty" jsonschema:"description=Output path (must not exist). Default: .assay/mcp/packs/ under the first root"`
}

// BundleResult is what bundle returns: the document 'assay proof-pack
// --json' (without pack) or 'assay audit bundle --json' (with pack) prints,
// plus the transport-only link to the pack's manifest resource.
type BundleResult struct {
	ops.BundleResult
	ResourceURI string `json:"resource_uri,omitempty" jsonschema:"description=MCP resource of the pack's signed manifest (this server only)"`
}

func (r BundleResult) resourceLinks() []mcp.Content {
	if r.ResourceURI == "" {
		return nil
	}
	return []mcp.Content{mcp.NewResourceLink(r.ResourceURI, filepath.Base(r.path()), "the pack's signed manifest", "application/json")}
}

func (r BundleResult) path() string {
	if r.Pack != nil {
		return r.Pack.Dir
	}
	if r.Bundle != nil {
		return r.Bundle.Path
	}
	return ""
}

func bundleTool() Tool {
	return newTool("bundle", "Build a signed pack or an audit bundle",
		"Without pack: build and sign a proof pack of this session's trace (every tool call plus your emit-receipt receipts). With pack: make an audit bundle (.tar.gz) of that pack. Returns the paths and a resource link.",
		Annotations{ReadOnly: false, Destructive: false, Idempotent: false, OpenWorld: false},
		func(ctx context.Context, c *Call, a BundleArgs) (BundleResult, string, error) {
			if a.Pack != "" {
				return auditBundle(ctx, c, a)
			}
			return packSession(ctx, c, a)
		})
}

func packSession(ctx context.Context, c *Call, a BundleArgs) (BundleResult, string, error) {
	s, sess := c.Server, c.Session
	out, err := outPath(ctx, c, a.Out, "proof_pack_"+time.Now().UTC().Format("20060102T150405Z"))
	if err != nil {
		return BundleResult{}, "", err
	}
	if _, ok, err := s.store.Find(sess.traceID); err != nil {
		return BundleResult{}, "", fmt.Errorf("find the session trace: %w", err)
	} else if !ok {
		return BundleResult{}, "", Failf("this session's trace %s has no receipts yet; record some with emit-receipt first", sess.traceID)
	}
	// The pack is built in a private directory, then published into the
	// root through an os.Root (staging + rename), so no link inside the
	// roots can redirect any of its files.
	o, err := c.Output(ctx, out)
	if err != nil {
		return BundleResult{}, "", err
	}
	defer o.Close()
	tmp, err := os.MkdirTemp("", "assay-mcp-pack-")
	if err != nil {
		return BundleResult{}, "", fmt.Errorf("create a build directory: %w", err)
	}
	defer os.RemoveAll(tmp)
	// The same request type and result as 'assay proof-pack'.
	built, err := ops.Pack(ops.PackRequest{TraceID: sess.traceID, Out: filepath.Join(tmp, "pack"), WorkDir: o.root.Name()},
		ops.Env{Home: s.home, Getenv: s.getenv()})
	if err != nil {
		return BundleResult{}, "", err
	}
	if built.GeneratedKey != "" {
		s.log.Info().Str("signer", built.GeneratedKey).Msg("generated signing key")
	}
	for _, p := range built.Lost {
		s.log.Warn().Int("line", p.Line).Str("problem", p.Err).Msg("trace line is not a receipt; left out of the pack")
	}
	files, err := fsutil.ReadTree(built.Pack.Dir)
	if err != nil {
		return BundleResult{}, "", fmt.Errorf("read the built pack: %w", err)
	}
	if err := fsutil.PublishDirIn(o.root, o.rel, files); err != nil {
		switch {
		case errors.Is(err, fs.ErrExist):
			return BundleResult{}, "", Failf("output %s already exists; pass another out path", o.path)
		case fsutil.IsOutside(err):
			return BundleResult{}, "", Failf("output %s leads out of the allowed roots through a link; refused, nothing written", o.path)
		}
		return BundleResult{}, "", fmt.Errorf("write the pack to %s: %w", o.path, err)
	}
	built.Pack.Dir = o.path
	id := s.registerPack(o.path)
	res := BundleResult{BundleResult: *built, ResourceURI: packURI(id, pack.FileManifest)}
	p := built.Pack
	sum := fmt.Sprintf("built and signed pack %s (%d receipts, signer %s) at %s", p.PackID, p.NReceipts, p.SignerID, p.Dir)
	if n := built.EvidenceLost; n > 0 {
		// Never silent: a cut line (e.g. a crash mid-append) is named.
		sum += fmt.Sprintf("; WARNING: %d line(s) of trace %s were not receipts and were left out (evidence_lost; first: line %d: %s)",
			n, sess.traceID, built.Lost[0].Line, built.Lost[0].Err)
	}
	return res, sum, nil
}

func kernelPaths(dir string) []string {
	var ps []string
	for _, f := range pack.KernelFiles {
		ps = append(ps, filepath.Join(dir, f))
	}
	return ps
}

// outPath resolves the output argument (or the default under the first
// root) inside the roots and refuses an existing path.
func outPath(ctx context.Context, c *Call, out, base string) (string, error) {
	if out == "" {
		dirs := c.Server.roots.list()
		out = filepath.Join(dirs[0], ".assay", "mcp", "packs", base)
		for i := 2; exists(out); i++ {
			out = filepath.Join(dirs[0], ".assay", "mcp", "packs", fmt.Sprintf("%s_%d", base, i))
		}
	}
	p, err := c.Path(ctx, out)
	if err != nil {
		return "", err
	}
	if exists(p) {
		return "", Failf("output %s already exists; pass another out path", p)
	}
	return p, nil
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// auditBundle verifies an existing pack and writes its audit bundle
// (refused with exit 2 when the pack is tampered).
func auditBundle(ctx context.Context, c *Call, a BundleArgs) (BundleResult, string, error) {
	dir, err := c.PackPath(ctx, a.Pack)
	if err != nil {
		return BundleResult{}, "", err
	}
	out := a.Out
	if out == "" {
		name := ops.BundleRequest{Pack: dir}.DefaultBundleName()
		if name == "" {
			return BundleResult{}, "", Failf("%s is not a readable pack (no pack_manifest.json); give a pack directory", dir)
		}
		out = filepath.Join(filepath.Dir(dir), name)
		if _, err := c.Path(ctx, out); err != nil {
			out = filepath.Join(c.Server.roots.list()[0], ".assay", "mcp", "bundles", name)
		}
	}
	o, err := c.Output(ctx, out)
	if err != nil {
		return BundleResult{}, "", err
	}
	defer o.Close()
	// The same request type and result as 'assay audit bundle'.
	r, err := ops.AuditBundle(ops.BundleRequest{Pack: dir, Out: o.rel}, o.root)
	if err != nil {
		return BundleResult{}, "", err
	}
	id := c.Server.registerPack(dir)
	b := r.Bundle
	return BundleResult{BundleResult: *r, ResourceURI: packURI(id, pack.FileManifest)},
		fmt.Sprintf("wrote audit bundle %s of pack %s (verify verdict %s, exit %d, %d bytes)", b.Path, b.PackID, b.Verdict, b.ExitCode, b.Bytes), nil
}

func (s *Server) getenv() func(string) string {
	return func(k string) string { return lookupEnv(s.cfg.Env, k) }
}
