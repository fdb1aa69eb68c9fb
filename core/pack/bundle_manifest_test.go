package pack_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/packs/packstest"
)

const goldenDir = "../../testdata/vectors/pack/golden_minimal"

// goldenFiles are the golden pack's kernel files, the manifest among them.
func goldenFiles(t testing.TB, prefix string) (files []packstest.TarFile, manifest []byte) {
	t.Helper()
	for _, name := range pack.KernelFiles {
		b, err := os.ReadFile(filepath.Join(goldenDir, name))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, packstest.TarFile{Name: prefix + name, Data: b})
		if name == pack.FileManifest {
			manifest = b
		}
	}
	return files, manifest
}

// ReadBundleManifest returns the manifest Open would read, for a pack at
// the bundle's root or one directory down, and refuses what the one
// bundle walk refuses before the manifest, writing nothing anywhere.
func TestReadBundleManifest(t *testing.T) {
	t.Parallel()
	for _, prefix := range []string{"", "pack/"} {
		files, want := goldenFiles(t, prefix)
		src := filepath.Join(t.TempDir(), "b.tar.gz")
		packstest.GzipBombAmong(t, src, files, "zz_after", 0, nil)
		got, err := pack.ReadBundleManifest(src, pack.DefaultBundleLimits)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("prefix %q: %v", prefix, err)
		}
		p, err := pack.Open(src)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(p.ManifestBytes, got) {
			t.Fatalf("prefix %q: Open reads another manifest", prefix)
		}
		p.Close()
	}
	files, _ := goldenFiles(t, "")
	for _, c := range []struct {
		name   string
		before []packstest.TarFile
		want   string
	}{
		{"traversal", []packstest.TarFile{{Name: "../x", Data: []byte("x")}}, "path traversal"},
		{"absolute", []packstest.TarFile{{Name: "/tmp/x", Data: []byte("x")}}, "absolute path"},
		{"twice", []packstest.TarFile{{Name: "x"}, {Name: "x"}}, "appears twice"},
		{"too deep", []packstest.TarFile{{Name: "a/b/" + pack.FileManifest, Data: files[3].Data}}, "holds no pack"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			src := filepath.Join(dir, "b.tar.gz")
			// The manifest after the offending entry (none at the top
			// of the "too deep" one).
			ents := c.before
			if c.name != "too deep" {
				ents = append(ents, files[3])
			}
			packstest.GzipBombAmong(t, src, ents, "zz", 0, nil)
			m, err := pack.ReadBundleManifest(src, pack.DefaultBundleLimits)
			if m != nil || exit.Code(err) != exit.BadInput || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v (exit %d), want %q", err, exit.Code(err), c.want)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 1 {
				t.Fatalf("%d entries beside the bundle", len(ents))
			}
		})
	}
}

// Only the manifest member is read: a bomb behind it is never inflated
// (Open refuses this bundle: its 4 GiB entry is past every limit), and
// one ahead of it costs at most the limits given, then is refused.
func TestReadBundleManifestStopsAtManifest(t *testing.T) {
	t.Parallel()
	files, want := goldenFiles(t, "")
	dir := t.TempDir()
	after := filepath.Join(dir, "after.tar.gz")
	packstest.GzipBombAmong(t, after, files[3:4], "zz_bomb", 4<<30, files[4:])
	got, err := pack.ReadBundleManifest(after, pack.DefaultBundleLimits)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("bomb after the manifest: %v", err)
	}
	if p, err := pack.Open(after); err == nil || !strings.Contains(err.Error(), "limit") {
		p.Close()
		t.Fatalf("Open took the bomb: %v", err)
	}
	before := filepath.Join(dir, "before.tar.gz")
	packstest.GzipBombAmong(t, before, nil, "_unsigned_bomb", 64<<20, files)
	lim := pack.BundleLimits{MaxEntryBytes: int64(len(want)), MaxTotalBytes: 1 << 20, MaxEntries: 16}
	if m, err := pack.ReadBundleManifest(before, lim); m != nil || exit.Code(err) != exit.BadInput || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("bomb before the manifest: %v", err)
	}
	// A manifest larger than MaxEntryBytes is refused unread.
	lim = pack.BundleLimits{MaxEntryBytes: int64(len(want)) - 1, MaxTotalBytes: 1 << 30, MaxEntries: 16}
	if m, err := pack.ReadBundleManifest(after, lim); m != nil || exit.Code(err) != exit.BadInput {
		t.Fatalf("manifest over the limit: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Fatalf("%d entries beside the bundles", len(ents))
	}
}

// A bundle that is not one: the errors Open gives, exit 3.
func TestReadBundleManifestNotABundle(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.tar.gz")
	os.WriteFile(junk, []byte("not gzip"), 0o644)
	for _, p := range []string{dir, junk, filepath.Join(dir, "missing.tar.gz")} {
		if m, err := pack.ReadBundleManifest(p, pack.DefaultBundleLimits); m != nil || exit.Code(err) != exit.BadInput {
			t.Errorf("%s: %v", p, err)
		}
	}
}

// FuzzReadBundleManifest feeds the manifest reader arbitrary archives: it
// never panics, never writes beside the bundle, refuses with bad input
// (exit 3) only, and what it returns is a manifest member's bytes within
// the limit.
func FuzzReadBundleManifest(f *testing.F) {
	files, _ := goldenFiles(f, "")
	for _, seed := range [][]packstest.TarFile{files, files[3:4], {{Name: "../x", Data: []byte("x")}}, {{Name: "a/" + pack.FileManifest, Data: []byte("{}")}}} {
		p := filepath.Join(f.TempDir(), "b.tar.gz")
		packstest.GzipBombAmong(f, p, seed, "zz", 0, nil)
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	lim := pack.BundleLimits{MaxEntryBytes: 1 << 20, MaxTotalBytes: 4 << 20, MaxEntries: 100}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		src := filepath.Join(dir, "in.tar.gz")
		if err := os.WriteFile(src, data, 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := pack.ReadBundleManifest(src, lim)
		if ents, _ := os.ReadDir(dir); len(ents) != 1 {
			t.Fatalf("%d entries beside the bundle", len(ents))
		}
		if err != nil {
			if m != nil || exit.Code(err) != exit.BadInput {
				t.Fatalf("refusal %v (exit %d) with %d bytes", err, exit.Code(err), len(m))
			}
			return
		}
		if int64(len(m)) > lim.MaxEntryBytes {
			t.Fatalf("%d-byte manifest past the limit", len(m))
		}
	})
}

// What a look at a bundle's manifest costs against opening the bundle
// (extracting it), for a bundle whose pack holds 256 MiB after the
// manifest:
//
//	go test -run '^$' -bench BundleManifest -benchtime 3x ./core/pack
func BenchmarkBundleManifest(b *testing.B) {
	files, _ := goldenFiles(b, "")
	src := filepath.Join(b.TempDir(), "b.tar.gz")
	packstest.GzipBombAmong(b, src, files[3:4], "zz_receipts", 256<<20, files[4:])
	b.Run("ReadBundleManifest", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := pack.ReadBundleManifest(src, pack.DefaultBundleLimits); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Open", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			p, err := pack.Open(src)
			if err != nil {
				b.Fatal(err)
			}
			p.Close()
		}
	})
}
