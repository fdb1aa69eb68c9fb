package packstest

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Marker is the unique string LinkOut puts in the outside file: a reader
// that followed the link would show it (as the pack id, a model name, a
// line of text), so tests assert it appears nowhere in their output.
const Marker = "OUTSIDE-SECRET-9d41c7e2"

// LinkOut replaces the pack file dir/name with a link to a file outside
// the pack (in outside, created if missing) holding the file's content
// with Marker worked in: the pack id replaced by it, or a receipt line
// naming it as its model, or a first line. abs chooses an absolute link
// target instead of a relative one. It returns the outside file's path.
func LinkOut(t testing.TB, dir, name, outside string, abs bool) string {
	t.Helper()
	p := filepath.Join(dir, name)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	man, _ := os.ReadFile(filepath.Join(dir, "pack_manifest.json"))
	var id string
	if i := bytes.Index(man, []byte(`"pack_id":"`)); i >= 0 {
		rest := man[i+len(`"pack_id":"`):]
		id = string(rest[:bytes.IndexByte(rest, '"')])
	}
	switch {
	case id != "" && bytes.Contains(data, []byte(id)):
		data = bytes.ReplaceAll(data, []byte(id), []byte(Marker))
	case strings.HasSuffix(name, ".jsonl"):
		data = append(data, []byte(`{"receipt_id":"`+Marker+`","type":"model_call","model":"`+Marker+`","provider":"`+Marker+`"}`+"\n")...)
	default:
		data = append([]byte(Marker+"\n"), data...)
	}
	if err := os.MkdirAll(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(outside, name)
	if err := os.WriteFile(target, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	link := target
	if !abs {
		if link, err = filepath.Rel(dir, target); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(link, p); err != nil {
		t.Fatal(err)
	}
	return target
}

// LinkCase is one way a pack can reach out of its directory.
type LinkCase struct {
	Name string
	// Make alters the pack in dir, using outside for the targets.
	Make func(t testing.TB, dir, outside string)
}

// LinkCases are the pack layouts every pack reader must refuse without
// reading the outside file: each kernel file as a relative and as an
// absolute link out, a directory linked out, and a link to an outside
// FIFO (a reader that opened it would block forever).
func LinkCases() []LinkCase {
	var cs []LinkCase
	for _, f := range []string{"pack_manifest.json", "receipt_pack.jsonl", "verify_report.json", "verify_transcript.md", "pack_signature.sig"} {
		cs = append(cs,
			LinkCase{f + " relative link", func(t testing.TB, dir, outside string) { LinkOut(t, dir, f, outside, false) }},
			LinkCase{f + " absolute link", func(t testing.TB, dir, outside string) { LinkOut(t, dir, f, outside, true) }})
	}
	cs = append(cs,
		LinkCase{"directory link", func(t testing.TB, dir, outside string) {
			if err := os.MkdirAll(outside, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(outside, "notes.md"), []byte(Marker), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(outside, filepath.Join(dir, "extra")); err != nil {
				t.Fatal(err)
			}
		}},
		LinkCase{"outside FIFO", func(t testing.TB, dir, outside string) {
			if err := os.MkdirAll(outside, 0o755); err != nil {
				t.Fatal(err)
			}
			fifo := filepath.Join(outside, "fifo")
			if err := mkfifo(fifo); err != nil {
				t.Fatal(err)
			}
			os.Remove(filepath.Join(dir, "receipt_pack.jsonl"))
			if err := os.Symlink(fifo, filepath.Join(dir, "receipt_pack.jsonl")); err != nil {
				t.Fatal(err)
			}
		}},
	)
	return cs
}
