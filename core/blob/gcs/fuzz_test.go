package gcs

import (
	"encoding/json"
	"net/http"
	"sort"
	"testing"
)

// FuzzListAnswer: any objects-list answer (a hostile or broken service's)
// decodes or fails cleanly; a page is in key order, holds at most size
// entries, and a page cut short says where to go on.
func FuzzListAnswer(f *testing.F) {
	f.Add([]byte(`{"items":[{"name":"a/b","size":"12","md5Hash":"1B2M2Y8AsgTpgAmY7PhCfg==","updated":"2026-12-07T10:00:00Z"}],"prefixes":["a/c/"],"nextPageToken":"t"}`), 1, 0)
	f.Add([]byte(`{"items":[{"name":"x__0x2f__y"}],"prefixes":["a/","b/","c/"]}`), 2, 1)
	f.Add([]byte(`{"items":null}`), 0, 5)
	f.Fuzz(func(t *testing.T, body []byte, size, skip int) {
		var a listAnswer
		if json.Unmarshal(body, &a) != nil || size <= 0 || skip < 0 || size > 1<<20 || skip > 1<<20 {
			return
		}
		p := a.page(size, skip, "tok")
		if len(p.Objects) > size || !sort.SliceIsSorted(p.Objects, func(i, j int) bool { return p.Objects[i].Key < p.Objects[j].Key }) {
			t.Fatalf("page of %d (size %d) or out of order", len(p.Objects), size)
		}
		if len(a.Items)+len(a.Prefixes)-skip > size {
			if tok, n := splitToken(string(p.NextPageToken)); tok != "tok" || n != skip+size {
				t.Fatalf("cut page continues at %q", p.NextPageToken)
			}
		}
	})
}

// FuzzPersisted: any Range header of a 308 reads as a size or is refused.
func FuzzPersisted(f *testing.F) {
	f.Add("bytes=0-262143")
	f.Add("")
	f.Add("bytes=5-9")
	f.Add("bytes=0-9223372036854775807")
	f.Fuzz(func(t *testing.T, r string) {
		n, ok := persisted(&http.Response{Header: http.Header{"Range": {r}}})
		if ok && n < 0 {
			t.Fatalf("negative size %d from %q", n, r)
		}
	})
}
