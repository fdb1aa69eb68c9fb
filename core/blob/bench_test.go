package blob_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/assay-dev/assay/core/blob"
	"github.com/assay-dev/assay/core/blob/blobtest"
	"github.com/assay-dev/assay/core/check"
	"github.com/assay-dev/assay/core/packs/packstest"
	"github.com/assay-dev/assay/core/remote"
)

// Upload and verify throughput against the S3-compatible test server
// (gofakes3, in memory, on loopback, through the real AWS SDK):
//
//	go test -run '^$' -bench . -benchtime 5x ./core/blob
//
// MB/s counts the pack's bytes on disk.

func benchPack(b *testing.B, n int) (string, int64) {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "pack")
	packstest.Build(b, dir, packstest.Generic(n), nil)
	var size int64
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			info, _ := d.Info()
			size += info.Size()
		}
		return nil
	})
	return dir, size
}

func BenchmarkPublishS3(b *testing.B) {
	dir, size := benchPack(b, 50000)
	s3 := blobtest.Start(b, "bench", blobtest.Options{})
	ctx := context.Background()
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		loc, err := blob.Open(ctx, s3.URL(fmt.Sprintf("p%d/", i)), blob.Options{Getenv: s3.Getenv})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := blob.Publish(ctx, dir, loc); err != nil {
			b.Fatal(err)
		}
		loc.Close()
	}
}

func BenchmarkVerifyS3(b *testing.B) {
	dir, size := benchPack(b, 50000)
	s3 := blobtest.Start(b, "bench", blobtest.Options{})
	ctx := context.Background()
	loc, err := blob.Open(ctx, s3.URL("p/"), blob.Options{Getenv: s3.Getenv})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := blob.Publish(ctx, dir, loc); err != nil {
		b.Fatal(err)
	}
	loc.Close()
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := remote.Check(ctx, s3.URL("p/"), check.Options{}, blob.Options{Getenv: s3.Getenv})
		if err != nil || r.ExitCode != 0 {
			b.Fatalf("verify: %v", err)
		}
	}
}

// BenchmarkVerifyLocal is the same pack verified from disk, for comparison.
func BenchmarkVerifyLocal(b *testing.B) {
	dir, size := benchPack(b, 50000)
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := check.Pack(dir, check.Options{})
		if err != nil || r.ExitCode != 0 {
			b.Fatalf("verify: %v", err)
		}
	}
}
