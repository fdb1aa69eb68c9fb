package pack

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
)

type tarEntry struct {
	hdr  tar.Header
	data string
}

// writeTgz writes entries as a .tar.gz in dir and returns its path.
func writeTgz(tb testing.TB, dir string, ents []tarEntry) string {
	tb.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range ents {
		h := e.hdr
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.data))
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if err := tw.WriteHeader(&h); err != nil {
			tb.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write([]byte(e.data))
		}
	}
	tw.Close()
	gz.Close()
	p := filepath.Join(dir, "bundle.tar.gz")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

// packEntries are the files of the golden pack as tar entries under prefix.
func packEntries(tb testing.TB, prefix string) []tarEntry {
	tb.Helper()
	var out []tarEntry
	for _, name := range KernelFiles {
		b, err := os.ReadFile(filepath.Join(vectors, "golden_minimal", name))
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, tarEntry{hdr: tar.Header{Name: prefix + name}, data: string(b)})
	}
	return out
}

// The golden vector opens with every typed field equal to the member it
// was read from.
func TestOpenGoldenTyped(t *testing.T) {
	t.Parallel()
	p, err := Open(filepath.Join(vectors, "golden_minimal"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	raw, err := os.ReadFile(filepath.Join(vectors, "golden_minimal", FileManifest))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, p.ManifestBytes) || p.Bundle {
		t.Fatal("manifest bytes differ")
	}
	// Re-encode the typed manifest and compare it member by member with
	// the file: the typed reader loses nothing the reference writes.
	typed, err := canon.Marshal(p.Manifest.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	want, err := canon.Marshal(p.Manifest.Object())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(typed, want) {
		t.Fatalf("typed manifest differs from the file:\n typed %s\n file  %s", typed, want)
	}
	a := p.Attestation()
	if a.PackID != p.Manifest.PackID || a.NReceipts != p.Manifest.ReceiptCountExpected || a.NReceipts < 1 || len(p.Files()) != 3 {
		t.Fatalf("attestation %+v files %+v", a, p.Files())
	}
	h, err := p.Manifest.AttestationHash()
	if err != nil || h != p.Manifest.AttestationSHA256 {
		t.Fatalf("attestation hash %s, manifest says %s (%v)", h, p.Manifest.AttestationSHA256, err)
	}
	it, err := p.Receipts()
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	n := 0
	for it.Next() {
		if _, ok := it.Object(); !ok {
			t.Fatalf("line %d is not an object", it.LineNo())
		}
		n++
	}
	if it.Err() != nil || n != a.NReceipts {
		t.Fatalf("%d lines (%v), attestation says %d", n, it.Err(), a.NReceipts)
	}
}

// Members of the wrong type read as zero values (NoNumber for counts),
// whole numbers in any spelling read as integers.
func TestDocOfLenient(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		json string
		n    int
		id   string
	}{
		{`{"pack_id":"p","receipt_count_expected":3}`, 3, "p"},
		{`{"pack_id":"p","receipt_count_expected":3.0}`, 3, "p"},
		{`{"pack_id":"p","receipt_count_expected":3e0}`, 3, "p"},
		{`{"pack_id":7,"receipt_count_expected":"3"}`, NoNumber, ""},
		{`{"receipt_count_expected":3.5}`, NoNumber, ""},
		{`{"receipt_count_expected":-1}`, NoNumber, ""},
		{`{"receipt_count_expected":1e400}`, NoNumber, ""},
		{`{"attestation":[],"files":[1,{"path":"a","bytes":"x"}]}`, NoNumber, ""},
	} {
		d, err := ParseManifest([]byte(c.json))
		if err != nil {
			t.Fatalf("%s: %v", c.json, err)
		}
		if d.ReceiptCountExpected != c.n || d.PackID != c.id {
			t.Errorf("%s: count %d id %q", c.json, d.ReceiptCountExpected, d.PackID)
		}
		if _, err := d.AttestationHash(); err == nil || d.HasAttestation() {
			t.Errorf("%s: no attestation object, yet a hash", c.json)
		}
		for _, f := range d.Files {
			if f.Bytes != NoNumber {
				t.Errorf("%s: files entry %+v", c.json, f)
			}
		}
	}
	for _, bad := range []string{`[1]`, `{"a":`, `"x"`} {
		if _, err := ParseManifest([]byte(bad)); exit.Code(err) != exit.Tampered {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// A bundle opens as its pack, from a private copy that Close removes.
func TestOpenBundle(t *testing.T) {
	t.Parallel()
	for _, prefix := range []string{"", "pack/", "./"} {
		base := t.TempDir()
		src := writeTgz(t, t.TempDir(), packEntries(t, prefix))
		p, err := openIn(src, base)
		if err != nil {
			t.Fatalf("prefix %q: %v", prefix, err)
		}
		if !p.Bundle || p.Path != src || !strings.HasPrefix(p.Dir, base) || p.Manifest.PackID == "" {
			t.Fatalf("prefix %q: %+v", prefix, p)
		}
		p.Close()
		if ents, _ := os.ReadDir(base); len(ents) != 0 {
			t.Fatalf("prefix %q: Close left %d entries", prefix, len(ents))
		}
	}
}

// Hostile bundles are refused (exit 3) and leave nothing behind.
func TestOpenHostileBundle(t *testing.T) {
	t.Parallel()
	man := packEntries(t, "")
	for _, c := range []struct {
		name string
		ents []tarEntry
		want string
	}{
		{"traversal", append(man[:1:1], tarEntry{hdr: tar.Header{Name: "../x"}, data: "x"}), "path traversal"},
		{"absolute", append(man[:1:1], tarEntry{hdr: tar.Header{Name: "/tmp/x"}, data: "x"}), "absolute path"},
		{"symlink", append(man[:1:1], tarEntry{hdr: tar.Header{Name: "l", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}}), "symbolic link"},
		{"hardlink", append(man[:1:1], tarEntry{hdr: tar.Header{Name: "l", Typeflag: tar.TypeLink, Linkname: "/etc/passwd"}}), "hard link"},
		{"fifo", append(man[:1:1], tarEntry{hdr: tar.Header{Name: "f", Typeflag: tar.TypeFifo}}), "FIFO"},
		{"twice", append(man[:1:1], man[0]), "appears twice"},
		{"no pack", []tarEntry{{hdr: tar.Header{Name: "a/b.txt"}, data: "x"}}, "holds no pack"},
		{"two packs", append(packEntries(t, "a/"), packEntries(t, "b/")...), "holds no pack"},
		{"manifest is a dir", []tarEntry{{hdr: tar.Header{Name: FileManifest + "/x"}, data: "x"}}, "holds no pack"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			base := t.TempDir()
			src := writeTgz(t, t.TempDir(), c.ents)
			p, err := openIn(src, base)
			if p != nil || exit.Code(err) != exit.BadInput || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v (exit %d), want %q", err, exit.Code(err), c.want)
			}
			if ents, _ := os.ReadDir(base); len(ents) != 0 {
				t.Fatalf("left %d entries behind", len(ents))
			}
		})
	}
	// A gzip bomb: refused at the size cap, nothing kept.
	t.Run("bomb", func(t *testing.T) {
		t.Parallel()
		var buf bytes.Buffer
		gz, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		tw := tar.NewWriter(gz)
		tw.WriteHeader(&tar.Header{Name: "big", Typeflag: tar.TypeReg, Size: 32 << 20, Mode: 0o644})
		zero := make([]byte, 1<<20)
		for range 32 {
			tw.Write(zero)
		}
		tw.Close()
		gz.Close()
		dir := t.TempDir()
		src := filepath.Join(dir, "bomb.tar.gz")
		os.WriteFile(src, buf.Bytes(), 0o644)
		dest := filepath.Join(dir, "out")
		err := ExtractBundle(src, dest, BundleLimits{MaxEntryBytes: 1 << 30, MaxTotalBytes: 8 << 20, MaxEntries: 10})
		if exit.Code(err) != exit.BadInput || !strings.Contains(err.Error(), "limit") {
			t.Fatalf("%d-byte bomb: %v", buf.Len(), err)
		}
		if ents, _ := os.ReadDir(dest); len(ents) != 0 {
			t.Fatalf("kept %d entries", len(ents))
		}
	})
}

// copyGolden copies the golden pack into a new directory.
func copyGolden(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range KernelFiles {
		b, err := os.ReadFile(filepath.Join(vectors, "golden_minimal", name))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, name), b, 0o644)
	}
	return dir
}

// Nothing is read through a link out of the pack, or from a FIFO or a
// device; each is bad input naming the entry.
func TestOpenHostileDir(t *testing.T) {
	t.Parallel()
	secret := filepath.Join(t.TempDir(), "secret.json")
	os.WriteFile(secret, []byte(`{"pack_id":"SECRET"}`), 0o644)

	link := copyGolden(t)
	os.Remove(filepath.Join(link, FileManifest))
	os.Symlink(secret, filepath.Join(link, FileManifest))
	if p, err := Open(link); p != nil || exit.Code(err) != exit.BadInput || strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("manifest linking out: %v", err)
	}

	fifo := copyGolden(t)
	os.Remove(filepath.Join(fifo, FileManifest))
	if err := syscall.Mkfifo(filepath.Join(fifo, FileManifest), 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := Open(fifo); done <- err }()
	select {
	case err := <-done:
		if exit.Code(err) != exit.BadInput || !strings.Contains(err.Error(), "named pipe") {
			t.Fatalf("FIFO manifest: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Open blocked on a FIFO")
	}

	// Receipts linking out: the pack opens, its receipts do not.
	rl := copyGolden(t)
	os.Remove(filepath.Join(rl, FileReceipts))
	os.Symlink(secret, filepath.Join(rl, FileReceipts))
	p, err := Open(rl)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if it, err := p.Receipts(); err == nil || it != nil {
		t.Fatal("read receipts through a link out of the pack")
	}

	for _, c := range []struct{ path, want string }{
		{filepath.Join(t.TempDir(), "nope"), "pack not found"},
		{secret, "not a pack directory or audit bundle"},
		{t.TempDir(), "no pack_manifest.json"},
	} {
		if _, err := Open(c.path); exit.Code(err) != exit.BadInput || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", c.path, err)
		}
	}
}

// A character device is refused unread, like a FIFO: /dev itself serves as
// the directory, so no privilege is needed to make one.
func TestOpenFileRefusesDevice(t *testing.T) {
	t.Parallel()
	root, err := os.OpenRoot("/dev")
	if err != nil {
		t.Fatal(err)
	}
	p := &Pack{Dir: "/dev", root: root}
	defer p.Close()
	f, err := p.OpenFile("zero")
	if f != nil || !IsRefused(err) || !strings.Contains(err.Error(), "character device") {
		t.Fatalf("opened /dev/zero: %v", err)
	}
}

// A FIFO swapped in after a preflight is still never read: the open is
// non-blocking and the opened file's own mode decides.
func TestOpenFileRefusesFIFO(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "p"), 0o644); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	p := &Pack{Dir: dir, root: root}
	defer p.Close()
	done := make(chan error, 1)
	go func() { _, err := p.OpenFile("p"); done <- err }()
	select {
	case err := <-done:
		if !IsRefused(err) {
			t.Fatalf("open of a FIFO: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("open blocked on a FIFO")
	}
}

// The receipt iterator yields every line (blank ones too, a final
// unterminated one), joins lines longer than its buffer, and stops with an
// error past MaxReceiptLine.
func TestReceiptsLines(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 3<<20)
	for _, c := range []struct {
		name, data string
		want       []string
	}{
		{"empty", "", nil},
		{"terminated", "a\nb\n", []string{"a", "b"}},
		{"unterminated", "a\nb", []string{"a", "b"}},
		{"blank", "a\n\n b\n", []string{"a", "", " b"}},
		{"long", "a\n" + long + "\nb", []string{"a", long, "b"}},
	} {
		dir := copyGolden(t)
		os.WriteFile(filepath.Join(dir, FileReceipts), []byte(c.data), 0o644)
		p, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		it, err := p.Receipts()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for it.Next() {
			got = append(got, string(it.Line()))
			if it.LineNo() != len(got) {
				t.Fatalf("%s: line number %d at line %d", c.name, it.LineNo(), len(got))
			}
		}
		if it.Err() != nil || strings.Join(got, "|") != strings.Join(c.want, "|") || len(got) != len(c.want) {
			t.Errorf("%s: %d lines (%v)", c.name, len(got), it.Err())
		}
		it.Close()
		p.Close()
	}
}

func TestReceiptsLineCap(t *testing.T) {
	t.Parallel()
	dir := copyGolden(t)
	f, err := os.Create(filepath.Join(dir, FileReceipts))
	if err != nil {
		t.Fatal(err)
	}
	chunk := bytes.Repeat([]byte("x"), 1<<20)
	for range MaxReceiptLine>>20 + 2 {
		f.Write(chunk)
	}
	f.Close()
	p, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	it, err := p.Receipts()
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	if it.Next() || exit.Code(it.Err()) != exit.BadInput || !strings.Contains(it.Err().Error(), "longer than") {
		t.Fatalf("a %d-byte line: %v", (MaxReceiptLine>>20+2)<<20, it.Err())
	}
}

// FuzzOpenBundle opens arbitrary bytes as an audit bundle: never a panic,
// only exit 2 or 3 errors, nothing kept behind on error or after Close,
// nothing written outside the private extraction directory.
func FuzzOpenBundle(f *testing.F) {
	dir := f.TempDir()
	for _, ents := range [][]tarEntry{
		packEntries(f, ""),
		packEntries(f, "pack/"),
		{{hdr: tar.Header{Name: "../x"}, data: "x"}},
		{{hdr: tar.Header{Name: FileManifest}, data: "[1]"}},
		{{hdr: tar.Header{Name: FileManifest}, data: `{"pack_id":1,"attestation":{"n_receipts":"x"}}`}},
		{{hdr: tar.Header{Name: "x", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}}},
	} {
		b, err := os.ReadFile(writeTgz(f, dir, ents))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, data []byte) {
		parent := t.TempDir()
		src := filepath.Join(parent, "in.tar.gz")
		if err := os.WriteFile(src, data, 0o644); err != nil {
			t.Fatal(err)
		}
		base := filepath.Join(parent, "tmp")
		os.Mkdir(base, 0o700)
		p, err := openIn(src, base)
		if err != nil {
			if c := exit.Code(err); c != exit.BadInput && c != exit.Tampered {
				t.Fatalf("exit %d: %v", c, err)
			}
		} else {
			_ = p.Manifest.PackID
			if it, err := p.Receipts(); err == nil {
				for it.Next() {
					it.Object()
				}
				it.Close()
			}
			p.Close()
		}
		if ents, _ := os.ReadDir(base); len(ents) != 0 {
			t.Fatalf("left %d entries in the extraction directory", len(ents))
		}
		if ents, _ := os.ReadDir(parent); len(ents) != 2 {
			t.Fatalf("wrote next to the bundle: %d entries", len(ents))
		}
	})
}

// FuzzParseManifest reads arbitrary manifest bytes: never a panic; an
// object always reads, anything else is tampering (exit 2).
func FuzzParseManifest(f *testing.F) {
	raw, err := os.ReadFile(filepath.Join(vectors, "golden_minimal", FileManifest))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add([]byte(`{"receipt_count_expected":1e999,"files":[null,{"bytes":-0.0}],"attestation":{"ci_binding":{"commit_sha":1}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseManifest(data)
		if err != nil {
			if exit.Code(err) != exit.Tampered {
				t.Fatalf("exit %d: %v", exit.Code(err), err)
			}
			return
		}
		if d.ReceiptCountExpected < NoNumber || d.Attestation.NReceipts < NoNumber {
			t.Fatalf("negative count %d", d.ReceiptCountExpected)
		}
		d.SigningBytes()
		if _, err := d.AttestationHash(); err != nil && d.HasAttestation() && errors.Is(err, errNoAttestation) {
			t.Fatal("an attestation object, yet none")
		}
	})
}

// Tee sees every byte the lines came from, newlines and all.
func TestReceiptsTee(t *testing.T) {
	t.Parallel()
	for _, data := range []string{"", "a\n\nb\n", "a\nb", strings.Repeat("y", 2<<20) + "\nz"} {
		dir := copyGolden(t)
		os.WriteFile(filepath.Join(dir, FileReceipts), []byte(data), 0o644)
		p, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		it, err := p.Receipts()
		if err != nil {
			t.Fatal(err)
		}
		var seen bytes.Buffer
		it.Tee(&seen)
		for it.Next() {
		}
		if it.Err() != nil || seen.String() != data {
			t.Errorf("%d bytes: tee saw %d (%v)", len(data), seen.Len(), it.Err())
		}
		it.Close()
		p.Close()
	}
}
