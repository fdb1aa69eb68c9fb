package scan

import (
	"os"

	"golang.org/x/sys/unix"
)

// fastReader reads the common file (a regular file reached beneath the
// scan root through no link, within the byte cap) with the system calls
// `cat` makes: one openat2 that the kernel confines to the root
// (RESOLVE_BENEATH, no symlinks), fstat, read, close, into a buffer the
// worker reuses. Anything else (a link, a FIFO, a file over the cap, any
// error) is left to readSource, which opens through os.Root and decides
// as before; so the bytes read and every refusal are the same.
type fastReader struct {
	root *os.File // the scan root, opened through its os.Root; nil: off
	fd   int
	buf  []byte
}

func newFastReader(root *os.Root) *fastReader {
	f, err := root.Open(".")
	if err != nil {
		return nil
	}
	return &fastReader{root: f, fd: int(f.Fd())}
}

func (r *fastReader) close() {
	if r != nil && r.root != nil {
		r.root.Close()
	}
}

// worker returns a reader sharing r's root fd, with its own buffer.
func (r *fastReader) worker() *fastReader {
	if r == nil || r.root == nil {
		return nil
	}
	return &fastReader{root: r.root, fd: r.fd}
}

// read returns rel's bytes, or ok false when readSource must decide. With
// reuse the bytes live in r's buffer until the next read.
func (r *fastReader) read(rel string, max int64, reuse bool) (src []byte, ok bool) {
	if r == nil || r.root == nil {
		return nil, false
	}
	how := unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_NONBLOCK | unix.O_NOCTTY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	}
	var fd int
	var err error
	for {
		fd, err = unix.Openat2(r.fd, rel, &how)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		if err == unix.ENOSYS || err == unix.EPERM {
			r.root = nil // readSource for every file from now on
		}
		return nil, false
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || (max > 0 && st.Size > max) {
		return nil, false
	}
	// Sized from the stat plus room to see EOF (or growth) in one read.
	want := int(st.Size) + 512
	buf := r.buf
	if !reuse || cap(buf) < want {
		buf = make([]byte, 0, want)
		if reuse && want <= keepBuffer {
			r.buf = buf
		}
	}
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, false
		}
		if n == 0 {
			break
		}
		buf = buf[:len(buf)+n]
		if max > 0 && int64(len(buf)) > max {
			return nil, false // it grew past the cap: readSource refuses it
		}
	}
	return buf, true
}

// keepBuffer bounds the buffer a worker keeps between files.
const keepBuffer = 1 << 20
