// Package tlogaws puts a transparency log (core/tlog) on tessera's AWS
// backend: tiles, entry bundles and the checkpoint in an S3-compatible
// bucket, sequencing in a MySQL-compatible database. It is a package of its
// own so that only the command serving such a log links the AWS SDK, the
// MySQL driver and tessera's AWS storage (their init and size cost every
// start of a binary that links them).
package tlogaws

import (
	"context"
	"fmt"
	"time"

	aaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/transparency-dev/tessera/storage/aws"

	"github.com/assay-dev/assay/core/tlog"
)

// Config places a log on tessera's AWS backend: tiles, entry bundles and
// the checkpoint in an S3-compatible bucket (read by clients directly),
// sequencing in a MySQL-compatible database.
type Config struct {
	Bucket, Prefix string
	// DSN is a go-sql-driver/mysql DSN (user:pass@tcp(host:port)/db).
	DSN string
	// Endpoint, when set, is a non-AWS S3 endpoint (path-style, static
	// credentials AccessKey/SecretKey); empty uses the AWS SDK defaults.
	Endpoint, Region, AccessKey, SecretKey string
}

// awsCheckpointInterval is tessera's minimum for AWS.
const awsCheckpointInterval = time.Second

// OpenAppender opens (or creates) a log whose keys live in keysDir and
// whose data lives in S3 + MySQL.
func OpenAppender(ctx context.Context, keysDir string, c Config, o tlog.AppendOptions) (*tlog.Appender, error) {
	keys, err := tlog.OpenKeys(keysDir, o.Origin)
	if err != nil {
		return nil, err
	}
	cfg := aws.Config{Bucket: c.Bucket, BucketPrefix: c.Prefix, DSN: c.DSN, MaxOpenConns: 16, MaxIdleConns: 4}
	if c.Endpoint != "" {
		region := c.Region
		if region == "" {
			region = "us-east-1"
		}
		cfg.SDKConfig = &aaws.Config{Region: region}
		cfg.S3Options = func(so *s3.Options) {
			so.BaseEndpoint = aaws.String(c.Endpoint)
			so.Credentials = credentials.NewStaticCredentialsProvider(c.AccessKey, c.SecretKey, "")
			so.Region = region
			so.UsePathStyle = true
		}
	}
	drv, err := aws.New(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open AWS storage: %w", err)
	}
	return tlog.NewAppender(ctx, drv, keys, keysDir, awsCheckpointInterval, o)
}

// NewServer serves a log on the AWS backend (keys in keysDir); tiles are
// read back through the S3 API.
func NewServer(ctx context.Context, keysDir, token string, c Config, o tlog.AppendOptions) (*tlog.Server, error) {
	return tlog.NewServerWith(token, o, func(o tlog.AppendOptions) (*tlog.Appender, error) {
		return OpenAppender(ctx, keysDir, c, o)
	})
}
