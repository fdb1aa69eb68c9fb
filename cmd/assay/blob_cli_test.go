package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/blob/blobtest"
	"github.com/assay-dev/assay/core/store"
)

// The object-storage commands, each run as its own process (os.Args[0]
// as the CLI) with an explicit environment: the S3 test server's
// credentials, a fresh home, no shared AWS config and no instance
// metadata lookups.

type storeCLI struct {
	t    *testing.T
	home string
	env  []string
}

func newStoreCLI(t *testing.T, extra []string) *storeCLI {
	home := t.TempDir()
	env := []string{
		envAsCLI + "=1", store.EnvHome + "=" + home, "HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"ASSAY_BIN=" + os.Args[0],
	}
	return &storeCLI{t: t, home: home, env: append(env, extra...)}
}

// start prepares the CLI process for args.
func (c *storeCLI) cmd(args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = c.env
	cmd.Dir = c.t.TempDir()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	return cmd, &out, &errb
}

// run runs the CLI and returns its exit code, stdout and stderr.
func (c *storeCLI) run(args ...string) (int, string, string) {
	c.t.Helper()
	cmd, out, errb := c.cmd(args...)
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		c.t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

// trace records n receipts in a new trace and returns its id.
func (c *storeCLI) trace(n int) string {
	c.t.Helper()
	id := store.NewTraceID()
	for i := 0; i < n; i++ {
		cmd, _, errb := c.cmd("emit", "guardian_verdict", "verdict=allow", "tool=t")
		cmd.Env = append(cmd.Env, store.EnvTrace+"="+id)
		if err := cmd.Run(); err != nil {
			c.t.Fatalf("emit: %v: %s", err, errb)
		}
	}
	return id
}

// TestStorageCLIRoundTrip: run -o URL, proof-pack -o URL, verify-pack URL,
// audit bundle URL -o URL, verify-pack of the bundle URL, packs list URL,
// against the S3 test server and a file:// bucket; nothing stays in the
// outbox after a successful upload.
func TestStorageCLIRoundTrip(t *testing.T) {
	t.Parallel()
	s3 := blobtest.Start(t, "packs", blobtest.Options{})
	fileRoot := t.TempDir()
	for _, c := range []struct {
		name string
		url  func(string) string
		env  []string
	}{
		{"s3", s3.URL, s3.Env()},
		{"file", func(p string) string { return "file://" + filepath.ToSlash(filepath.Join(fileRoot, p)) }, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cli := newStoreCLI(t, c.env)
			code, out, errs := cli.run("run", "--json", "-o", c.url("runs/r1/"), "--", "sh", "-c", `"$ASSAY_BIN" emit guardian_verdict verdict=allow tool=a && "$ASSAY_BIN" emit guardian_verdict verdict=deny tool=b`)
			if code != 0 {
				t.Fatalf("run -o URL: exit %d\n%s\n%s", code, out, errs)
			}
			var run struct {
				OutputDir string `json:"output_dir"`
				NReceipts int    `json:"n_receipts"`
			}
			if err := json.Unmarshal([]byte(out), &run); err != nil || run.OutputDir != c.url("runs/r1/") || run.NReceipts != 2 {
				t.Fatalf("run --json: %v %s", err, out)
			}
			code, out, errs = cli.run("proof-pack", cli.trace(3), "-o", c.url("runs/r2/"))
			if code != 0 || !strings.Contains(out, "Next: assay verify-pack '"+c.url("runs/r2/")+"'") {
				t.Fatalf("proof-pack -o URL: exit %d\n%s\n%s", code, out, errs)
			}
			for _, p := range []string{"runs/r1/", "runs/r2/"} {
				code, out, errs = cli.run("verify-pack", "--json", c.url(p))
				if code != 0 || !strings.Contains(out, `"verdict": "PASS"`) {
					t.Fatalf("verify-pack %s: exit %d\n%s\n%s", p, code, out, errs)
				}
			}
			code, out, errs = cli.run("audit", "bundle", c.url("runs/r1/"), "-o", c.url("bundles/r1.tar.gz"), "--json")
			if code != 0 {
				t.Fatalf("audit bundle URL -o URL: exit %d\n%s\n%s", code, out, errs)
			}
			if code, out, errs = cli.run("verify-pack", c.url("bundles/r1.tar.gz")); code != 0 {
				t.Fatalf("verify-pack bundle URL: exit %d\n%s\n%s", code, out, errs)
			}
			code, out, errs = cli.run("packs", "list", "--json", c.url("runs/"))
			var list struct {
				Packs []struct {
					Path      string `json:"path"`
					NReceipts int    `json:"n_receipts"`
				} `json:"packs"`
			}
			if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || len(list.Packs) != 2 {
				t.Fatalf("packs list URL: exit %d %v\n%s\n%s", code, err, out, errs)
			}
			// A second publish to the same prefix is refused in one line.
			code, out, errs = cli.run("proof-pack", cli.trace(1), "-o", c.url("runs/r2/"))
			if code != 3 || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "a pack already exists at") {
				t.Fatalf("publish over a pack: exit %d\n%s\n%s", code, out, errs)
			}
			if ents, _ := os.ReadDir(filepath.Join(cli.home, "outbox")); len(ents) != 0 {
				t.Fatalf("outbox not emptied after successful uploads: %v", ents)
			}
		})
	}
}

// TestStorageCLIKilledUpload: proof-pack is SIGKILLed while the server
// holds one of its uploads (a receipt file midway; the manifest, the very
// last object): what is in the bucket is not a pack to verify-pack or
// packs list.
func TestStorageCLIKilledUpload(t *testing.T) {
	t.Parallel()
	for _, stallOn := range []string{"receipt_pack.jsonl", "pack_manifest.json"} {
		t.Run(stallOn, func(t *testing.T) {
			t.Parallel()
			s3 := blobtest.Start(t, "packs", blobtest.Options{Stall: func(key string) bool { return strings.HasSuffix(key, "killed/pack/"+stallOn) }})
			cli := newStoreCLI(t, s3.Env())
			cmd, _, _ := cli.cmd("proof-pack", cli.trace(20), "-o", s3.URL("killed/pack/"))
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			<-s3.Stalled // the upload is under way, held by the server
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			code, out, errs := cli.run("verify-pack", s3.URL("killed/pack/"))
			if code != 3 || !strings.Contains(errs, "no pack_manifest.json at s3://packs/killed/pack/: not a pack") {
				t.Fatalf("verify-pack after a killed upload: exit %d\n%s\n%s", code, out, errs)
			}
			code, out, errs = cli.run("packs", "list", "--json", s3.URL("killed/"))
			if code != 0 || !strings.Contains(out, `"packs": []`) {
				t.Fatalf("packs list after a killed upload: exit %d\n%s\n%s", code, out, errs)
			}
		})
	}
}

// TestStorageCLIUploadFails: the server drops every upload: proof-pack
// exits 3 with one line saying the upload failed and where the local copy
// is; that copy verifies, and packs push publishes it elsewhere.
func TestStorageCLIUploadFails(t *testing.T) {
	t.Parallel()
	s3 := blobtest.Start(t, "packs", blobtest.Options{DropPutAfter: 1})
	cli := newStoreCLI(t, s3.Env())
	code, out, errs := cli.run("proof-pack", cli.trace(5), "-o", s3.URL("lost/pack/"))
	lines := strings.Split(strings.TrimRight(errs, "\n"), "\n")
	if code != 3 || out != "" || len(lines) != 1 || !strings.Contains(errs, "upload to s3://packs/lost/pack/ failed") || !strings.Contains(errs, "the local copy is kept at ") {
		t.Fatalf("failed upload: exit %d\n%s\n%s", code, out, errs)
	}
	if strings.Contains(errs, blobtest.SecretKey) || strings.Contains(errs, blobtest.AccessKey) {
		t.Fatalf("error leaks a credential: %s", errs)
	}
	local := strings.SplitN(strings.SplitN(errs, "the local copy is kept at ", 2)[1], " ", 2)[0]
	local = strings.TrimSuffix(local, ";")
	if !strings.HasPrefix(local, filepath.Join(cli.home, "outbox")) {
		t.Fatalf("local copy %q is not in the outbox", local)
	}
	if code, out, errs := cli.run("verify-pack", local); code != 0 {
		t.Fatalf("the kept local copy does not verify: exit %d\n%s\n%s", code, out, errs)
	}
	dst := "file://" + filepath.ToSlash(filepath.Join(t.TempDir(), "retry")) + "/"
	if code, out, errs := cli.run("packs", "push", local, dst); code != 0 {
		t.Fatalf("packs push: exit %d\n%s\n%s", code, out, errs)
	}
	if code, out, errs := cli.run("verify-pack", dst); code != 0 {
		t.Fatalf("verify-pack of the pushed copy: exit %d\n%s\n%s", code, out, errs)
	}
}
