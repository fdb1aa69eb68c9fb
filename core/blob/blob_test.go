package blob_test

import (
	"context"
	"html"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/blob"
	"github.com/assay-dev/assay/core/blob/blobtest"
	"github.com/assay-dev/assay/core/bundle"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/packs/packstest"
	"github.com/assay-dev/assay/core/remote"
	"github.com/assay-dev/assay/core/verify"
)

// backend is one kind of store the same tests run against.
type backend struct {
	name string
	url  func(prefix string) string // a pack prefix's URL
	opt  blob.Options
}

func backends(t *testing.T) []backend {
	s3 := blobtest.Start(t, "packs", blobtest.Options{})
	gcs := blobtest.StartGCS(t, "packs", blobtest.GCSOptions{})
	az := blobtest.StartAzurite(t, "packs", blobtest.AzureOptions{})
	dir := t.TempDir()
	return []backend{
		{"s3", s3.URL, blob.Options{Getenv: s3.Getenv, Create: true}},
		{"gs", gcs.URL, blob.Options{Getenv: gcs.Getenv, Create: true}},
		{"azblob", az.URL, blob.Options{Getenv: az.Getenv, Create: true}},
		{"file", func(p string) string { return "file://" + filepath.ToSlash(filepath.Join(dir, p)) + "/" }, blob.Options{Getenv: func(string) string { return "" }, Create: true}},
	}
}

func buildPack(t *testing.T, n int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pack")
	packstest.Build(t, dir, packstest.Generic(n), nil)
	return dir
}

func publish(t *testing.T, b backend, dir, prefix string) *blob.Published {
	t.Helper()
	ctx := context.Background()
	loc, err := blob.Open(ctx, b.url(prefix), b.opt)
	if err != nil {
		t.Fatal(err)
	}
	defer loc.Close()
	res, err := blob.Publish(ctx, dir, loc)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	return res
}

func verifyURL(t *testing.T, b backend, raw string) (*verify.Result, error) {
	t.Helper()
	ro := b.opt
	ro.Create = false
	return remote.Check(context.Background(), raw, verify.PathOptions{}, ro)
}

// TestRoundTrip: build → publish → verify (same verdict and exit code as
// the local pack) → bundle → publish the bundle → verify it → list.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dir := buildPack(t, 20)
			pub := publish(t, b, dir, "runs/a/pack")
			if pub.Objects < 6 || pub.Bytes == 0 {
				t.Fatalf("published %+v", pub)
			}
			local, err := verify.VerifyPath(dir, verify.PathOptions{})
			if err != nil {
				t.Fatal(err)
			}
			remote, err := verifyURL(t, b, b.url("runs/a/pack"))
			if err != nil {
				t.Fatalf("verify remote: %v", err)
			}
			if remote.ExitCode != 0 || remote.ExitCode != local.ExitCode || remote.Verdict != local.Verdict || remote.Pack.PackID != local.Pack.PackID {
				t.Fatalf("remote verdict %s/%d pack %s, local %s/%d pack %s", remote.Verdict, remote.ExitCode, remote.Pack.PackID, local.Verdict, local.ExitCode, local.Pack.PackID)
			}
			if len(remote.Warnings) != len(local.Warnings) {
				t.Fatalf("warnings differ: remote %q, local %q", remote.Warnings, local.Warnings)
			}

			// A pack is never overwritten.
			loc, err := blob.Open(ctx, b.url("runs/a/pack"), b.opt)
			if err != nil {
				t.Fatal(err)
			}
			defer loc.Close()
			if _, err := blob.Publish(ctx, dir, loc); exit.Code(err) != exit.BadInput || !strings.Contains(err.Error(), "already exists") {
				t.Fatalf("second publish: %v", err)
			}

			// Bundle, upload, verify the bundle URL.
			tgz := filepath.Join(t.TempDir(), "b.tar.gz")
			if _, err := bundle.Create(dir, tgz); err != nil {
				t.Fatal(err)
			}
			p, key, err := blob.ParseObject(b.url("bundles/run-a.tar.gz"))
			if err != nil {
				t.Fatal(err)
			}
			bl, err := blob.OpenParsed(ctx, p, b.opt)
			if err != nil {
				t.Fatal(err)
			}
			defer bl.Close()
			if _, err := bl.PutObject(ctx, tgz, key); err != nil {
				t.Fatal(err)
			}
			if _, err := bl.PutObject(ctx, tgz, key); exit.Code(err) != exit.BadInput {
				t.Fatalf("second bundle upload: %v", err)
			}
			br, err := verifyURL(t, b, strings.Replace(b.url("bundles/run-a.tar.gz"), "run-a.tar.gz/", "run-a.tar.gz", 1))
			if err != nil {
				t.Fatalf("verify bundle: %v", err)
			}
			if br.ExitCode != 0 || br.Pack.PackID != local.Pack.PackID {
				t.Fatalf("bundle verdict %s/%d", br.Verdict, br.ExitCode)
			}

			// List finds the pack with its manifest's fields.
			root, err := blob.Open(ctx, b.url("runs"), blob.Options{Getenv: b.opt.Getenv})
			if err != nil {
				t.Fatal(err)
			}
			defer root.Close()
			l, err := root.ListPacks(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Packs) != 1 || l.Packs[0].PackID != local.Pack.PackID || l.Packs[0].NReceipts != 20 || !strings.HasSuffix(l.Packs[0].Path, "runs/a/pack/") || len(l.Incomplete) != 0 {
				t.Fatalf("list: %+v", l)
			}
		})
	}
}

// TestTamperedRemote: a receipt file changed in storage gives the same
// verdict and exit code (2) as the same change on disk.
func TestTamperedRemote(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dir := buildPack(t, 5)
			publish(t, b, dir, "t/pack")
			bad := filepath.Join(t.TempDir(), "bad")
			packstest.Copy(t, dir, bad)
			packstest.FlipByte(t, filepath.Join(bad, "receipt_pack.jsonl"), 10)
			data, err := os.ReadFile(filepath.Join(bad, "receipt_pack.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			loc, err := blob.Open(ctx, b.url("t/pack"), b.opt)
			if err != nil {
				t.Fatal(err)
			}
			defer loc.Close()
			if err := loc.Bucket.WriteAll(ctx, "receipt_pack.jsonl", data, nil); err != nil {
				t.Fatal(err)
			}
			local, err := verify.VerifyPath(bad, verify.PathOptions{})
			if err != nil {
				t.Fatal(err)
			}
			remote, err := verifyURL(t, b, b.url("t/pack"))
			if err != nil {
				t.Fatal(err)
			}
			if remote.ExitCode != exit.Tampered || remote.ExitCode != local.ExitCode || remote.Verdict != local.Verdict {
				t.Fatalf("remote %s/%d, local %s/%d", remote.Verdict, remote.ExitCode, local.Verdict, local.ExitCode)
			}
		})
	}
}

// TestNoManifestIsNotAPack: a prefix holding every file but the manifest
// (what an interrupted upload leaves) is not a pack to verify or list.
func TestNoManifestIsNotAPack(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dir := buildPack(t, 3)
			loc, err := blob.Open(ctx, b.url("half/pack"), b.opt)
			if err != nil {
				t.Fatal(err)
			}
			defer loc.Close()
			for _, n := range []string{"receipt_pack.jsonl", "verify_report.json", "verify_transcript.md", "pack_signature.sig"} {
				data, err := os.ReadFile(filepath.Join(dir, n))
				if err != nil {
					t.Fatal(err)
				}
				if err := loc.Bucket.WriteAll(ctx, n, data, nil); err != nil {
					t.Fatal(err)
				}
			}
			assertNotPack(t, b, "half", "half/pack")
			// Publishing onto the leftovers is refused, saying why.
			if _, err := blob.Publish(ctx, dir, loc); exit.Code(err) != exit.BadInput || !strings.Contains(err.Error(), "interrupted upload") {
				t.Fatalf("publish onto leftovers: %v", err)
			}
		})
	}
}

// assertNotPack checks that verify refuses prefix (exit 3, naming the
// missing manifest) and that listing parent shows no pack there.
func assertNotPack(t *testing.T, b backend, parent, prefix string) {
	t.Helper()
	ctx := context.Background()
	_, err := verifyURL(t, b, b.url(prefix))
	if exit.Code(err) != exit.BadInput || !strings.Contains(err.Error(), "no pack_manifest.json") || !strings.Contains(err.Error(), "not a pack") {
		t.Fatalf("verify of a prefix without manifest: %v", err)
	}
	root, err := blob.Open(ctx, b.url(parent), blob.Options{Getenv: b.opt.Getenv})
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	l, err := root.ListPacks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Packs) != 0 {
		t.Fatalf("listed %+v as packs", l.Packs)
	}
}

// TestDroppedUpload: the server drops the connection midway through the
// upload (every PUT after some bytes): Publish fails with one scrubbed
// line, and what is left in the bucket is not a pack.
func TestDroppedUpload(t *testing.T) {
	t.Parallel()
	dir := buildPack(t, 2000)
	st, err := os.Stat(filepath.Join(dir, "receipt_pack.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var allButManifest int64
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() != "pack_manifest.json" {
			info, _ := d.Info()
			allButManifest += info.Size()
		}
		return nil
	})
	// Inside the receipts; inside the manifest, the last object.
	for _, after := range []int64{st.Size() / 2, allButManifest + 10} {
		s3 := blobtest.Start(t, "packs", blobtest.Options{DropPutAfter: after})
		b := backend{"s3", s3.URL, blob.Options{Getenv: s3.Getenv}}
		ctx := context.Background()
		loc, err := blob.Open(ctx, s3.URL("drop/pack"), b.opt)
		if err != nil {
			t.Fatal(err)
		}
		_, err = blob.Publish(ctx, dir, loc)
		loc.Close()
		if exit.Code(err) != exit.BadInput || !strings.Contains(err.Error(), "upload s3://packs/drop/pack/") {
			t.Fatalf("dropped upload after %d bytes: %v", after, err)
		}
		t.Logf("dropped after %d bytes: %v", after, err)
		if strings.Contains(err.Error(), blobtest.SecretKey) || strings.Contains(err.Error(), "\n") {
			t.Fatalf("error is not one scrubbed line: %q", err)
		}
		assertNotPack(t, b, "drop", "drop/pack")
	}
}

// TestErrorsAreScrubbed: a store whose error quotes a signed URL, user
// info and the secret key yields a message with none of them.
func TestErrorsAreScrubbed(t *testing.T) {
	t.Parallel()
	leak := "https://admin:hunter2pw@store.example/packs/x?X-Amz-Credential=AKIALEAK%2F2026&X-Amz-Signature=deadbeefcafe&sig=azuresig123 " + blobtest.SecretKey
	s3 := blobtest.Start(t, "packs", blobtest.Options{Fail: func(r *http.Request) string {
		return "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>" + html.EscapeString("denied: "+leak+" Signature=abcabc123") + "</Message></Error>"
	}})
	ctx := context.Background()
	loc, err := blob.Open(ctx, s3.URL("p/"), blob.Options{Getenv: s3.Getenv})
	if err != nil {
		t.Fatal(err)
	}
	defer loc.Close()
	_, err = blob.Publish(ctx, buildPack(t, 1), loc)
	if err == nil {
		t.Fatal("publish against a failing store succeeded")
	}
	msg := err.Error()
	t.Logf("scrubbed: %s", msg)
	for _, secret := range []string{"hunter2pw", "AKIALEAK", "deadbeefcafe", "azuresig123", blobtest.SecretKey, blobtest.AccessKey, "abcabc123"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error leaks %q: %s", secret, msg)
		}
	}
	if !strings.Contains(msg, "AccessDenied") && !strings.Contains(msg, "403") {
		t.Errorf("error lost its reason: %s", msg)
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in, display string
		bad         bool
	}{
		{in: "s3://b/p/q/", display: "s3://b/p/q/"},
		{in: "s3://b/p/q?region=eu-west-1", display: "s3://b/p/q/"},
		{in: "s3://b", display: "s3://b/"},
		{in: "gs://b/x/", display: "gs://b/x/"},
		{in: "azblob://c/x", display: "azblob://c/x/"},
		{in: "file:///tmp/x/", display: "file:///tmp/x/"},
		{in: "s3://key:secret@b/p/", bad: true},
		{in: "s3:///p/", bad: true},
		{in: "s3://b/a/../b/", bad: true},
		{in: "s3://b/a//b/", bad: true},
		{in: "file://host/x", bad: true},
		{in: "file://rel", bad: true},
		{in: "http://b/p", bad: true},
		{in: "./pack", bad: true},
	} {
		p, err := blob.Parse(c.in)
		if c.bad {
			if exit.Code(err) != exit.BadInput {
				t.Errorf("Parse(%q) = %+v, %v; want bad input", c.in, p, err)
			} else if strings.Contains(err.Error(), "secret") {
				t.Errorf("Parse(%q) error echoes the credential: %v", c.in, err)
			}
			continue
		}
		if err != nil || p.Display() != c.display {
			t.Errorf("Parse(%q) = %q, %v; want %q", c.in, p.Display(), err, c.display)
		}
	}
}

func TestIsURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{
		"s3://b/p": true, "S3://b": true, "gs://b": true, "azblob://c": true, "file:///x": true,
		"pack": false, "/abs/pack": false, "./s3://x": false, "http://x": false, "": false,
	} {
		if got := blob.IsURL(in); got != want {
			t.Errorf("IsURL(%q) = %v", in, got)
		}
	}
}
