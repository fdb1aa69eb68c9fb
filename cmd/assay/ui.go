package main

import (
	"io"
	"os"

	"github.com/mattn/go-isatty"
)

// isTerminal reports whether w is a terminal that wants colour
// (NO_COLOR and TERM=dumb turn it off).
func isTerminal(w io.Writer) bool {
	for {
		u, ok := w.(interface{ Unwrap() io.Writer })
		if !ok {
			break
		}
		w = u.Unwrap()
	}
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	return isatty.IsTerminal(f.Fd())
}

// style wraps text in ANSI colour codes only when the writer is a terminal.
type style struct{ on bool }

func newStyle(w io.Writer) style { return style{on: isTerminal(w)} }

func (s style) wrap(code, text string) string {
	if !s.on {
		return text
	}
	return "\x1b[" + code + "m" + text + "\x1b[0m"
}

func (s style) Green(t string) string  { return s.wrap("1;32", t) }
func (s style) Red(t string) string    { return s.wrap("1;31", t) }
func (s style) Yellow(t string) string { return s.wrap("1;33", t) }
func (s style) Bold(t string) string   { return s.wrap("1", t) }
func (s style) Dim(t string) string    { return s.wrap("2", t) }
