package typescript

import (
	"errors"
	"testing"
)

func TestParseSkips(t *testing.T) {
	t.Parallel()
	for name, src := range map[string]string{
		"nul":    "const a = 1;\x00",
		"latin1": "// caf\xe9\nconst a = 1;",
		"syntax": "const c = new OpenAI(;",
	} {
		if _, err := Parse([]byte(src), TS); !errors.Is(err, ErrSkip) {
			t.Errorf("%s: err %v, want ErrSkip", name, err)
		}
	}
	// A BOM is accepted (Node strips it).
	f, err := Parse([]byte("\xef\xbb\xbfimport OpenAI from 'openai';\nnew OpenAI().chat.completions.create({});\n"), TS)
	if err != nil || len(f.Calls) != 2 || f.Calls[1].Line != 2 {
		t.Fatalf("BOM file: %v %+v", err, f)
	}
}

func TestDialectOf(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{"a.ts": true, "a.tsx": true, "a.mjs": true, "a.cjs": true, "a.jsx": true, "a.d.ts": false, "a.json": false, "a.py": false} {
		if _, ok := DialectOf(name); ok != want {
			t.Errorf("%s: %v", name, ok)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("import OpenAI from 'openai'; const c = new OpenAI(); await c.chat.completions.create({});"), uint8(0))
	f.Add([]byte("const { A: B } = require('x'); export * as ns from 'y'; class K { c = new B(); m() { return this.c; } }"), uint8(2))
	f.Add([]byte("const X = () => <div onClick={() => f?.()}>{a!.b}</div>;"), uint8(1))
	f.Fuzz(func(t *testing.T, src []byte, d uint8) {
		file, err := Parse(src, Dialect(d%3))
		if err != nil {
			return
		}
		Analyze([]Source{{Path: "a.ts", File: file, Pkg: "."}})
	})
}

// Minified code rebinds one-letter names thousands of times; resolving a
// callee must stay linear (it was exponential before names were memoized).
func TestManyRebindingsResolve(t *testing.T) {
	t.Parallel()
	var b []byte
	b = append(b, "import OpenAI from 'openai';\nlet e = new OpenAI(), t = e, n = t;\n"...)
	for i := 0; i < 3000; i++ {
		b = append(b, "t = n.a; n = e.b; e = t.c;\n"...)
	}
	b = append(b, "t.chat.completions.create({});\n"...)
	f, err := Parse(b, JS)
	if err != nil {
		t.Fatal(err)
	}
	sites := Analyze([]Source{{Path: "min.js", File: f, Pkg: "."}})
	if len(sites) != 1 || sites[0].Framework != "openai" {
		t.Fatalf("sites %+v", sites)
	}
}
