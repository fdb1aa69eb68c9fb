// Package remote is core/ops and verify.VerifyPath for packs and audit bundles in
// object storage (core/blob): the CLI's PACK and -o arguments that are
// storage URLs. It is a package of its own so that a binary which never
// reaches storage does not link the cloud SDKs (about 450 packages whose
// init and size cost every start): assay-mcp does not, since a storage URL
// would let an MCP client spend the server's cloud credentials.
package remote

import (
	"context"
	"os"
	"path/filepath"
	"strings"

	"github.com/assay-dev/assay/core/blob"
	"github.com/assay-dev/assay/core/bundle"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/ops"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/store"
	"github.com/assay-dev/assay/core/verify"
)

// IsURL reports whether a -o or PACK argument names object storage (s3://,
// gs://, azblob://, file://) rather than a local path.
func IsURL(s string) bool { return blob.IsURL(s) }

// Verify is ops.Verify for a pack prefix or bundle object in storage:
// streamed into a private temp directory and checked by the same
// verifier, with the same verdicts and exit codes.
func Verify(ctx context.Context, r ops.VerifyRequest, env ops.Env, bo blob.Options) (*verify.Result, error) {
	o, err := r.Options(env)
	if err != nil {
		return nil, err
	}
	return Check(ctx, r.Path, o, bo)
}

// Pack is ops.Pack with Out a storage URL.
func Pack(ctx context.Context, r ops.PackRequest, env ops.Env, bo blob.Options) (*ops.BundleResult, error) {
	if err := store.ValidTraceID(r.TraceID); err != nil {
		return nil, err
	}
	ro, err := blob.OpenOutgoing(ctx, env.Home, r.Out, "proof_pack_"+r.TraceID, bo)
	if err != nil {
		return nil, err
	}
	defer ro.Close()
	raw := r.Out
	r.Out = ro.Local
	res, err := ops.Pack(r, env)
	if err != nil {
		return nil, err
	}
	if _, err := ro.Publish(ctx); err != nil {
		return nil, err
	}
	res.Pack.Dir = raw
	return res, nil
}

// FetchPack downloads the pack at a storage URL into a temp directory
// (bounded like verification) for commands that read a pack.
func FetchPack(ctx context.Context, raw string, bo blob.Options) (string, func(), error) {
	loc, err := blob.Open(ctx, raw, bo)
	if err != nil {
		return "", nil, err
	}
	defer loc.Close()
	tmp, err := os.MkdirTemp("", "assay-remote-")
	if err != nil {
		return "", nil, exit.Bad("check $TMPDIR", "cannot create a temporary directory: %v", err)
	}
	dir := filepath.Join(tmp, "pack")
	if err := os.Mkdir(dir, 0o700); err != nil {
		os.RemoveAll(tmp)
		return "", nil, err
	}
	if err := loc.Fetch(ctx, dir); err != nil {
		os.RemoveAll(tmp)
		return "", nil, err
	}
	return dir, func() { os.RemoveAll(tmp) }, nil
}

// AuditBundle is ops.AuditBundle with the pack, the output or both in
// storage. An output prefix (ending in /, or not in .tar.gz/.tgz) gets the
// default bundle name. The bundle is written to a local outbox, then
// uploaded as one object that must not exist yet; a failed upload keeps
// the local bundle and says where.
func AuditBundle(ctx context.Context, r ops.BundleRequest, home string, bo blob.Options) (*ops.BundleResult, error) {
	if IsURL(r.Pack) {
		dir, cleanup, err := FetchPack(ctx, r.Pack, bo)
		if err != nil {
			return nil, err
		}
		defer cleanup()
		r.Pack = dir
	}
	if !IsURL(r.Out) {
		return ops.AuditBundle(r, nil)
	}
	raw := r.Out
	base := strings.SplitN(raw, "?", 2)
	lower := strings.ToLower(base[0])
	if !strings.HasSuffix(lower, ".tar.gz") && !strings.HasSuffix(lower, ".tgz") {
		p, err := pack.OpenDir(r.Pack)
		if err != nil {
			return nil, err
		}
		id := p.Manifest.PackID
		p.Close()
		base[0] = strings.TrimSuffix(base[0], "/") + "/" + bundle.DefaultName(id)
		raw = strings.Join(base, "?")
	}
	p, key, err := blob.ParseObject(raw)
	if err != nil {
		return nil, err
	}
	bo.Create = true
	loc, err := blob.OpenParsed(ctx, p, bo)
	if err != nil {
		return nil, err
	}
	defer loc.Close()
	if ok, err := loc.Bucket.Exists(ctx, key); err != nil {
		return nil, blob.Err(err, bo.Getenv, "read "+loc.Join(key))
	} else if ok {
		return nil, exit.Bad("choose a new name; bundles are never overwritten", "%s already exists", loc.Join(key))
	}
	if home == "" {
		return nil, exit.Bad("set ASSAY_HOME", "no assay home for the local copy of a bundle bound for %s", loc.Join(key))
	}
	box, err := blob.Outbox(home)
	if err != nil {
		return nil, err
	}
	local := filepath.Join(box, key)
	res, err := ops.AuditBundle(ops.BundleRequest{Pack: r.Pack, Out: local}, nil)
	if err != nil {
		os.RemoveAll(box)
		return nil, err
	}
	if _, err := loc.PutObject(ctx, local, key); err != nil {
		return nil, blob.Kept(err, "upload to "+loc.Join(key)+" failed", local, "upload that file yourself, or run 'assay audit bundle' again")
	}
	os.RemoveAll(box)
	res.Bundle.Path = raw
	return res, nil
}
