// Package blob reads and writes proof packs and audit bundles in object
// storage through gocloud.dev/blob, behind one URL scheme:
//
//	s3://BUCKET/PREFIX/     Amazon S3 and S3-compatible stores (?endpoint=, ?region=, ?use_path_style=true)
//	gs://BUCKET/PREFIX/     Google Cloud Storage
//	azblob://CONTAINER/PREFIX/  Azure Blob Storage
//	file:///ABS/DIR/        a local directory, through the same code path
//
// Credentials come from each cloud's usual environment (the AWS SDK's
// chain, Application Default Credentials, AZURE_STORAGE_*); they never
// appear in a message: every error leaving this package is scrubbed
// (Scrub) of URL user info, signed query strings and credential values.
//
// A pack is published with its manifest last (Publish): a reader that
// finds pack_manifest.json finds every file it lists, and a prefix
// without a manifest is not a pack.
package blob

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/logging"
	gcblob "gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	"gocloud.dev/blob/s3blob"
	"gocloud.dev/gcerrors"
	"gocloud.dev/gcp"

	"github.com/assay-dev/assay/core/blob/azure"
	"github.com/assay-dev/assay/core/blob/gcs"
	"github.com/assay-dev/assay/core/exit"
)

// Schemes are the URL schemes IsURL accepts.
var Schemes = []string{"s3", "gs", "azblob", "file"}

// IsURL reports whether s names object storage (one of Schemes) rather
// than a local path. Plain paths, relative or absolute, are never URLs.
func IsURL(s string) bool {
	i := strings.Index(s, "://")
	if i <= 0 {
		return false
	}
	scheme := strings.ToLower(s[:i])
	for _, k := range Schemes {
		if scheme == k {
			return true
		}
	}
	return false
}

// Options configure how a location is opened.
type Options struct {
	// Getenv reads credentials and endpoints (AWS_ACCESS_KEY_ID,
	// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION,
	// AWS_ENDPOINT_URL_S3, ...); nil is os.Getenv. The AWS SDK's shared
	// config and the GCS and Azure drivers read the process environment.
	Getenv func(string) string
	// Create makes a file:// directory that does not exist yet (writers).
	Create bool
}

func (o Options) getenv(k string) string {
	if o.Getenv == nil {
		return os.Getenv(k)
	}
	return o.Getenv(k)
}

// Location is an opened bucket narrowed to one prefix.
type Location struct {
	// URL is the location as shown to users: scheme, bucket and prefix,
	// without query parameters or user info.
	URL    string
	Scheme string
	Bucket *gcblob.Bucket // keys are relative to the prefix
	env    func(string) string
}

// Close releases the bucket.
func (l *Location) Close() error { return l.Bucket.Close() }

// Join names rel under the location (for messages).
func (l *Location) Join(rel string) string {
	return strings.TrimSuffix(l.URL, "/") + "/" + strings.TrimPrefix(rel, "/")
}

// Parsed is a storage URL taken apart.
type Parsed struct {
	Scheme string
	Bucket string // bucket or container; for file://, the directory
	Prefix string // "" or ending in "/"; for file://, always ""
	Query  url.Values
}

// Display is the URL as shown to users (no query, no user info).
func (p Parsed) Display() string {
	if p.Scheme == "file" {
		return "file://" + filepath.ToSlash(p.Bucket) + "/"
	}
	return p.Scheme + "://" + p.Bucket + "/" + p.Prefix
}

// Parse takes a storage URL apart. Errors are bad input (exit 3) naming
// the problem; they never echo the query string.
func Parse(raw string) (Parsed, error) {
	u, err := url.Parse(raw)
	if err != nil || !IsURL(raw) {
		return Parsed{}, exit.Bad("use s3://BUCKET/PREFIX/, gs://BUCKET/PREFIX/, azblob://CONTAINER/PREFIX/ or file:///ABS/DIR/", "not a storage URL: %s", Scrub(raw, nil))
	}
	p := Parsed{Scheme: strings.ToLower(u.Scheme), Query: u.Query()}
	if u.User != nil {
		return Parsed{}, exit.Bad("take credentials from the environment (see docs/object-storage.md), never from the URL", "a storage URL must not carry credentials: %s", Scrub(raw, nil))
	}
	if p.Scheme == "file" {
		if u.Host != "" && u.Host != "localhost" {
			return Parsed{}, exit.Bad("use file:///ABS/DIR/ (three slashes, an absolute path)", "file URL with a host: %s", Scrub(raw, nil))
		}
		if len(p.Query) > 0 {
			return Parsed{}, exit.Bad("drop the query string", "file URLs take no parameters: %s", Scrub(raw, nil))
		}
		dir := filepath.Clean(filepath.FromSlash(u.Path))
		if u.Path == "" || !filepath.IsAbs(dir) {
			return Parsed{}, exit.Bad("use file:///ABS/DIR/ (three slashes, an absolute path)", "file URL without an absolute path: %s", Scrub(raw, nil))
		}
		p.Bucket = dir
		return p, nil
	}
	if u.Host == "" {
		return Parsed{}, exit.Bad("name the bucket: "+p.Scheme+"://BUCKET/PREFIX/", "storage URL without a bucket: %s", Scrub(raw, nil))
	}
	p.Bucket = u.Host
	prefix := strings.TrimPrefix(u.Path, "/")
	if strings.ContainsAny(prefix, "?#\\") || strings.IndexFunc(prefix, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		return Parsed{}, exit.Bad("use a plain prefix such as packs/run-1/", "storage prefix %q has ?, #, \\ or control characters", prefix)
	}
	if prefix != "" {
		clean := path.Clean(prefix)
		if clean != strings.TrimSuffix(prefix, "/") || clean == "." || strings.HasPrefix(clean, "../") || clean == ".." {
			return Parsed{}, exit.Bad("use a plain prefix such as packs/run-1/", "storage prefix %q has empty, . or .. segments", prefix)
		}
		prefix = clean + "/"
	}
	p.Prefix = prefix
	return p, nil
}

// s3Params are the query parameters an s3:// URL may carry.
var s3Params = map[string]bool{"endpoint": true, "region": true, "use_path_style": true, "s3ForcePathStyle": true, "disable_https": true, "profile": true}

// Open opens the location a storage URL names.
func Open(ctx context.Context, raw string, opt Options) (*Location, error) {
	p, err := Parse(raw)
	if err != nil {
		return nil, err
	}
	return OpenParsed(ctx, p, opt)
}

// OpenParsed opens a parsed location.
func OpenParsed(ctx context.Context, p Parsed, opt Options) (*Location, error) {
	var b *gcblob.Bucket
	var err error
	switch p.Scheme {
	case "file":
		if !opt.Create {
			if st, serr := os.Stat(p.Bucket); serr != nil || !st.IsDir() {
				return nil, exit.Bad("check the URL", "no such directory: %s", p.Display())
			}
		}
		// Temp files next to the target (renamed into place), so a
		// directory on another mount than $TMPDIR works; no .attrs
		// sidecars, which would be stray entries in a pack.
		b, err = fileblob.OpenBucket(p.Bucket, &fileblob.Options{CreateDir: opt.Create, NoTempDir: true, Metadata: fileblob.MetadataDontWrite})
	case "s3":
		b, err = openS3(ctx, p, opt)
	case "gs":
		b, err = openGCS(ctx, p, opt)
	case "azblob":
		b, err = openAzure(ctx, p, opt)
	default:
		u := url.URL{Scheme: p.Scheme, Host: p.Bucket, RawQuery: p.Query.Encode()}
		b, err = gcblob.OpenBucket(ctx, u.String())
	}
	if err != nil {
		return nil, Err(err, opt.getenv, "open "+p.Display())
	}
	if p.Prefix != "" {
		b = gcblob.PrefixedBucket(b, p.Prefix)
	}
	return &Location{URL: p.Display(), Scheme: p.Scheme, Bucket: b, env: opt.getenv}, nil
}

// openS3 builds the S3 client from the URL's parameters and the
// environment. Static keys in the environment win; otherwise the SDK's
// default chain (shared profile, SSO, web identity, instance role).
func openS3(ctx context.Context, p Parsed, opt Options) (*gcblob.Bucket, error) {
	for k := range p.Query {
		if !s3Params[k] {
			return nil, exit.Bad("s3 URLs take endpoint, region, use_path_style, disable_https and profile", "unknown s3 URL parameter %q", k)
		}
	}
	q := p.Query
	// The SDK logs to stderr on its own (IMDS fallbacks, retries); our
	// errors say what failed, scrubbed, so it stays quiet.
	lo := []func(*config.LoadOptions) error{config.WithLogger(logging.Nop{}), config.WithClientLogMode(0)}
	region := firstOf(q.Get("region"), opt.getenv("AWS_REGION"), opt.getenv("AWS_DEFAULT_REGION"))
	if region != "" {
		lo = append(lo, config.WithRegion(region))
	}
	if prof := q.Get("profile"); prof != "" {
		lo = append(lo, config.WithSharedConfigProfile(prof))
	}
	if id := opt.getenv("AWS_ACCESS_KEY_ID"); id != "" {
		lo = append(lo, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(id, opt.getenv("AWS_SECRET_ACCESS_KEY"), opt.getenv("AWS_SESSION_TOKEN"))))
	}
	endpoint := firstOf(q.Get("endpoint"), opt.getenv("AWS_ENDPOINT_URL_S3"), opt.getenv("AWS_ENDPOINT_URL"))
	if endpoint != "" {
		// S3-compatible stores often reject the SDK's default trailing
		// checksums; ask for them only where an operation requires one.
		lo = append(lo, config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
			config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired))
	}
	cfg, err := config.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return nil, err
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	pathStyle, err := boolParam(q, "use_path_style", "s3ForcePathStyle")
	if err != nil {
		return nil, err
	}
	noHTTPS, err := boolParam(q, "disable_https")
	if err != nil {
		return nil, err
	}
	if endpoint != "" {
		u, err := url.Parse(endpoint)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, exit.Bad("give the endpoint as http(s)://HOST[:PORT]", "bad S3 endpoint %s", Scrub(endpoint, opt.getenv))
		}
		if u.User != nil {
			return nil, exit.Bad("take credentials from the environment, never from the URL", "the S3 endpoint must not carry credentials: %s", Scrub(endpoint, opt.getenv))
		}
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		o.UsePathStyle = pathStyle
		if noHTTPS {
			o.EndpointOptions.DisableHTTPS = true
		}
	})
	return s3blob.OpenBucket(ctx, client, p.Bucket, nil)
}

// openGCS opens a Cloud Storage bucket over the JSON API with Application
// Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud's
// application-default login, workload identity). STORAGE_EMULATOR_HOST
// (HOST:PORT, read through opt.Getenv) points at an emulator such as
// fake-gcs-server, without credentials, as Google's client libraries do.
// Opened here rather than through gocloud's URL opener, which prints a
// warning to stdout when no credentials are found and carries on
// anonymously: a missing credential is one clear error instead.
func openGCS(ctx context.Context, p Parsed, opt Options) (*gcblob.Bucket, error) {
	if len(p.Query) > 0 {
		return nil, exit.Bad("drop the query string; credentials come from the environment", "gs URLs take no parameters: %s", p.Display())
	}
	if host := opt.getenv("STORAGE_EMULATOR_HOST"); host != "" {
		host = strings.TrimSuffix(strings.TrimPrefix(host, "http://"), "/")
		if strings.ContainsAny(host, "/@?#") {
			return nil, exit.Bad("set STORAGE_EMULATOR_HOST to HOST:PORT", "bad STORAGE_EMULATOR_HOST %q", Scrub(host, opt.getenv))
		}
		return gcs.OpenBucket(p.Bucket, gcs.Options{Endpoint: "http://" + host})
	}
	creds, err := gcp.DefaultCredentials(ctx)
	if err != nil {
		return nil, exit.Bad("set GOOGLE_APPLICATION_CREDENTIALS to a service account key file, or run 'gcloud auth application-default login'", "no Google Cloud credentials to open %s", p.Display())
	}
	client, err := gcp.NewHTTPClient(gcp.DefaultTransport(), gcp.CredentialsTokenSource(creds))
	if err != nil {
		return nil, err
	}
	return gcs.OpenBucket(p.Bucket, gcs.Options{Client: &client.Client})
}

// azParams are the query parameters an azblob:// URL may carry (gocloud's).
var azParams = map[string]bool{"domain": true, "protocol": true, "cdn": true, "localemu": true}

// openAzure opens an Azure Blob Storage container with assay's REST driver
// (core/blob/azure), reading the variables gocloud's azureblob documents
// (AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY, AZURE_STORAGE_SAS_TOKEN or
// AZURE_STORAGE_CONNECTION_STRING, else the default Azure credential
// chain; AZURE_STORAGE_DOMAIN, AZURE_STORAGE_PROTOCOL,
// AZURE_STORAGE_IS_CDN, AZURE_STORAGE_IS_LOCAL_EMULATOR for Azurite)
// through opt.Getenv, so a caller can pass them explicitly.
func openAzure(ctx context.Context, p Parsed, opt Options) (*gcblob.Bucket, error) {
	for k := range p.Query {
		if !azParams[k] {
			return nil, exit.Bad("azblob URLs take domain, protocol, cdn and localemu", "unknown azblob URL parameter %q", k)
		}
	}
	q := p.Query
	ep := azure.Endpoint{
		Account:  opt.getenv("AZURE_STORAGE_ACCOUNT"),
		Domain:   firstOf(q.Get("domain"), opt.getenv("AZURE_STORAGE_DOMAIN")),
		Protocol: firstOf(q.Get("protocol"), opt.getenv("AZURE_STORAGE_PROTOCOL")),
	}
	sas := opt.getenv("AZURE_STORAGE_SAS_TOKEN")
	conn := firstOf(opt.getenv("AZURE_STORAGE_CONNECTION_STRING"), opt.getenv("AZURE_STORAGEBLOB_CONNECTIONSTRING"))
	var err error
	for _, b := range []struct {
		dst   *bool
		param string
		env   string
	}{{&ep.CDN, "cdn", "AZURE_STORAGE_IS_CDN"}, {&ep.LocalEmulator, "localemu", "AZURE_STORAGE_IS_LOCAL_EMULATOR"}} {
		if v := firstOf(q.Get(b.param), opt.getenv(b.env)); v != "" {
			if *b.dst, err = strconv.ParseBool(v); err != nil {
				return nil, exit.Bad("use true or false", "bad value for %s: %q", b.param, v)
			}
		}
	}
	if ep.Account == "" && conn == "" {
		return nil, exit.Bad("set AZURE_STORAGE_ACCOUNT (and AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN, or sign in for the default Azure credential)", "no Azure storage account to open %s", p.Display())
	}
	service := func() (string, error) {
		u, err := ep.ServiceURL()
		if err != nil {
			return "", exit.Bad("check AZURE_STORAGE_ACCOUNT, AZURE_STORAGE_DOMAIN and AZURE_STORAGE_PROTOCOL", "bad Azure storage settings: %s", Scrub(err.Error(), opt.getenv))
		}
		return u, nil
	}
	var o azure.Options
	switch key := opt.getenv("AZURE_STORAGE_KEY"); {
	case ep.Account != "" && key != "":
		if o.ServiceURL, err = service(); err != nil {
			return nil, err
		}
		if o.Key, err = base64.StdEncoding.DecodeString(key); err != nil {
			return nil, exit.Bad("check AZURE_STORAGE_KEY (base64)", "bad Azure storage key: not base64")
		}
		o.Account = ep.Account
	case ep.Account != "" && sas != "":
		if o.ServiceURL, err = service(); err != nil {
			return nil, err
		}
		o.SAS = sas
	case conn != "":
		cs, err := azure.ParseConnectionString(conn)
		if err != nil {
			return nil, exit.Bad("check AZURE_STORAGE_CONNECTION_STRING", "bad Azure storage connection string: %s", err)
		}
		o = azure.Options{ServiceURL: cs.ServiceURL, Account: cs.Account, Key: cs.Key, SAS: cs.SAS}
	default:
		if o.ServiceURL, err = service(); err != nil {
			return nil, err
		}
		cred, err := azidentity.NewDefaultAzureCredential(nil)
		if err != nil {
			return nil, exit.Bad("set AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN, or sign in (az login, a managed identity, AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET)", "no Azure credential to open %s", p.Display())
		}
		o.Token = func(ctx context.Context) (string, error) {
			tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{azure.TokenScope}})
			return tok.Token, err
		}
	}
	return azure.OpenBucket(p.Bucket, o)
}

func boolParam(q url.Values, keys ...string) (bool, error) {
	for _, k := range keys {
		if v := q.Get(k); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return false, exit.Bad("use true or false", "bad value for %s: %q", k, v)
			}
			return b, nil
		}
	}
	return false, nil
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// Err turns a storage error into one scrubbed line with exit 3 (the
// storage could not be read or written, like an unreadable path): the
// SDK's error is not kept in the chain, so nothing prints its raw text.
func Err(err error, getenv func(string) string, what string) error {
	if err == nil {
		return nil
	}
	var ee *exit.Error
	if errors.As(err, &ee) {
		return err // already ours, already worded
	}
	fix := "check the URL, the network and the credentials in the environment"
	switch gcerrors.Code(err) {
	case gcerrors.NotFound:
		fix = "check the bucket and prefix"
	case gcerrors.PermissionDenied:
		fix = "check the credentials in the environment and the bucket's permissions"
	case gcerrors.Canceled:
		fix = "the operation was interrupted"
	}
	return &exit.Error{Code: exit.BadInput, Msg: fmt.Sprintf("%s: %s", what, Scrub(err.Error(), getenv)), Fix: fix}
}

// err is Err with the location's environment.
func (l *Location) err(err error, what string) error { return Err(err, l.env, what) }

// ParseObject takes apart a URL naming one object (an audit bundle,
// s3://BUCKET/PREFIX/NAME.tar.gz): the location of its directory and its
// key there.
func ParseObject(raw string) (Parsed, string, error) {
	p, err := Parse(raw)
	if err != nil {
		return Parsed{}, "", err
	}
	if p.Scheme == "file" {
		key := filepath.Base(p.Bucket)
		p.Bucket = filepath.Dir(p.Bucket)
		return p, key, nil
	}
	if p.Prefix == "" || strings.HasSuffix(raw, "/") {
		return Parsed{}, "", exit.Bad("name the object, e.g. "+p.Scheme+"://"+p.Bucket+"/bundles/run.tar.gz", "storage URL names no object: %s", p.Display())
	}
	key := strings.TrimSuffix(p.Prefix, "/")
	p.Prefix = ""
	if i := strings.LastIndex(key, "/"); i >= 0 {
		p.Prefix, key = key[:i+1], key[i+1:]
	}
	return p, key, nil
}
