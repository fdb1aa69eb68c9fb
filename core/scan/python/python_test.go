package python

import (
	"errors"
	"testing"
)

func TestParseSkips(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		src  string
		skip bool
	}{
		{"ok", "x.y()\n", false},
		{"bom", "\ufeffx()\n", true},
		{"nul", "x()\x00\n", true},
		{"latin1", "# caf\xe9\nx()\n", true},
		{"syntax", "def f(:\n", true},
		{"py2 print", "print 'x'\n", true},
		{"py2 exec", "exec 'x = 1'\n", true},
		{"print call", "print('x')\n", false},
		{"py2 except comma", "try:\n    x()\nexcept E, e:\n    pass\n", true},
		{"py2 octal", "x = 0777\n", true},
		{"py2 long", "x = 10L\n", true},
		{"py2 ur string", "x = ur'abc'\n", true},
		{"py3 zero", "x = 0\ny = 00\nz = 0o777\n", false},
		{"py3 rb and f strings", "x = rb'a' + Rb'b' + f'{y}' + u'c' + br'd'\n", false},
		{"backticks", "x = `y`\n", true},
		{"match", "match x:\n    case 1:\n        pass\n", false},
	} {
		_, err := Parse([]byte(tc.src))
		if (err != nil) != tc.skip || (err != nil && !errors.Is(err, ErrSkip)) {
			t.Errorf("%s: err %v, want skip=%v", tc.name, err, tc.skip)
		}
	}
}

// FuzzParse: any input either parses or is skipped with ErrSkip; calls
// have positive lines; nothing panics.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"client.chat.completions.create()\n", "from . import x\nimport a.b as c\n", "f'{a(b())}'\n", "(a\n.b\n.c())\n", "{a(): b()}\n", "x if y() else z()\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		file, err := Parse(src)
		if err != nil {
			if !errors.Is(err, ErrSkip) {
				t.Fatalf("error without ErrSkip: %v", err)
			}
			return
		}
		for _, c := range file.Calls {
			if c.Line < 1 {
				t.Fatalf("call %+v", c)
			}
		}
		if _, ok := HeaderEnd(src); !ok {
			t.Fatal("HeaderEnd refuses a file Parse accepted")
		}
	})
}
