package azure

import (
	"sort"
	"strings"
	"testing"
)

// FuzzParseList: any List Blobs answer (a hostile or broken service's)
// parses or fails cleanly; a page is in key order.
func FuzzParseList(f *testing.F) {
	f.Add([]byte(`<?xml version="1.0"?><EnumerationResults><Blobs><Blob><Name>a/b</Name><Properties><Last-Modified>Mon, 07 Dec 2026 10:00:00 GMT</Last-Modified><Content-Length>12</Content-Length><Content-MD5>1B2M2Y8AsgTpgAmY7PhCfg==</Content-MD5></Properties></Blob><BlobPrefix><Name>a/c/</Name></BlobPrefix></Blobs><NextMarker>m</NextMarker></EnumerationResults>`))
	f.Add([]byte(`<EnumerationResults><Blobs><Blob><Name Encoded="true">%00x%ZZ</Name></Blob></Blobs></EnumerationResults>`))
	f.Add([]byte(`<a><b>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := parseList(body)
		if err != nil {
			return
		}
		if !sort.SliceIsSorted(p.Objects, func(i, j int) bool { return p.Objects[i].Key < p.Objects[j].Key }) {
			t.Fatal("page not in key order")
		}
	})
}

// FuzzParseConnectionString: any connection string parses or fails, and
// a failure never quotes it (it holds the key).
func FuzzParseConnectionString(f *testing.F) {
	f.Add("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;")
	f.Add("BlobEndpoint=https://x.blob.core.windows.net;SharedAccessSignature=sv=1&sig=S")
	f.Add("AccountName=a;AccountKey=!!!")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseConnectionString(s)
		if err != nil {
			if len(s) > 8 && strings.Contains(err.Error(), s) {
				t.Fatalf("error quotes the connection string: %v", err)
			}
			return
		}
		if c.ServiceURL == "" || (len(c.Key) == 0 && c.SAS == "") {
			t.Fatalf("accepted without an endpoint or a credential: %+v", c)
		}
	})
}
