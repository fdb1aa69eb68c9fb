package typescript

import (
	"errors"
	"testing"
)

func TestParseSkips(t *testing.T) {
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
