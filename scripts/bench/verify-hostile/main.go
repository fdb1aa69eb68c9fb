// Command verify-hostile builds validly signed hostile packs (signed with
// an attacker's own key) and runs the assay binary given as its argument
// on each, printing wall time, CPU time (user+system) and peak RSS of the
// child, its exit code and the size of its stdout. Run it through
// scripts/bench/verify-hostile.sh.
package main

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/verify/verifytest"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: verify-hostile ASSAY_BINARY")
		os.Exit(3)
	}
	bin := os.Args[1]
	work, err := os.MkdirTemp("", "assay-hostile-")
	must(err)
	defer os.RemoveAll(work)

	empty := filepath.Join(work, "empty50k")
	build(empty, verifytest.EmptyReceipts(50_000))
	// "plain": 50,000 {} lines swapped into an honest pack without
	// re-signing (tampered at the file hash).
	plain := filepath.Join(work, "plain50k")
	must(verifytest.Build(plain, 3, verifytest.Attacker))
	f, err := os.Create(filepath.Join(plain, pack.FileReceipts))
	must(err)
	must(verifytest.EmptyReceipts(50_000).Write(f))
	must(f.Close())
	bundle := filepath.Join(work, "empty50k.tar.gz")
	must(tarGz(empty, bundle))
	names := filepath.Join(work, "names100k")
	must(verifytest.Build(names, 3, verifytest.Attacker))
	must(verifytest.ExpectedNames(names, 100_000, verifytest.Attacker))
	newlines := filepath.Join(work, "newlines50m")
	build(newlines, verifytest.Newlines(50<<20))

	fmt.Printf("%-44s %9s %9s %10s %5s %9s\n", "case", "wall", "cpu", "peak RSS", "exit", "stdout")
	run(bin, "50,000 {} receipts, plain (not re-signed)", plain)
	run(bin, "50,000 {} receipts, plain --json", plain, "--json")
	run(bin, "50,000 {} receipts, re-signed", empty)
	run(bin, "50,000 {} receipts, re-signed --json", empty, "--json")
	run(bin, "50,000 {} receipts, bundle", bundle)
	run(bin, "50,000 {} receipts, bundle --json", bundle, "--json")
	run(bin, "100,000 expected names, re-signed", names)
	run(bin, "50 MiB of newlines, re-signed", newlines)
	run(bin, "50 MiB of newlines, re-signed --json", newlines, "--json")
	for _, name := range pack.KernelFiles {
		dir := filepath.Join(work, "fifo-"+name)
		must(verifytest.Build(dir, 3, verifytest.Attacker))
		must(os.Remove(filepath.Join(dir, name)))
		must(syscall.Mkfifo(filepath.Join(dir, name), 0o644))
		run(bin, "FIFO as "+name, dir)
	}
}

func build(dir string, rc verifytest.Receipts) {
	must(verifytest.Build(dir, 3, verifytest.Attacker))
	if rc.Write != nil {
		must(verifytest.Replace(dir, rc, verifytest.Attacker))
	}
}

// run verifies one pack in a child and prints its figures. A child still
// running after a minute is killed and reported as a hang.
func run(bin, name, path string, extra ...string) {
	cmd := exec.Command(bin, append([]string{"verify-pack", path}, extra...)...)
	cmd.Env = append(os.Environ(), "ASSAY_HOME="+filepath.Join(os.TempDir(), "assay-hostile-home"))
	var out countWriter
	cmd.Stdout = &out
	start := time.Now()
	must(cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		<-done
		fmt.Printf("%-44s HANG (killed after 1 min)\n", name)
		return
	}
	wall := time.Since(start)
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	fmt.Printf("%-44s %7.0fms %7.0fms %7.1fMiB %5d %8dB\n", name, ms(wall), ms(cpu), float64(ru.Maxrss)/1024, cmd.ProcessState.ExitCode(), out.n)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// tarGz writes the pack as an audit-bundle-shaped archive (files at the
// root), without the verification bundling would do first.
func tarGz(dir, out string) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	for _, name := range pack.KernelFiles {
		p := filepath.Join(dir, name)
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: st.Size(), ModTime: st.ModTime(), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		src, err := os.Open(p)
		if err != nil {
			return err
		}
		_, err = io.Copy(tw, src)
		src.Close()
		if err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "verify-hostile:", err)
		os.Exit(1)
	}
}
