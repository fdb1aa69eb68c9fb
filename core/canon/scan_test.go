package canon

import (
	"crypto/sha256"
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

// scanSeeds are the nasty cases the scanner must judge exactly as Decode.
var scanSeeds = []string{
	`{"receipt_id":"r_1","type":"model_call","timestamp":"2026-01-15T11:59:00.123456+00:00"}`,
	`{"receipt_id":"r_\u0031","type":"mo\"del","x":"\\\/\b\f\n\r\t"}`,
	`{"a":1,"a":2,"a":{"b":NaN,"b":3}}`,
	`{"a":NaN,"a":1}`, `{"a":1,"a":NaN}`, `[NaN]`, `NaN`, `-Infinity`, `Infinity`, `-NaN`, `{"x":-Infinity}`,
	`{"n":1e400}`, `{"n":-1e400}`, `{"n":1e-400}`, `{"n":1.5e308}`, `{"n":1.8e308}`, `1E+309`, `0.0e0`, `-0`, `01`, `1.`, `.5`, `1e`, `1e+`, `-`,
	"{\"n\":1" + strings.Repeat("0", 400) + ".5}", "{\"n\":1" + strings.Repeat("0", 305) + ".5}",
	`{"s":"\ud83d\ude00"}`, `{"s":"\ud83d"}`, `{"s":"\ude00"}`, `{"s":"\ud83d\u0041"}`, `{"s":"\ud83dx"}`, `{"s":"\ud83d\ud83d"}`, `"\u12"`, `"\u12g4"`, `"\x"`,
	"{\"s\":\"\xff\"}", "{\"s\":\"\xed\xa0\x80\"}", "{\"s\":\"\xc3\xa9\"}", "{\"s\":\"\xc3\"}", "{\"s\":\"a\x01\"}", "{\"s\":\"tab\there\"}",
	`{"é":1}`, `{"\u00e9":1}`, `{"\u0041":1}`, `{"a":{"b":[{"c":{"ü":1}}]}}`, `{"a":{"ü":1},"a":2}`, `{"signature":NaN}`,
	"\ufeff{\"a\":1}", "   ", "", "\t\r", "{\"a\":1}\r", " {\"a\":1} ", "{\"a\":1}\v", "\u00a0",
	`{"a":1,}`, `[1,]`, `{"a" 1}`, `{"a":1 "b":2}`, `{1:2}`, `{"a":1}{"b":2}`, `{"a":1}x`, `[1 2]`, `tru`, `true`, `nul`, `null`, `falsey`,
	strings.Repeat("[", 512) + "1" + strings.Repeat("]", 512),
	strings.Repeat("[", 513) + "1" + strings.Repeat("]", 513),
	strings.Repeat("[", 513) + strings.Repeat("]", 513),
	strings.Repeat("[", 514) + strings.Repeat("]", 514),
	strings.Repeat(`{"a":`, 512) + "1" + strings.Repeat("}", 512),
	strings.Repeat(`{"a":`, 513) + "1" + strings.Repeat("}", 513),
	`"abcdefghijklmnopqrstuvwxyz0123456789\"abcdefgh"`, `"abcdefghijklmnop`, `"abcdefgh\`,
	`{"k":"` + strings.Repeat("0123456789abcdef", 300) + `"}`, `{"k":"` + strings.Repeat("0123456789abcdef", 300),
	`{"` + strings.Repeat("k", 63) + `":"` + strings.Repeat("v", 64) + `","x":[1,"2",{"y":"z"}]}`,
}

// checkScan asserts that Scan agrees with Decode and Marshal(ASCIIKeys).
func checkScan(t *testing.T, data []byte) {
	t.Helper()
	type seen struct {
		m   ScanMember
		key string
	}
	var members []seen
	res, ms := Scan(data, nil)
	for _, m := range ms {
		k := string(m.Key(data))
		if m.KeyEscaped {
			var err error
			if k, err = UnquoteKey(m.Key(data)); err != nil {
				t.Fatalf("%q: key %q does not unquote: %v", data, m.Key(data), err)
			}
		}
		members = append(members, seen{m, k})
	}
	v, err := Decode(data)
	if res.Valid != (err == nil) {
		t.Fatalf("%q: Scan valid=%v, Decode err=%v", data, res.Valid, err)
	}
	if err != nil {
		return
	}
	_, cerr := Options{ASCIIKeys: true}.Marshal(v)
	if cerr != nil && !res.Suspect {
		t.Fatalf("%q: does not canonicalize (%v) but Scan says not suspect", data, cerr)
	}
	var want Kind
	switch x := v.(type) {
	case *Object:
		want = KindObject
	case []any:
		want = KindArray
	case string:
		want = KindString
	case Number:
		want = KindNumber
	case NonFinite:
		want = KindNonFinite
	case bool:
		want = map[bool]Kind{true: KindTrue, false: KindFalse}[x]
	case nil:
		want = KindNull
	}
	if res.Kind != want {
		t.Fatalf("%q: kind %q, want %q", data, res.Kind, want)
	}
	obj, ok := v.(*Object)
	if !ok {
		if len(members) > 0 {
			t.Fatalf("%q: members visited for a non-object", data)
		}
		return
	}
	// Replaying the visited members with last-wins gives the decoded object.
	got := &Object{}
	last := map[string]ScanMember{}
	for _, s := range members {
		mv, err := Decode(s.m.Value(data))
		if err != nil {
			t.Fatalf("%q: member value %q does not decode: %v", data, s.m.Value(data), err)
		}
		if str, isStr := mv.(string); isStr {
			if s.m.ValueEscaped != strings.Contains(string(s.m.Value(data)), `\`) {
				t.Fatalf("%q: ValueEscaped wrong for %q", data, s.m.Value(data))
			}
			if u, err := Unquote(s.m.Value(data)); err != nil || u != str {
				t.Fatalf("%q: Unquote(%q) = %q, %v", data, s.m.Value(data), u, err)
			}
		}
		got.Set(s.key, mv)
		last[s.key] = s.m
	}
	if !reflect.DeepEqual(got, obj) {
		t.Fatalf("%q: members replayed %#v, decoded %#v", data, got, obj)
	}
	for _, m := range obj.Members {
		if _, err := (Options{ASCIIKeys: true}).Marshal(&Object{Members: []Member{m}}); err != nil && !last[m.Key].Suspect {
			t.Fatalf("%q: member %q does not canonicalize (%v) but is not suspect", data, m.Key, err)
		}
	}
}

func TestScanMatchesDecode(t *testing.T) {
	t.Parallel()
	for _, s := range scanSeeds {
		checkScan(t, []byte(s))
		// Every prefix too: truncation is where hand-written scanners slip.
		for i := 0; i < len(s) && i < 200; i++ {
			checkScan(t, []byte(s[:i]))
		}
	}
}

func TestScanVerdicts(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in             string
		valid, suspect bool
	}{
		{`{"a":1}`, true, false},
		{`{"a":NaN}`, true, true},
		{`{"a":1e400}`, true, true},
		{`{"a":1e-400}`, true, false},
		{`{"é":1}`, true, true},
		{`{"\u00e9":1}`, true, true},
		{`{"\u0041":1}`, true, false},
		{`{"a":{"\ud83d\ude00":1}}`, true, true},
		{`{"a":"\ud83d"}`, false, false},
		{"\ufeff{}", false, false},
		{`{"a":1,"a":2}`, true, false},
	} {
		r, _ := Scan([]byte(c.in), nil)
		if r.Valid != c.valid || r.Valid && r.Suspect != c.suspect {
			t.Errorf("%q: %+v, want valid=%v suspect=%v", c.in, r, c.valid, c.suspect)
		}
	}
}

func TestScanAllocs(t *testing.T) {
	line := []byte(`{"receipt_id":"mcr_0000000000000001","type":"model_call","timestamp":"2026-01-15T11:00:00.000001+00:00","n":[1,2.5,-3e10,{"k":"v\n\u00e9"}],"ok":true,"e":null}`)
	ms := make([]ScanMember, 0, 16)
	allocs := testing.AllocsPerRun(100, func() {
		_, ms = Scan(line, ms)
	})
	if allocs != 0 {
		t.Fatalf("Scan allocates %v times per line", allocs)
	}
}

func FuzzScanMatchesDecode(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkScan(t, data)
	})
}

var benchLine = []byte(`{"_store_seq":1,"_stored_at":"2026-01-15T11:59:00.000000+00:00","_trace_id":"bench-run","callsite_id":"000000000001","content_hash_alg":"sha256-jcs-v1","endpoint":"/v1/chat/completions","error":null,"finish_reason":"stop","input_hash":"0000000000000000000000000000000000000000000000000000000000000001","input_tokens":813,"latency_ms":931,"model_id":"gpt-4o-mini","output_hash":"0000000000000000000000000000000000000000000000000000000000000007","output_tokens":212,"provider":"openai","receipt_id":"mcr_0000000000000001","schema_version":"3.0","seq":1,"timestamp":"2026-01-15T11:00:00.000001+00:00","total_tokens":1024,"type":"model_call","usage_source":"provider"}`)

func BenchmarkScan(b *testing.B) {
	line := benchLine
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	var ms []ScanMember
	for i := 0; i < b.N; i++ {
		_, ms = Scan(line, ms)
	}
}

// BenchmarkSHA256Line hashes BenchmarkScan's line, for a same-run ratio.
func BenchmarkSHA256Line(b *testing.B) {
	line := benchLine
	b.SetBytes(int64(len(line)))
	for i := 0; i < b.N; i++ {
		sha256.Sum256(line)
	}
}

// TestPlainQuotes checks the bitmap pass against a byte loop on random
// lines of every length around the 8- and 64-byte boundaries.
func TestPlainQuotes(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewSource(1))
	alphabet := []byte("ab\":{}, \\\x01\xc3\xa9")
	for n := 0; n <= 4200; n += 1 + n/40 {
		for round := 0; round < 20; round++ {
			d := make([]byte, n)
			plainOnly := round%2 == 0
			for i := range d {
				if plainOnly {
					d[i] = alphabet[rng.Intn(7)]
				} else {
					d[i] = alphabet[rng.Intn(len(alphabet))]
				}
			}
			var q [plainWords]uint64
			got := plainQuotes(d, &q)
			want := n <= plainWords*64
			for _, c := range d {
				if c == '\\' || c < 0x20 || c >= 0x80 {
					want = false
				}
			}
			if got != want {
				t.Fatalf("n=%d %q: plain %v, want %v", n, d, got, want)
			}
			if !got {
				continue
			}
			for i, c := range d {
				if (q[i/64]>>(i%64)&1 == 1) != (c == '"') {
					t.Fatalf("n=%d: quote bit %d wrong in %q", n, i, d)
				}
			}
		}
	}
	// Past the plain limit, strings still scan (the general path).
	long := `{"a":"` + strings.Repeat("x", 5000) + `","b":"` + strings.Repeat("y", 70) + `"}`
	checkScan(t, []byte(long))
	checkScan(t, []byte(long[:len(long)-3]))
}
