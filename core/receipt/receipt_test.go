package receipt

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/canon"
)

func TestProjectionVectors(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../testdata/vectors/receipt_projection_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Vectors []struct {
			ID       string          `json:"id"`
			Input    json.RawMessage `json:"input"`
			Expected string          `json:"expected_canonical_utf8"`
			SHA      string          `json:"expected_sha256"`
		} `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range f.Vectors {
		if len(v.ID) < 5 || v.ID[:5] != "RC-G0" { // RC-V2-* are the v2 sidecar projection, which we do not write
			continue
		}
		n++
		d, err := canon.Decode(v.Input)
		if err != nil {
			t.Fatal(err)
		}
		line, err := Line(d.(*Receipt))
		if err != nil {
			t.Fatal(err)
		}
		if string(line) != v.Expected {
			t.Errorf("%s: got %s want %s", v.ID, line, v.Expected)
		}
		dg, _ := Digest(d.(*Receipt))
		if dg != v.SHA {
			t.Errorf("%s: digest %s want %s", v.ID, dg, v.SHA)
		}
	}
	if n != 3 {
		t.Fatalf("ran %d v0 vectors, want 3", n)
	}
}

func TestTypeAllowed(t *testing.T) {
	t.Parallel()
	for typ, want := range map[string]bool{
		"model_call": true, "mcp_tool_call": true, "acme.tool_call": true, "a.b.c/d": true,
		"policy_impact": false, "breakglass": false, "loom.x": false, "Acme.Tool": false, "a.": false, "": false,
	} {
		if TypeAllowed(typ) != want {
			t.Errorf("TypeAllowed(%q) = %v", typ, !want)
		}
	}
}

func TestParseTimestamp(t *testing.T) {
	t.Parallel()
	good := map[string]string{
		"2026-01-15T11:59:00.123456+00:00":  "2026-01-15T11:59:00.123456Z",
		"2026-01-15T11:59:00Z":              "2026-01-15T11:59:00Z",
		"2026-01-15":                        "2026-01-15T00:00:00Z",
		"20260115T115900":                   "2026-01-15T11:59:00Z",
		"2026-01-15 11:59":                  "2026-01-15T11:59:00Z",
		"2026-01-15T11:59:00.1234567-02:00": "2026-01-15T13:59:00.123456Z",
		"2026-W03-4":                        "2026-01-15T00:00:00Z",
	}
	for in, want := range good {
		got, ok := ParseTimestamp(in)
		if !ok {
			t.Errorf("%q rejected", in)
			continue
		}
		if g := got.UTC().Format("2006-01-02T15:04:05.999999Z07:00"); g != want {
			t.Errorf("%q: got %s want %s", in, g, want)
		}
	}
	for _, in := range []string{"", "yesterday", "2026-13-01", "2026-02-30T00:00:00", "2026-01-15T25:00:00", "2026-01-15T11:59:00+0", "2026/01/15"} {
		if _, ok := ParseTimestamp(in); ok {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestTimestampFormat(t *testing.T) {
	t.Parallel()
	ts := time.Date(2026, 1, 15, 11, 59, 0, 123456789, time.UTC)
	if got := Timestamp(ts); got != "2026-01-15T11:59:00.123456+00:00" {
		t.Fatal(got)
	}
	if got := Timestamp(ts.Truncate(time.Second)); got != "2026-01-15T11:59:00+00:00" {
		t.Fatal(got)
	}
}

func TestProjectionV2Vectors(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../testdata/vectors/receipt_projection_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		V2 struct {
			Vectors []struct {
				ID        string          `json:"id"`
				Input     json.RawMessage `json:"input"`
				Canonical string          `json:"expected_canonical_utf8"`
				SHA       string          `json:"expected_sha256"`
				Digest    string          `json:"expected_bundle_digest"`
			} `json:"vectors"`
		} `json:"v2_vectors"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.V2.Vectors) != 3 {
		t.Fatalf("want 3 v2 vectors, got %d", len(f.V2.Vectors))
	}
	for _, v := range f.V2.Vectors {
		d, err := canon.Decode(v.Input)
		if err != nil {
			t.Fatal(err)
		}
		if v.Canonical != "" {
			b, _ := canon.Marshal(ProjectV2(d.(*Receipt)))
			if string(b) != v.Canonical {
				t.Errorf("%s: got %s", v.ID, b)
			}
		}
		dg, err := BundleDigestV2(d.(*Receipt))
		if err != nil || dg != v.Digest || dg != "sha256:"+v.SHA {
			t.Errorf("%s: digest %s want %s", v.ID, dg, v.Digest)
		}
	}
}

func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{"2026-01-15T11:59:00.123456+00:00", "0001-W0", "2026-W03-4", "20260115T1159", "2026-01-15 11:59:00,5-02:30", "2026W034"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ParseTimestamp(s) // must not panic
	})
}

func TestCheckData(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`{"verdict":"allow","n":[1,{"x":"y"}]}`:    "",
		`{"_store_seq":1}`:                         "set by the store",
		`{"type":"x"}`:                             "cannot be overridden",
		`{"a":{"b":["ok","sk-abcdefghijklmnop"]}}`: `"a.b[1]" looks like an API key`,
		`{"auth":"Bearer abcdefghijk"}`:            `"auth" looks like an API key`,
		`{"a":{"clé":1}}`:                          "not ASCII",
		`{"big":1e400}`:                            `"big" cannot go into a receipt`,
	} {
		v, err := canon.Decode([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		err = CheckData(v.(*canon.Object))
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", in, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: got %v, want %q", in, err, want)
		}
	}
}
