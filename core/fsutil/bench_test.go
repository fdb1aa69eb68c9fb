package fsutil

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkRead compares a confined read (through an open os.Root, type
// checked on the descriptor, capped) with a plain os.ReadFile of the same
// 2 KiB file: the cost scan pays per file for confinement.
//
//	go test -run '^$' -bench Read ./core/fsutil/
func BenchmarkRead(b *testing.B) {
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f.py"), make([]byte, 2048), 0o644); err != nil {
		b.Fatal(err)
	}
	b.Run("os.ReadFile", func(b *testing.B) {
		for b.Loop() {
			if _, err := os.ReadFile(filepath.Join(dir, "f.py")); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ReadFileIn", func(b *testing.B) {
		root, err := os.OpenRoot(dir)
		if err != nil {
			b.Fatal(err)
		}
		defer root.Close()
		for b.Loop() {
			if _, err := ReadFileIn(root, "f.py", 4<<20); err != nil {
				b.Fatal(err)
			}
		}
	})
}
