package tools

import (
	"bytes"
	"encoding/json"
	"testing"
)

// stripSpace must give what json.Compact gives, for every served schema
// and for strings holding spaces, escapes and quotes.
func TestStripSpaceIsCompact(t *testing.T) {
	t.Parallel()
	cases := []string{
		`{}`, ` [ 1 , 2 ] `, "{\n  \"a b\": \"c \\\" d\",\n\t\"e\": [\"\\\\\", \" \"]\r\n}",
		`{"k": "\\\" x \\\\"}`, `"  "`, `{"u": "\u00e9 \n"}`, `["\\\\", "a\\\\\" b", "\\\\\\\\"]`,
	}
	for _, tl := range Tools(true) {
		cases = append(cases, string(tl.InputSchema), string(tl.OutputSchema))
	}
	for _, c := range cases {
		var want bytes.Buffer
		if err := json.Compact(&want, []byte(c)); err != nil {
			t.Fatalf("compact %q: %v", c, err)
		}
		if got := stripSpace(json.RawMessage(c)); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("stripSpace(%q) = %q, want %q", c, got, want.Bytes())
		}
	}
	if stripSpace(nil) != nil {
		t.Error("stripSpace(nil) is not nil")
	}
}
