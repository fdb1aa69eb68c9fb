package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/blob"
	"github.com/assay-dev/assay/core/blob/blobtest"
)

// TestStorageCLIExportOTLP: `assay export otlp URL` exports a pack
// published to storage (verified first, as a local one), refuses one
// tampered in storage with exit 2 before sending a span, and a prefix
// without a manifest with exit 3.
func TestStorageCLIExportOTLP(t *testing.T) {
	t.Parallel()
	s3 := blobtest.Start(t, "packs", blobtest.Options{})
	fileRoot := t.TempDir()
	for _, c := range []struct {
		name string
		url  func(string) string
		env  []string
		opt  blob.Options
	}{
		{"s3", s3.URL, s3.Env(), blob.Options{Getenv: s3.Getenv}},
		{"file", func(p string) string { return "file://" + filepath.ToSlash(filepath.Join(fileRoot, p)) + "/" }, nil, blob.Options{Getenv: func(string) string { return "" }}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			sink, endpoint := startSpanSink(t)
			cli := newStoreCLI(t, c.env)
			if code, out, errs := cli.run("proof-pack", cli.trace(3), "-o", c.url("runs/r1/")); code != 0 {
				t.Fatalf("proof-pack -o URL: exit %d\n%s\n%s", code, out, errs)
			}
			code, out, errs := cli.run("export", "otlp", c.url("runs/r1/"), "--otlp-endpoint", endpoint, "--json")
			if code != 0 {
				t.Fatalf("export otlp URL: exit %d\n%s\n%s", code, out, errs)
			}
			var res exportResult
			if err := json.Unmarshal([]byte(out), &res); err != nil || res.Spans != 3 || res.Source != "pack" || res.PackID == "" {
				t.Fatalf("export --json: %v %s", err, out)
			}
			spans := sink.all()
			if len(spans) != 3 {
				t.Fatalf("%d spans exported, want 3", len(spans))
			}
			for _, sp := range spans {
				if sp["assay.pack_id"] != res.PackID || sp["assay.receipt_id"] == nil {
					t.Fatalf("span %v, pack %s", sp, res.PackID)
				}
			}

			// Tampered in storage: exit 2, nothing sent.
			if code, out, errs := cli.run("proof-pack", cli.trace(2), "-o", c.url("runs/r2/")); code != 0 {
				t.Fatalf("proof-pack -o URL: exit %d\n%s\n%s", code, out, errs)
			}
			ctx := context.Background()
			loc, err := blob.Open(ctx, c.url("runs/r2/"), c.opt)
			if err != nil {
				t.Fatal(err)
			}
			defer loc.Close()
			data, err := loc.Bucket.ReadAll(ctx, "receipt_pack.jsonl")
			if err != nil {
				t.Fatal(err)
			}
			data = []byte(strings.Replace(string(data), "allow", "allOw", 1))
			if err := loc.Bucket.WriteAll(ctx, "receipt_pack.jsonl", data, nil); err != nil {
				t.Fatal(err)
			}
			code, out, errs = cli.run("export", "otlp", c.url("runs/r2/"), "--otlp-endpoint", endpoint)
			if code != 2 || !strings.Contains(errs, "does not verify") || len(sink.all()) != 3 {
				t.Fatalf("export of a tampered pack: exit %d, %d spans\n%s\n%s", code, len(sink.all()), out, errs)
			}

			// Not a pack (no manifest): exit 3, saying so.
			half, err := blob.Open(ctx, c.url("runs/half/"), blob.Options{Getenv: c.opt.Getenv, Create: true})
			if err != nil {
				t.Fatal(err)
			}
			defer half.Close()
			if err := half.Bucket.WriteAll(ctx, "receipt_pack.jsonl", data, nil); err != nil {
				t.Fatal(err)
			}
			code, out, errs = cli.run("export", "otlp", c.url("runs/half/"), "--otlp-endpoint", endpoint)
			if code != 3 || !strings.Contains(errs, "not a pack") {
				t.Fatalf("export of a prefix without manifest: exit %d\n%s\n%s", code, out, errs)
			}
			code, out, errs = cli.run("export", "otlp", strings.TrimSuffix(c.url("bundles/x.tar.gz"), "/"), "--otlp-endpoint", endpoint)
			if code != 3 || !strings.Contains(errs, "audit bundle") {
				t.Fatalf("export of a bundle URL: exit %d\n%s\n%s", code, out, errs)
			}
		})
	}
}
