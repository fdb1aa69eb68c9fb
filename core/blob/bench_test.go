package blob_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/assay-dev/assay/core/blob"
	"github.com/assay-dev/assay/core/blob/blobtest"
	"github.com/assay-dev/assay/core/packs/packstest"
	"github.com/assay-dev/assay/core/remote"
	"github.com/assay-dev/assay/core/verify"
)

// Upload and verify throughput against the S3-compatible test server
// (gofakes3, in memory, on loopback, through the real AWS SDK), for packs
// of 10k and 100k receipts:
//
//	go test -run '^$' -bench . -benchtime 3x ./core/blob
//
// MB/s counts the pack's bytes on disk; receipts/s the pack's receipts.
// BenchmarkBuildPublishS3 is what `proof-pack -o s3://...` does (build
// and sign in the outbox, then publish, manifest last); BenchmarkVerifyS3
// is `verify-pack s3://...` (stream to a private directory, verify).

var benchSizes = []int{10_000, 100_000}

func packSize(b *testing.B, dir string) int64 {
	var size int64
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			info, _ := d.Info()
			size += info.Size()
		}
		return nil
	})
	return size
}

func benchPack(b *testing.B, n int) (string, int64) {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "pack")
	packstest.Build(b, dir, packstest.Generic(n), nil)
	return dir, packSize(b, dir)
}

func perReceipt(b *testing.B, n int) {
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "receipts/s")
}

// BenchmarkPublishS3 is the upload alone (the pack already built).
func BenchmarkPublishS3(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("receipts=%d", n), func(b *testing.B) {
			dir, size := benchPack(b, n)
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
			b.StopTimer()
			perReceipt(b, n)
		})
	}
}

// BenchmarkBuildPublishS3 is build → upload: the receipts made into a
// signed pack on local disk, then published.
func BenchmarkBuildPublishS3(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("receipts=%d", n), func(b *testing.B) {
			recs := packstest.Generic(n)
			s3 := blobtest.Start(b, "bench", blobtest.Options{})
			ctx := context.Background()
			var size int64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				dir := filepath.Join(b.TempDir(), "pack")
				packstest.Build(b, dir, recs, nil)
				loc, err := blob.Open(ctx, s3.URL(fmt.Sprintf("p%d/", i)), blob.Options{Getenv: s3.Getenv})
				if err != nil {
					b.Fatal(err)
				}
				pub, err := blob.Publish(ctx, dir, loc)
				if err != nil {
					b.Fatal(err)
				}
				loc.Close()
				size = pub.Bytes
			}
			b.StopTimer()
			b.SetBytes(size) // read at the end; MB/s uses it
			perReceipt(b, n)
		})
	}
}

func BenchmarkVerifyS3(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("receipts=%d", n), func(b *testing.B) {
			dir, size := benchPack(b, n)
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
				r, err := remote.Check(ctx, s3.URL("p/"), verify.PathOptions{}, blob.Options{Getenv: s3.Getenv})
				if err != nil || r.ExitCode != 0 {
					b.Fatalf("verify: %v", err)
				}
			}
			b.StopTimer()
			perReceipt(b, n)
		})
	}
}

// BenchmarkVerifyLocal is the same pack verified from disk, for comparison.
func BenchmarkVerifyLocal(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("receipts=%d", n), func(b *testing.B) {
			dir, size := benchPack(b, n)
			b.SetBytes(size)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r, err := verify.VerifyPath(dir, verify.PathOptions{})
				if err != nil || r.ExitCode != 0 {
					b.Fatalf("verify: %v", err)
				}
			}
			b.StopTimer()
			perReceipt(b, n)
		})
	}
}
