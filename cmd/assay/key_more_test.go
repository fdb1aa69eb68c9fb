package main

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/lock"
)

func mode(t *testing.T, p string) os.FileMode {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func TestKeyRotateRevoke(t *testing.T) {
	home, _ := ckProcessEnv(t)
	ks := keys.Open(home)
	if code, _, errs := ckRun(t, "key", "generate"); code != 0 {
		t.Fatal(errs)
	}
	oldFP, _ := ks.FingerprintOf("assay-local")
	if code, _, errs := ckRun(t, "lock", "write", "--cards", "receipt_completeness"); code != 0 {
		t.Fatal(errs)
	}
	keyNow = func() time.Time { return time.Date(2026, 1, 15, 11, 59, 0, 0, time.UTC) }
	defer func() { keyNow = time.Now }()
	code, out, errs := ckRun(t, "key", "rotate", "--lock", "assay.lock", "--json")
	var rot struct {
		New    string `json:"new_signer"`
		NewFP  string `json:"new_fingerprint"`
		OldFP  string `json:"old_fingerprint"`
		Active string `json:"active_signer"`
	}
	ckJSON(t, out, &rot)
	if code != 0 || rot.New != "assay-local-20260115115900" || rot.OldFP != oldFP || rot.Active != "assay-local" {
		t.Fatalf("rotate: %d %+v %s", code, rot, errs)
	}
	l, _ := lock.Load("assay.lock")
	if l.SignerPolicy.Mode != "allowlist" || strings.Join(l.SignerPolicy.AllowedFingerprints, ",") != oldFP+","+rot.NewFP || len(lock.Validate(l)) != 0 {
		t.Fatalf("lock after rotate: %+v", l.SignerPolicy)
	}
	if code, _, _ := ckRun(t, "key", "rotate", "--new-signer", "assay-local"); code != 3 {
		t.Error("rotate onto itself accepted")
	}
	ckOneLine(t, []string{"key", "rotate", "--signer", "ghost"}, `no signer "ghost" to rotate`)
	ckOneLine(t, []string{"key", "rotate", "--new-signer", "assay-local-20260115115900"}, "already exists")
	ckOneLine(t, []string{"key", "rotate", "--lock", "missing.lock"}, "lock file not found")

	// revoke: out of the lock, then the files; the last one empties the list.
	if code, out, _ := ckRun(t, "key", "revoke", "assay-local", "--lock", "assay.lock", "--delete"); code != 0 || !strings.Contains(out, "(1 left)") {
		t.Errorf("revoke: %d %q", code, out)
	}
	if ks.Exists("assay-local") || fileExists(ks.PubPath("assay-local")) {
		t.Error("revoke --delete left key files")
	}
	ckOneLine(t, []string{"key", "revoke", oldFP, "--lock", "assay.lock"}, "is not in the allowlist")
	if code, _, _ := ckRun(t, "key", "revoke", rot.NewFP, "--lock", "assay.lock"); code != 0 {
		t.Error("revoke by fingerprint")
	}
	if code, out, _ := ckRun(t, "lock", "check"); code != 1 || !strings.Contains(out, "empty allowed_fingerprints") {
		t.Errorf("emptied allowlist: %d %q", code, out)
	}
	ckOneLine(t, []string{"key", "revoke", "assay-local-20260115115900"}, "nothing to revoke from")
	ckOneLine(t, []string{"key", "revoke", "ghost", "--delete"}, `no signer "ghost"`)
	ckOneLine(t, []string{"key", "revoke", rot.NewFP, "--delete"}, "--delete needs a signer id")
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func TestKeyExportImport(t *testing.T) {
	home, dir := ckProcessEnv(t) // relative paths: the CLI resolves them in the process's working directory
	ks := keys.Open(home)
	if code, _, errs := ckRun(t, "key", "generate", "ci"); code != 0 {
		t.Fatal(errs)
	}
	sg, _ := ks.Load("ci")
	seedB64 := base64.StdEncoding.EncodeToString(sg.Private.Seed())

	// Public export: no private key file, nothing secret printed.
	code, out, errs := ckRun(t, "key", "export", "ci", "-o", "pub")
	if code != 0 || fileExists(filepath.Join(dir, "pub", "ci.key.b64")) {
		t.Fatalf("export: %d %q %q", code, out, errs)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "pub", "ci.pub.b64"))
	fpb, _ := os.ReadFile(filepath.Join(dir, "pub", "ci.fingerprint"))
	if string(b) != keys.PubB64(sg.Public())+"\n" || string(fpb) != keys.Fingerprint(sg.Public())+"\n" {
		t.Errorf("export contents %q %q", b, fpb)
	}
	// Private export: 0600 file, and the seed never on stdout/stderr.
	code, out, errs = ckRun(t, "key", "export", "ci", "--private", "-o", "full", "--json")
	kp := filepath.Join("full", "ci.key.b64") // relative: the CLI resolves it in dir
	kpAbs := filepath.Join(dir, kp)
	if code != 0 || mode(t, kpAbs) != 0o600 || strings.Contains(out+errs, seedB64) {
		t.Fatalf("private export: %d mode %v %q", code, mode(t, kp), out)
	}
	if kb, _ := os.ReadFile(kpAbs); string(kb) != seedB64+"\n" {
		t.Error("private export contents")
	}

	// Import into another home: public only, then the pair.
	ckSetenv(t, "ASSAY_HOME", filepath.Join(dir, "other"))
	ks2 := keys.Open(filepath.Join(dir, "other"))
	if code, out, _ := ckRun(t, "key", "import", filepath.Join("pub", "ci.pub.b64")); code != 0 || !strings.Contains(out, "Imported public key ci") {
		t.Fatalf("import pub: %d %q", code, out)
	}
	if ks2.Exists("ci") || !fileExists(ks2.PubPath("ci")) {
		t.Error("public import wrote a private key or no .pub")
	}
	if code, out, errs := ckRun(t, "key", "import", filepath.Join("full", "ci.pub.b64"), "--private", kp, "--set-active"); code != 0 || strings.Contains(out+errs, seedB64) {
		t.Fatalf("import pair: %d %q %q", code, out, errs)
	}
	if !ks2.Exists("ci") || ks2.Active() != "ci" || mode(t, ks2.KeyPath("ci")) != 0o600 {
		t.Error("pair import")
	}
	got, _ := ks2.Load("ci")
	if !got.Private.Equal(sg.Private) {
		t.Error("imported key differs")
	}

	// Bad input: a pair that does not match, junk files, id clashes.
	if code, _, _ := ckRun(t, "key", "generate", "other-key", "--no-set-active"); code != 0 {
		t.Fatal("generate")
	}
	if code, _, _ := ckRun(t, "key", "export", "other-key", "-o", "o"); code != 0 {
		t.Fatal("export other")
	}
	ckOneLine(t, []string{"key", "import", filepath.Join("o", "other-key.pub.b64"), "--private", kp, "--signer", "mix"}, "does not belong to public key")
	_ = os.WriteFile(filepath.Join(dir, "junk.pub.b64"), []byte("%%%\n"), 0o644)
	ckOneLine(t, []string{"key", "import", "junk.pub.b64"}, "is not base64")
	_ = os.WriteFile(filepath.Join(dir, "short.pub.b64"), []byte("AAAA\n"), 0o644)
	ckOneLine(t, []string{"key", "import", "short.pub.b64"}, "holds 3 bytes, want 32")
	ckOneLine(t, []string{"key", "import", filepath.Join("o", "other-key.pub.b64"), "--signer", "ci"}, "already exists")
	ckOneLine(t, []string{"key", "import", "nofile.pub.b64"}, "cannot read public key file")
	ckOneLine(t, []string{"key", "import", filepath.Join("pub", "ci.pub.b64"), "--set-active"}, "--set-active needs a private key")
	ckOneLine(t, []string{"key", "export", "ghost"}, `no public key for signer "ghost"`)
	ckOneLine(t, []string{"key", "export", "../x"}, "invalid signer id")
}
