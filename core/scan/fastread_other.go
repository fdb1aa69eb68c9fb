//go:build !linux

package scan

import (
	"io/fs"
	"os"
)

// fastReader is Linux's openat2 read path; elsewhere every file goes
// through readSource.
type fastReader struct{}

func newFastReader(*os.Root) *fastReader                      { return nil }
func (r *fastReader) close()                                  {}
func (r *fastReader) worker() *fastReader                     { return nil }
func (r *fastReader) read(string, int64, bool) ([]byte, bool) { return nil, false }

func (r *fastReader) walk(fs.WalkDirFunc) (bool, error) { return false, nil }
