package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The README's claims hold as written. Every ```sh block is read: a block
// whose assay commands are all concrete (no [options], alternatives,
// placeholders or $VARS) is run line by line, in order, in a fresh project
// with the built binary on PATH, and each line must exit with the code its
// comment states ("(exit N)"), 0 when it states none. Every other assay
// line is a synopsis: its command path must exist (--help exits 0). Lines
// of other programs (go, claude, ./scripts) are not ours to run.

// readmeFile is resolved before tests change directory.
var readmeFile, _ = filepath.Abs("../../README.md")

var (
	readmeStatedExit  = regexp.MustCompile(`\(exit (\d)\)`)
	readmePlaceholder = regexp.MustCompile(`\b[A-Z][A-Z_]+\b|\[|\||\$|\.\.\.`)
	readmeWord        = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
)

// readmeLine is one command of a block, with its stated exit code.
type readmeLine struct {
	cmd  string
	exit int
	at   int // README line number
}

// readmeBlocks returns the commands of every ```sh block (continuation
// lines joined, comments cut, "a ; b" split).
func readmeBlocks(t *testing.T) [][]readmeLine {
	t.Helper()
	b, err := os.ReadFile(readmeFile)
	if err != nil {
		t.Fatal(err)
	}
	var blocks [][]readmeLine
	var cur []readmeLine
	in := false
	for i, l := range strings.Split(string(b), "\n") {
		switch {
		case !in && strings.HasPrefix(l, "```sh"):
			in, cur = true, nil
			continue
		case in && strings.HasPrefix(l, "```"):
			in = false
			blocks = append(blocks, cur)
			continue
		case !in || strings.TrimSpace(l) == "":
			continue
		}
		code, comment, _ := strings.Cut(l, " # ")
		want := 0
		if m := readmeStatedExit.FindStringSubmatch(comment); m != nil {
			want, _ = strconv.Atoi(m[1])
		}
		if strings.HasPrefix(l, " ") && len(cur) > 0 { // continuation of a synopsis
			cur[len(cur)-1].cmd += " " + strings.TrimSpace(code)
			continue
		}
		for _, part := range strings.Split(code, " ; ") {
			cur = append(cur, readmeLine{cmd: strings.TrimSpace(part), exit: want, at: i + 1})
		}
	}
	return blocks
}

func isAssayLine(c string) bool { return strings.HasPrefix(c, "assay ") }

// commandPath is the subcommand words of a synopsis line ("lock write").
func commandPath(c string) []string {
	var out []string
	for _, w := range strings.Fields(strings.TrimPrefix(c, "assay "))[0:] {
		if !readmeWord.MatchString(w) {
			break
		}
		out = append(out, w)
	}
	return out
}

func TestReadmeCommandBlocks(t *testing.T) {
	blocks := readmeBlocks(t)
	bin := gfBinary(t)
	home, _ := ckProcessEnv(t)
	ran, synopses := 0, 0
	for _, block := range blocks {
		runnable := len(block) > 0
		for _, l := range block {
			if !isAssayLine(l.cmd) || readmePlaceholder.MatchString(l.cmd) {
				runnable = false
			}
		}
		if !runnable {
			for _, l := range block {
				if !isAssayLine(l.cmd) {
					continue
				}
				synopses++
				args := append(commandPath(l.cmd), "--help")
				if code, _, errs := ckRun(t, args...); code != 0 {
					t.Errorf("README line %d: %q: 'assay %s' exits %d: %s", l.at, l.cmd, strings.Join(args, " "), code, errs)
				}
			}
			continue
		}
		proj := t.TempDir()
		// The program the tour records: it emits one model_call receipt.
		os.WriteFile(filepath.Join(proj, "app.py"), []byte("import subprocess\nsubprocess.run(['assay', 'emit', 'model_call', '--data', '{\"model_id\": \"gpt-4o\", \"provider\": \"openai\"}'], check=True)\nprint('hello from app.py')\n"), 0o644)
		env := rtBinEnv("PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"), "ASSAY_HOME="+home)
		for _, l := range block {
			ran++
			cmd := exec.Command("sh", "-c", l.cmd)
			cmd.Dir, cmd.Env = proj, env
			out, err := cmd.CombinedOutput()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != l.exit {
				t.Errorf("README line %d: %q exits %d, the README says %d\n%s", l.at, l.cmd, code, l.exit, out)
			}
		}
	}
	if ran < 5 || synopses < 20 {
		t.Fatalf("ran %d README commands and checked %d synopses; the README's blocks were not found", ran, synopses)
	}
	t.Logf("README: ran %d commands, checked %d synopsis lines", ran, synopses)
}
