package fsutil

import (
	"os"
	"path/filepath"
	"strconv"
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

// BenchmarkCheckTree checks a directory of 100,000 regular files (a
// hostile pack's size), reading it in batches.
//
//	go test -run '^$' -bench CheckTree -benchmem ./core/fsutil/
func BenchmarkCheckTree(b *testing.B) {
	dir := b.TempDir()
	for i := 0; i < 100000; i++ {
		f, err := os.Create(filepath.Join(dir, "f"+strconv.Itoa(i)))
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
	b.ResetTimer()
	for b.Loop() {
		if err := CheckTree(dir); err != nil {
			b.Fatal(err)
		}
	}
}
