package pack

import (
	"bytes"
	"math/rand"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/receipt"
)

var fastSeeds = []string{
	`{"receipt_id":"r1","type":"model_call","timestamp":"2026-01-15T11:59:00+00:00","seq":3,"_trace_id":"t"}`,
	`{"b":1,"a":2,"signature":"x","anchor":{"k":1},"nested":{"z":[1,{"y":2,"x":1}],"a":null}}`,
	`{"s":"line\u2028sep","t":"raw` + "\u2028" + `","u":"` + "\u0085" + `"}`,
	`{"f":1.0,"g":1e3,"h":-0,"i":12345678901234567890123,"j":-5}`,
	`{"dup":1,"dup":2}`,
	`{"esc":"a\"b","k\u0065y":1}`,
	`{"ключ":1}`,
	`{"nested":{"ключ":1}}`,
	`{"seq":"7","receipt_id":5,"type":["model_call"],"timestamp":null}`,
	`{"run_id":"t","_trace_id":"t","seq":-1.5}`,
	`{"run_id":7}`,
	`{"_trace_id":[1],"run_id":[1]}`,
	`{}`, `[]`, `"x"`, `{"a":NaN}`, `{"a":1e999}`, `{"del":"` + "\x7f" + `","uni":"é✓𝄞","slash":"a/b"}`,
	`  {"ws" : [ 1 , 2 ] , "t" : true , "f" : false , "n" : null }  `,
	`{"signatures":[],"signature":1,"cose_signature":2,"receipt_hash":3,"anchor":4,"keep":5}`,
}

// checkFastLine: whenever the fast path takes a line, its bytes and fields
// are exactly the decoding path's.
func checkFastLine(t *testing.T, f *fastLiner, data []byte) {
	line, info, ok := f.line(bytes.TrimSpace(data))
	if !ok {
		return
	}
	v, err := canon.Decode(bytes.TrimSpace(data))
	obj, isObj := v.(*canon.Object)
	if err != nil || !isObj {
		t.Fatalf("fast path took %q, which does not decode to an object: %v", data, err)
	}
	want, err := receipt.Line(obj)
	if err != nil {
		t.Fatalf("fast path took %q, which does not canonicalize: %v", data, err)
	}
	if !bytes.Equal(line, want) {
		t.Fatalf("line of %q:\n got %s\nwant %s", data, line, want)
	}
	if w := infoOf(obj); w != info {
		t.Fatalf("fields of %q: got %+v, want %+v", data, info, w)
	}
	if err1, err2 := f.checkFast("t", 0, bytes.TrimSpace(data), info), checkOne("t", 0, obj); (err1 == nil) != (err2 == nil) || (err1 != nil && err1.Error() != err2.Error()) {
		t.Fatalf("checks of %q: fast %v, decoded %v", data, err1, err2)
	}
}

func TestFastLineMatchesLine(t *testing.T) {
	t.Parallel()
	var f fastLiner
	took := 0
	for _, s := range fastSeeds {
		checkFastLine(t, &f, []byte(s))
		if _, _, ok := f.line(bytes.TrimSpace([]byte(s))); ok {
			took++
		}
	}
	if took < 5 {
		t.Fatalf("the fast path took only %d seeds", took)
	}
	rng := randSource()
	for round := 0; round < 300; round++ {
		for _, l := range randomTrace(rng, 20, round%2 == 0) {
			checkFastLine(t, &f, []byte(l))
		}
	}
}

func randSource() *rand.Rand { return rand.New(rand.NewSource(11)) }

func FuzzFastLine(f *testing.F) {
	for _, s := range fastSeeds {
		f.Add([]byte(s))
	}
	var fl fastLiner
	f.Fuzz(func(t *testing.T, data []byte) {
		if strings.Contains(string(data), "\n") {
			return
		}
		checkFastLine(t, &fl, data)
	})
}
