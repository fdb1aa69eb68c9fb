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
	write(member(hdr.Bytes()))
	const chunk = 1 << 20
	zeros := member(make([]byte, chunk))
	for n := int64(0); n < size/chunk; n++ {
		write(zeros)
	}
	pad := (512 - size%512) % 512
	write(member(make([]byte, size%chunk+pad+1024))) // the rest, block padding, end-of-archive blocks
}
