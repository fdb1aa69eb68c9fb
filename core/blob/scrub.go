package blob

import (
	"net/url"
	"os"
	"strings"

	"github.com/assay-dev/assay/internal/lazyre"
)

// SDK errors quote request URLs, and a signed URL carries its credential
// and signature in the query string (X-Amz-Credential, X-Amz-Signature,
// X-Amz-Security-Token; Azure SAS sig=, GCS X-Goog-Signature); an
// endpoint may carry user:password@. Scrub removes all of it, and any
// literal credential value from the environment, before a message is
// shown or logged.

var (
	urlRe = lazyre.New(`[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>]+`)
	// Signature-style pairs outside a URL (an Authorization header quoted
	// in an error, a query string printed without its URL).
	pairRe = lazyre.New(`(?i)(x-amz-[a-z-]+|x-goog-[a-z-]+|signature|credential|security-token|sig|token|password|secret|access_?key(?:_?id)?|account_?key|sharedaccesssignature)(\s*[=:]\s*)([^\s,&;"'<>]+)`)
)

// secretEnv names the environment variables whose values are secrets.
var secretEnv = []string{
	"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID",
	"AZURE_STORAGE_KEY", "AZURE_STORAGE_SAS_TOKEN", "AZURE_STORAGE_CONNECTION_STRING", "AZURE_CLIENT_SECRET",
	"GOOGLE_OAUTH_ACCESS_TOKEN",
}

const redacted = "REDACTED"

// Scrub returns s without URL user info, query-string values, signature
// and credential pairs, or the value of any secret environment variable
// (read with getenv; nil is os.Getenv).
func Scrub(s string, getenv func(string) string) string {
	if getenv == nil {
		getenv = os.Getenv
	}
	for _, k := range secretEnv {
		if v := getenv(k); len(v) >= 4 {
			s = strings.ReplaceAll(s, v, redacted)
		}
	}
	s = urlRe().ReplaceAllStringFunc(s, scrubURL)
	return pairRe().ReplaceAllString(s, "${1}${2}"+redacted)
}

// scrubURL keeps a URL's scheme, host and path and replaces its user
// info and every query value.
func scrubURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		// Not parseable: keep only what precedes any user info or query.
		if i := strings.IndexAny(raw, "?@"); i >= 0 {
			return raw[:i] + "?" + redacted
		}
		return raw
	}
	if u.User != nil {
		u.User = url.User(redacted)
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			q[k] = []string{redacted}
		}
		u.RawQuery = q.Encode()
	}
	u.Fragment = ""
	return u.String()
}
