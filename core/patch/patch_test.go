package patch

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const line = "import assay_capture  # assay:patched"

// Insertion points, including the reference's defects we fix: a licence
// comment before `from __future__`, a coding cookie, an r-prefixed
// docstring, a parenthesised multi-line future import and a last line
// without a newline. Every result must still compile.
func TestInsertionPoints(t *testing.T) {
	t.Parallel()
	py, _ := exec.LookPath("python3")
	dir := t.TempDir()
	var files []string
	for _, tc := range []struct {
		name, src string
		at        int
	}{
		{"empty", "", 0},
		{"plain code", "x = 1\n", 0},
		{"shebang", "#!/usr/bin/env python3\nx = 1\n", 1},
		{"shebang and cookie", "#!/usr/bin/env python3\n# -*- coding: utf-8 -*-\nx = 1\n", 2},
		{"one-line docstring", "\"\"\"Doc.\"\"\"\nx = 1\n", 1},
		{"three-line docstring", "\"\"\"Doc.\n\nMore.\n\"\"\"\nx = 1\n", 4},
		{"r docstring", "r'''Doc \\d.'''\nx = 1\n", 1},
		{"shebang docstring future", "#!/usr/bin/env python3\n\n\"\"\"Doc.\"\"\"\n\nfrom __future__ import annotations\n\nx = 1\n", 5},
		{"future only", "from __future__ import annotations\nx = 1\n", 1},
		{"licence comment then future", "# Copyright X\n# Licence Y\nfrom __future__ import annotations\nimport os\n", 3},
		{"parenthesised future", "from __future__ import (\n    annotations,\n    division,\n)\nx = 1\n", 4},
		{"docstring no newline", "\"\"\"Doc.\"\"\"", 1},
		{"f-string is not a docstring", "f\"{x}\"\nx = 1\n", 0},
		{"blank lines only", "\n\n\n", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			at, ok := headerEnd([]byte(tc.src))
			if !ok || at != tc.at {
				t.Fatalf("headerEnd = %d, %v; want %d", at, ok, tc.at)
			}
			out := string(insertLine([]byte(tc.src), at, line))
			if got := strings.Split(out, "\n")[at]; got != line {
				t.Errorf("line %d = %q", at, got)
			}
			if !strings.HasPrefix(out, strings.TrimSuffix(tc.src[:min(len(tc.src), strings.Index(out, line))], "")) && at > 0 {
				t.Errorf("prefix changed: %q", out)
			}
			f := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".py")
			os.WriteFile(f, []byte(out), 0o644)
			files = append(files, f)
		})
	}
	// One interpreter compiles every patched file (exit 1 lists failures).
	if py != "" {
		script := "import sys\nbad = []\nfor f in sys.argv[1:]:\n    try:\n        compile(open(f,'rb').read(), f, 'exec')\n    except SyntaxError as e:\n        bad.append('%s: %s' % (f, e))\nprint('\\n'.join(bad)); sys.exit(1 if bad else 0)"
		if b, err := exec.Command(py, append([]string{"-c", script}, files...)...).CombinedOutput(); err != nil {
			t.Errorf("patched files do not compile:\n%s", b)
		}
	}
	// CRLF files keep CRLF.
	out := string(insertLine([]byte("\"\"\"D.\"\"\"\r\nx = 1\r\n"), 1, line))
	if out != "\"\"\"D.\"\"\"\r\n"+line+"\r\nx = 1\r\n" {
		t.Errorf("CRLF: %q", out)
	}
}
