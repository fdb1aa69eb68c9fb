package ops

import (
	"context"
	"os"
	"path/filepath"
	"strings"

	"github.com/assay-dev/assay/core/blob"
	"github.com/assay-dev/assay/core/bundle"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/store"
	"github.com/assay-dev/assay/core/verify"
)

// Object storage (core/blob) for the CLI's -o and PACK arguments. The MCP
// tools do not reach these: a storage URL would let a client spend the
// server's cloud credentials.

// IsRemote reports whether a -o or PACK argument names object storage.
func IsRemote(s string) bool { return blob.IsURL(s) }

// VerifyRemote is Verify for a pack prefix or bundle object in storage:
// streamed into a private temp directory and checked by the same
// verifier, with the same verdicts and exit codes.
func VerifyRemote(ctx context.Context, r VerifyRequest, env Env, bo blob.Options) (*verify.Result, error) {
	o, err := r.Options(env)
	if err != nil {
		return nil, err
	}
	return verifyURL(ctx, r.Path, o, bo)
}

// maxBundleBytes bounds an audit bundle fetched from storage.
const maxBundleBytes = 4 << 30

// verifyURL verifies the pack (a prefix) or audit bundle (an object ending
// in .tar.gz or .tgz) at a storage URL with the same verifier, gates and
// exit codes as a local one: its objects are streamed into a private
// temporary directory (bounded by the sizes the manifest lists), checked
// there, and removed. A prefix without pack_manifest.json is not a pack
// (exit 3), whatever else it holds.
func verifyURL(ctx context.Context, raw string, o verify.PathOptions, bo blob.Options) (*verify.Result, error) {
	tmp, err := os.MkdirTemp("", "assay-remote-")
	if err != nil {
		return nil, exit.Bad("check $TMPDIR", "cannot create a temporary directory: %v", err)
	}
	defer os.RemoveAll(tmp)
	var local, shown string
	if lower := strings.ToLower(strings.SplitN(raw, "?", 2)[0]); strings.HasSuffix(lower, ".tar.gz") || strings.HasSuffix(lower, ".tgz") {
		p, key, err := blob.ParseObject(raw)
		if err != nil {
			return nil, err
		}
		loc, err := blob.OpenParsed(ctx, p, bo)
		if err != nil {
			return nil, err
		}
		defer loc.Close()
		local = filepath.Join(tmp, "bundle.tar.gz")
		if err := loc.FetchObject(ctx, key, local, maxBundleBytes); err != nil {
			return nil, err
		}
		shown = loc.Join(key)
	} else {
		dir, url, cleanup, err := blob.FetchTemp(ctx, raw, bo)
		if err != nil {
			return nil, err
		}
		defer cleanup()
		local, shown = dir, url
	}
	r, err := verify.VerifyPath(local, o)
	if err != nil {
		return nil, err
	}
	r.Path = shown
	return r, nil
}

// PackRemote is Pack with Out a storage URL.
func PackRemote(ctx context.Context, r PackRequest, env Env, bo blob.Options) (*BundleResult, error) {
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
	res, err := Pack(r, env)
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

// AuditBundleRemote is AuditBundle with the pack, the output or both in
// storage. An output prefix (ending in /, or not in .tar.gz/.tgz) gets the
// default bundle name. The bundle is written to a local outbox, then
// uploaded as one object that must not exist yet; a failed upload keeps
// the local bundle and says where.
func AuditBundleRemote(ctx context.Context, r BundleRequest, home string, bo blob.Options) (*BundleResult, error) {
	if IsRemote(r.Pack) {
		dir, cleanup, err := FetchPack(ctx, r.Pack, bo)
		if err != nil {
			return nil, err
		}
		defer cleanup()
		r.Pack = dir
	}
	if !IsRemote(r.Out) {
		return AuditBundle(r, nil)
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
	res, err := AuditBundle(BundleRequest{Pack: r.Pack, Out: local}, nil)
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
