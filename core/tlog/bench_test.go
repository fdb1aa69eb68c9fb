package tlog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	aaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/storage/aws"

	"github.com/assay-dev/assay/core/tlog/tlogtest"
)

func benchLeaf(i int) []byte {
	h := sha256.Sum256(fmt.Appendf(nil, "%d", i))
	x := hex.EncodeToString(h[:])
	return Leaf{PackID: fmt.Sprintf("pack_%d", i), PackRootSHA256: x, ManifestSHA256: x}.Bytes()
}

// BenchmarkAppendThroughput: leaves appended to one open local log in
// batches of 256 (a team log server's setting), until a checkpoint covers
// them and every proof is built and checked. Reports appends/s.
func BenchmarkAppendThroughput(b *testing.B) {
	ctx := context.Background()
	a, err := OpenAppender(ctx, b.TempDir(), AppendOptions{BatchSize: 256})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close(ctx)
	leaves := make([][]byte, b.N)
	for i := range leaves {
		leaves[i] = benchLeaf(i)
	}
	b.ResetTimer()
	if _, err := a.Append(ctx, leaves); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
}

// BenchmarkAnchorLatency: what one `assay anchor PACK` does against the
// local log: open the log, append one leaf, await the checkpoint, build the
// proof, write anchor.json, close. Reports anchor.json's size.
func BenchmarkAnchorLatency(b *testing.B) {
	tmp := b.TempDir()
	logDir := filepath.Join(tmp, "log")
	p := buildPack(b, tmp, "p")
	anchorPacks(b, logDir, AppendOptions{}, p) // create the log
	b.ResetTimer()
	for b.Loop() {
		anchorPacks(b, logDir, AppendOptions{}, p)
	}
	st, _ := os.Stat(filepath.Join(p, AnchorFile))
	b.ReportMetric(float64(st.Size()), "anchor.json-bytes")
}

// BenchmarkVerifyAnchor: offline verification of an anchor (read the pack's
// manifest and anchor.json, recompute the leaf, check the checkpoint
// signature, two witness cosignatures under a 2-of-2 policy, the inclusion
// proof) in a log of 1,000 entries.
func BenchmarkVerifyAnchor(b *testing.B) {
	tmp := b.TempDir()
	logDir := filepath.Join(tmp, "log")
	ctx := context.Background()
	a, err := OpenAppender(ctx, logDir, AppendOptions{BatchSize: 256})
	if err != nil {
		b.Fatal(err)
	}
	leaves := make([][]byte, 999)
	for i := range leaves {
		leaves[i] = benchLeaf(i)
	}
	if _, err := a.Append(ctx, leaves); err != nil {
		b.Fatal(err)
	}
	a.Close(ctx)
	p := buildPack(b, tmp, "p")
	anchorPacks(b, logDir, AppendOptions{}, p)
	k, _ := OpenKeys(logDir, "")
	w1, w2 := newCosigner(b, "w.test/1"), newCosigner(b, "w.test/2")
	editAnchorTB(b, p, k.VKey, w1, w2)
	pol, err := ParsePolicy([]byte(policyText("all", w1, w2)))
	if err != nil {
		b.Fatal(err)
	}
	o := VerifyOptions{LogKey: k.VKey, Policy: pol}
	st, _ := os.Stat(filepath.Join(p, AnchorFile))
	b.ResetTimer()
	for b.Loop() {
		if _, err := VerifyAnchor(p, o); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(st.Size()), "anchor.json-bytes")
}

// BenchmarkAppendOnly: appends/s to the local log without building proofs:
// add in batches of 256, then await the checkpoint covering the last entry.
func BenchmarkAppendOnly(b *testing.B) {
	ctx := context.Background()
	a, err := OpenAppender(ctx, b.TempDir(), AppendOptions{BatchSize: 256})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close(ctx)
	b.ResetTimer()
	var last tessera.IndexFuture
	for i := range b.N {
		last = a.app.Add(ctx, tessera.NewEntry(benchLeaf(i)))
	}
	if _, _, err := a.awaiter.Await(ctx, last); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
}

// BenchmarkAWSAppendOnly: appends/s to a log on tessera's AWS backend
// (gofakes3 in-process + a local MariaDB), batches of 256, awaiting the
// checkpoint (1 s minimum interval on AWS) that covers the last entry.
func BenchmarkAWSAppendOnly(b *testing.B) {
	dsn := tlogtest.StartMariaDB(b)
	s3url := tlogtest.StartS3(b, "bench")
	ctx := context.Background()
	a, err := openAWSForBench(ctx, b.TempDir(), dsn, s3url)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close(ctx)
	b.ResetTimer()
	var last tessera.IndexFuture
	for i := range b.N {
		last = a.app.Add(ctx, tessera.NewEntry(benchLeaf(i)))
	}
	if _, _, err := a.awaiter.Await(ctx, last); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
}

// openAWSForBench is tlogaws.OpenAppender (which this package's tests
// cannot import: it imports tlog) for a local S3 endpoint.
func openAWSForBench(ctx context.Context, dir, dsn, s3url string) (*Appender, error) {
	keys, err := OpenKeys(dir, "")
	if err != nil {
		return nil, err
	}
	drv, err := aws.New(ctx, aws.Config{Bucket: "bench", DSN: dsn, MaxOpenConns: 16, MaxIdleConns: 4,
		SDKConfig: &aaws.Config{Region: "us-east-1"},
		S3Options: func(so *s3.Options) {
			so.BaseEndpoint = aaws.String(s3url)
			so.Credentials = credentials.NewStaticCredentialsProvider("k", "s", "")
			so.Region = "us-east-1"
			so.UsePathStyle = true
		}})
	if err != nil {
		return nil, err
	}
	return newAppender(ctx, drv, keys, dir, time.Second, AppendOptions{BatchSize: 256})
}
