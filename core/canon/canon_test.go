package canon

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"testing"
)

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func TestJCSVectors(t *testing.T) {
	t.Parallel()
	var f struct {
		Vectors []struct {
			ID       string          `json:"id"`
			Input    json.RawMessage `json:"input"`
			Expected string          `json:"expected_canonical_utf8"`
			SHA      string          `json:"expected_sha256"`
		} `json:"vectors"`
	}
	readJSON(t, "../../testdata/vectors/jcs_vectors.json", &f)
	if len(f.Vectors) != 16 {
		t.Fatalf("want 16 vectors, got %d", len(f.Vectors))
	}
	for _, v := range f.Vectors {
		t.Run(v.ID, func(t *testing.T) {
			var in any = json.RawMessage(v.Input)
			if v.ID == "JCS-G09" {
				in = map[string]any{"a": math.Copysign(0, -1)}
			}
			got, err := Marshal(in)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != v.Expected {
				t.Fatalf("got %s want %s", got, v.Expected)
			}
			if sha(got) != v.SHA {
				t.Fatalf("sha %s want %s", sha(got), v.SHA)
			}
		})
	}
}

func TestRandomVectors(t *testing.T) {
	t.Parallel()
	var f struct {
		Vectors []struct {
			Input     string `json:"input"`
			Canonical string `json:"canonical"`
			SHA       string `json:"sha256"`
		} `json:"vectors"`
	}
	readJSON(t, "../../testdata/vectors/canon_random.json", &f)
	if len(f.Vectors) < 400 {
		t.Fatalf("want 400 vectors, got %d", len(f.Vectors))
	}
	for i, v := range f.Vectors {
		got, err := Options{}.Canonicalize([]byte(v.Input))
		if err != nil {
			t.Fatalf("#%d %s: %v", i, v.Input, err)
		}
		if string(got) != v.Canonical || sha(got) != v.SHA {
			t.Fatalf("#%d %s:\n got %s\nwant %s", i, v.Input, got, v.Canonical)
		}
	}
}

func TestProfile(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{`1180591620717411303424`, `1180591620717411303424`},
		{`-0`, `0`},
		{`-0.0`, `0`},
		{`1.0`, `1`},
		{`1e20`, `100000000000000000000`},
		{`1e21`, `1E21`},
		{`1e-6`, `0.000001`},
		{`1e-7`, `1E-7`},
		{`-12.5e-10`, `-1.25E-9`},
		{`1.5e300`, `1.5E300`},
		{`5e-324`, `5E-324`},
		{`1e-400`, `0`},
		{`0.8`, `0.8`},
		{`123.456`, `123.456`},
		{`"a\u2028b\u0001\u007f"`, "\"a\u2028b\\u0001\u007f\""},
		{`"\ud83d\ude00"`, "\"\U0001F600\""},
		{`{"b":1,"a":2,"a":3}`, `{"a":3,"b":1}`},
		{`{"\ue000":1,"\ud83d\ude00":2}`, "{\"\U0001F600\":2,\"\ue000\":1}"},
		{` [ 1 , {"x" : null} ] `, `[1,{"x":null}]`},
	}
	for _, c := range cases {
		got, err := Options{}.Canonicalize([]byte(c.in))
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if string(got) != c.want {
			t.Errorf("%s: got %s want %s", c.in, got, c.want)
		}
	}
}

func TestRejects(t *testing.T) {
	t.Parallel()
	for _, in := range []string{`NaN`, `Infinity`, `-Infinity`, `1e400`, `"\ud800"`, `"\udc00x"`, `"\ud800\u0041"`, `{"a":1,}`, `[1 2]`, `01`, `"a`, "\"\x01\"", `{"a" 1}`, "\"\xff\"", `tru`, `1.`, `-`} {
		if got, err := (Options{}).Canonicalize([]byte(in)); err == nil {
			t.Errorf("%q: want error, got %s", in, got)
		}
	}
	if _, err := (Options{ASCIIKeys: true}).Canonicalize([]byte(`{"a":{"sіgnatures":1}}`)); err == nil {
		t.Error("non-ASCII nested key accepted under ASCIIKeys")
	}
}

func TestEscapeLineSeparators(t *testing.T) {
	t.Parallel()
	got, err := Options{EscapeLineSeparators: true}.Marshal("a\u2028b\u2029c\u0085d")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != `"a\u2028b\u2029c\u0085d"` {
		t.Fatalf("got %s", got)
	}
	back, err := Decode(got)
	if err != nil || back != "a\u2028b\u2029c\u0085d" {
		t.Fatalf("round trip: %v %v", back, err)
	}
}

func FuzzCanonicalize(f *testing.F) {
	for _, s := range []string{`{}`, `{"b":1,"a":[1.5,"x\n",null,true]}`, `1e21`, `"\ud83d\ude00"`, `-0.0`, `123456789012345678901234567890`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := Options{}.Canonicalize(data)
		if err != nil {
			return
		}
		// Canonical output is a fixed point and valid JSON.
		again, err := Options{}.Canonicalize(out)
		if err != nil {
			t.Fatalf("canonical output does not re-parse: %q: %v", out, err)
		}
		if string(again) != string(out) {
			t.Fatalf("not idempotent: %q -> %q", out, again)
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON out: %q", out)
		}
	})
}
