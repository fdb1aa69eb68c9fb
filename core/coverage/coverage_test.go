package coverage

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/pyjson"

	"github.com/assay-dev/assay/core/exit"
)

const refContract = "../../testdata/vectors/reference-1.24/scan_sample/contract.json"

func TestCallsiteIDVectors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		path string
		line int
		want string
	}{
		{"src/app.py", 42, "7f5ec39097d2"},
		{"app.py", 10, "21819620cacd"},
		{"a.py", 10, "07904d0dd6f6"},
		{"b.py", 20, "558178285357"},
		{"app.py", 3, "bab787e3d70d"},
	} {
		if got := CallsiteID(tc.path, tc.line); got != tc.want {
			t.Errorf("CallsiteID(%q, %d) = %s, want %s", tc.path, tc.line, got, tc.want)
		}
	}
}

func TestHashVectors(t *testing.T) {
	t.Parallel()
	one := []Site{{CallsiteID: "bab787e3d70d", Path: "app.py", Line: 3, Call: "client.chat.completions.create", Confidence: "high", Framework: "openai"}}
	if got, want := Hash(one), "dd4789c31480d54a89e9140a0de89f927bd79f838ae70e4d37138e2a674f9819"; got != want {
		t.Errorf("one-site hash = %s, want %s", got, want)
	}
	if got, want := Hash(nil), "4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"; got != want {
		t.Errorf("empty hash = %s, want %s", got, want)
	}
}

// The reference's contract loads, and writing it back with the same header
// fields reproduces its bytes exactly.
func TestReferenceContractRoundTrip(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(refContract)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(data)
	if err != nil {
		t.Fatalf("parse reference contract: %v", err)
	}
	if len(c.CallSites) != 9 || c.Summary.High != 9 {
		t.Fatalf("sites=%d summary=%+v", len(c.CallSites), c.Summary)
	}
	for _, s := range c.CallSites {
		if s.CallsiteID != CallsiteID(s.Path, s.Line) {
			t.Errorf("%s:%d id %s != computed %s", s.Path, s.Line, s.CallsiteID, CallsiteID(s.Path, s.Line))
		}
	}
	at, _ := time.Parse(time.RFC3339Nano, c.GeneratedAt)
	again := New(c.ProjectRoot, c.CallSites, at)
	if again.GeneratedAt != c.GeneratedAt {
		t.Fatalf("timestamp %s != %s", again.GeneratedAt, c.GeneratedAt)
	}
	out, err := again.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, data) {
		t.Errorf("re-marshalled contract differs from the reference's bytes:\n%s", out)
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good, _ := os.ReadFile(refContract)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	noHash := bytes.Replace(good, []byte(`"contract_hash": "3b32a5a22763c5fca18cada5f4f2609edec9a5190bee486fa89526dc2b1a6b8c"`), []byte(`"contract_hash": ""`), 1)
	for _, tc := range []struct {
		name string
		path string
		code int
		msg  string
	}{
		{"missing", filepath.Join(dir, "nope.json"), exit.BadInput, "not found"},
		{"not json", write("bad.json", []byte("{not json")), exit.BadInput, "invalid coverage contract"},
		{"not object", write("arr.json", []byte("[]")), exit.BadInput, "not a JSON object"},
		{"missing key", write("key.json", []byte(`{"call_sites":[{"callsite_id":"x","path":"a.py","line":1,"call":"c","confidence":"high"}]}`)), exit.BadInput, `no "instrumented"`},
		{"wrong type", write("type.json", []byte(`{"call_sites":[{"callsite_id":"x","path":"a.py","line":"1","call":"c","confidence":"high","instrumented":false}]}`)), exit.BadInput, "line has the wrong type"},
		{"tampered id", write("tamper.json", bytes.Replace(good, []byte("98f18f532427"), []byte("98f18f532428"), 1)), exit.Tampered, "tampered: stored hash 3b32a5a22763c5fc..."},
		{"tampered line", write("tamper2.json", bytes.Replace(good, []byte(`"line": 7,`), []byte(`"line": 8,`), 1)), exit.Tampered, "tampered"},
		{"no hash accepted", write("nohash.json", noHash), exit.OK, ""},
		{"reference", refContract, exit.OK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.path)
			if got := exit.Code(err); got != tc.code {
				t.Fatalf("exit code %d, want %d (err %v)", got, tc.code, err)
			}
			if tc.msg != "" && !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not mention %q", err, tc.msg)
			}
		})
	}
}

func TestMeasure(t *testing.T) {
	t.Parallel()
	mk := func(ids ...string) *Contract {
		var s []Site
		for _, id := range ids {
			s = append(s, Site{CallsiteID: id, Path: "a.py", Line: 1, Call: "x", Confidence: "high"})
		}
		return New("/r", s, time.Now())
	}
	for _, tc := range []struct {
		name      string
		contract  *Contract
		seen      []string
		covered   []string
		uncovered []string
		extra     []string
		frac      float64
		actual    string
	}{
		{"full", mk("a", "b"), []string{"b", "a", "a"}, []string{"a", "b"}, []string{}, []string{}, 1, "100% (2/2)"},
		{"partial", mk("a", "b", "c"), []string{"c", "a"}, []string{"a", "c"}, []string{"b"}, []string{}, 2.0 / 3, "67% (2/3)"},
		{"zero", mk("a", "b"), nil, []string{}, []string{"a", "b"}, []string{}, 0, "0% (0/2)"},
		{"empty contract", mk(), []string{"z"}, []string{}, []string{}, []string{"z"}, 1, "100% (0/0)"},
		{"extra and empty ids", mk("a", "b"), []string{"a", "", "q"}, []string{"a"}, []string{"b"}, []string{"q"}, 0.5, "50% (1/2)"},
		{"duplicate contract ids", mk("a", "a", "b"), []string{"a"}, []string{"a"}, []string{"b"}, []string{}, 0.5, "50% (1/2)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Measure(tc.contract, tc.seen)
			if !reflect.DeepEqual(r.CoveredIDs, tc.covered) || !reflect.DeepEqual(r.UncoveredIDs, tc.uncovered) || !reflect.DeepEqual(r.ExtraIDs, tc.extra) {
				t.Errorf("got covered %v uncovered %v extra %v", r.CoveredIDs, r.UncoveredIDs, r.ExtraIDs)
			}
			if r.Fraction != tc.frac || r.CoveragePct != tc.frac {
				t.Errorf("fraction %v, want %v", r.Fraction, tc.frac)
			}
			if r.Actual() != tc.actual {
				t.Errorf("actual %q, want %q", r.Actual(), tc.actual)
			}
			if r.CoveredCount != len(tc.covered) || r.TotalCount != len(tc.covered)+len(tc.uncovered) {
				t.Errorf("counts %d/%d", r.CoveredCount, r.TotalCount)
			}
		})
	}
	if Expected(0.8) != ">= 80% call site coverage" || Percent(0.125) != "12%" || Percent(0.5) != "50%" {
		t.Errorf("texts: %q %q", Expected(0.8), Percent(0.125))
	}
	if !Measure(mk("a", "b"), []string{"a"}).Passes(0.5) || Measure(mk("a", "b"), []string{"a"}).Passes(0.8) {
		t.Error("Passes threshold wrong")
	}
}

func TestPyIndentEscapesNonASCII(t *testing.T) {
	t.Parallel()
	b, err := pyjson.Indent(map[string]any{"p": "é<😀>"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "{\n  \"p\": \"\\u00e9<\\ud83d\\ude00>\"\n}"; string(b) != want {
		t.Errorf("got %s want %s", b, want)
	}
}
