package blob_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/blob"
)

// FuzzParse: any string either parses to a location whose display form
// carries no user info or query, or is refused; never a panic.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"s3://b/p/", "s3://u:p@b/x?endpoint=http://h", "file:///tmp/x", "gs://b/../x", "azblob://c/a//b", "s3://b/p?region=x#frag", "file://h/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := blob.Parse(s)
		if err != nil {
			return
		}
		d := p.Display()
		if p.Scheme != "file" {
			u, err := url.Parse(d)
			if err != nil || u.User != nil || u.RawQuery != "" || u.Host != p.Bucket {
				t.Fatalf("Parse(%q).Display() = %q: %v; carries a query or user info, or changes the bucket", s, d, err)
			}
		}
		if p.Scheme != "file" && (strings.Contains(p.Prefix, "..") && strings.Contains("/"+p.Prefix, "/../")) {
			t.Fatalf("Parse(%q) prefix %q has a .. segment", s, p.Prefix)
		}
	})
}

// FuzzScrub: whatever surrounds them, a secret from the environment and a
// URL's signature never survive Scrub.
func FuzzScrub(f *testing.F) {
	f.Add("denied: ", " at https://h/x?X-Amz-Signature=")
	f.Add("", "")
	f.Add("Put \"http://u:", "@h/p?sig=")
	const secret = "s3cr3t-VALUE-xyz"
	f.Fuzz(func(t *testing.T, a, b string) {
		env := func(k string) string {
			if k == "AWS_SECRET_ACCESS_KEY" {
				return secret
			}
			return ""
		}
		out := blob.Scrub(a+secret+b+secret, env)
		if strings.Contains(out, secret) {
			t.Fatalf("Scrub(%q) = %q keeps the secret", a+secret+b+secret, out)
		}
	})
}
