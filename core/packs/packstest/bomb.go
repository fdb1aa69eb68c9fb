package packstest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"testing"
)

// GzipBomb writes to path a .tar.gz whose single entry `name` declares and
// holds `size` zero bytes, streaming: one gzip member of 1 MiB of zeros is
// compressed once and repeated (gzip readers concatenate members), so a
// 1 GiB entry costs about 1 MB on disk and never a 1 GiB buffer.
func GzipBomb(t testing.TB, path, name string, size int64) {
	t.Helper()
	GzipBombAmong(t, path, nil, name, size, nil)
}

// TarFile is a regular file of a hand-made archive.
type TarFile struct {
	Name string
	Data []byte
}

// GzipBombAmong is GzipBomb with the regular files before written ahead
// of the bomb entry and those after behind it, in order.
func GzipBombAmong(t testing.TB, path string, before []TarFile, name string, size int64, after []TarFile) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	member := func(data []byte) []byte {
		var b bytes.Buffer
		gz, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		gz.Write(data)
		gz.Close()
		return b.Bytes()
	}
	// files is the tar stream of fs (headers, data, block padding).
	files := func(fs []TarFile) []byte {
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		for _, e := range fs {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: e.Name, Size: int64(len(e.Data)), Mode: 0o644}); err != nil {
				t.Fatal(err)
			}
			tw.Write(e.Data)
		}
		tw.Flush() // no end-of-archive blocks: more entries follow
		return b.Bytes()
	}
	var hdr bytes.Buffer
	tw := tar.NewWriter(&hdr)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o644}); err != nil {
		t.Fatal(err)
	}
	tw.Flush() // the header block only; the data follows as gzip members
	write := func(b []byte) {
		if _, err := f.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	write(member(append(files(before), hdr.Bytes()...)))
	const chunk = 1 << 20
	zeros := member(make([]byte, chunk))
	for n := int64(0); n < size/chunk; n++ {
		write(zeros)
	}
	pad := (512 - size%512) % 512
	// The rest of the bomb and its block padding, the files after, the
	// end-of-archive blocks.
	write(member(append(append(make([]byte, size%chunk+pad), files(after)...), make([]byte, 1024)...)))
}
