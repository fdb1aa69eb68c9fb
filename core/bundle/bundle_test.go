package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/packs/packstest"
	"github.com/assay-dev/assay/core/verify"
)

func buildPack(t *testing.T) string {
	dir := filepath.Join(t.TempDir(), "proof_pack_x")
	packstest.Build(t, dir, append(packstest.Generic(9), packstest.ModelCall(9, packstest.Call{Model: "gpt-4o", In: 10, Out: 5, LatencyMs: 9})), packstest.DiffClaims[:1])
	// An _unsigned sidecar and a stale root-level copy of a bundle file,
	// which the bundle replaces.
	os.MkdirAll(filepath.Join(dir, "_unsigned"), 0o755)
	os.WriteFile(filepath.Join(dir, "_unsigned", "PACK_SUMMARY.md"), []byte("sidecar\n"), 0o644)
	os.WriteFile(filepath.Join(dir, FileSignerInfo), []byte(`{"signer_id":"forged"}`), 0o644)
	return dir
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	dir := buildPack(t)
	out := filepath.Join(t.TempDir(), "b.tar.gz")
	res, err := Create(dir, out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != verify.VerdictPass || res.Bytes == 0 {
		t.Fatalf("result %+v", res)
	}
	dest := filepath.Join(t.TempDir(), "x")
	if err := Extract(out, dest); err != nil {
		t.Fatal(err)
	}
	var names []string
	filepath.Walk(dest, func(p string, info os.FileInfo, err error) error {
		if !info.IsDir() {
			rel, _ := filepath.Rel(dest, p)
			names = append(names, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(names)
	want := []string{"PACK_SUMMARY.md", "SIGNER_INFO.json", "VERIFY_INSTRUCTIONS.md", "VERIFY_RESULT.json", "_unsigned/PACK_SUMMARY.md",
		"pack_manifest.json", "pack_signature.sig", "receipt_pack.jsonl", "verify_report.json", "verify_transcript.md"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("bundle files %v\nwant %v", names, want)
	}
	// The pack files are byte-identical, and the extracted pack verifies.
	for _, f := range []string{"pack_manifest.json", "pack_signature.sig", "receipt_pack.jsonl", "verify_report.json", "verify_transcript.md", "_unsigned/PACK_SUMMARY.md"} {
		a, _ := os.ReadFile(filepath.Join(dir, f))
		b, _ := os.ReadFile(filepath.Join(dest, f))
		if !bytes.Equal(a, b) {
			t.Fatalf("%s differs after the round trip", f)
		}
	}
	vr, err := verify.Verify(dest, verify.Options{})
	if err != nil || vr.ExitCode != 0 {
		t.Fatalf("extracted pack: %v %+v", err, vr)
	}
	// pack.Open gives the same pack from the bundle and cleans up on Close.
	pk, err := pack.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	pd := pk.Dir
	if vr2, _ := verify.VerifyPack(pk, verify.Options{}); vr2.ExitCode != 0 || !pk.Bundle {
		t.Fatal("the bundle's pack fails")
	}
	pk.Close()
	if _, err := os.Stat(pd); !os.IsNotExist(err) {
		t.Fatal("Close left the temp dir")
	}
	// The added files say what they should.
	var si SignerInfo
	raw, _ := os.ReadFile(filepath.Join(dest, FileSignerInfo))
	json.Unmarshal(raw, &si)
	if si.SignerID != "packstest" || len(si.SignerPubkeySHA256) != 64 || si.SignatureAlg != "ed25519" {
		t.Fatalf("SIGNER_INFO %+v", si)
	}
	var vrj map[string]any
	raw, _ = os.ReadFile(filepath.Join(dest, FileResult))
	json.Unmarshal(raw, &vrj)
	if vrj["verified_at_bundle_time"] != true || vrj["verdict"] != "PASS" || vrj["exit_code"] != float64(0) {
		t.Fatalf("VERIFY_RESULT %v", vrj)
	}
	instr, _ := os.ReadFile(filepath.Join(dest, FileInstructions))
	for _, s := range []string{"pip install assay-ai", "assay verify-pack .", "assay verify-pack audit_bundle_", "verify-signer", si.SignerPubkeySHA256, "| 2 |"} {
		if !bytes.Contains(instr, []byte(s)) {
			t.Errorf("VERIFY_INSTRUCTIONS.md lacks %q", s)
		}
	}
	sum, _ := os.ReadFile(filepath.Join(dest, FileSummary))
	for _, s := range []string{"# Proof pack pack_", "| model_call | 1 |", "enough_receipts", "PASS"} {
		if !bytes.Contains(sum, []byte(s)) {
			t.Errorf("PACK_SUMMARY.md lacks %q:\n%s", s, sum)
		}
	}
}

func TestCreateRefuses(t *testing.T) {
	t.Parallel()
	dir := buildPack(t)
	tampered := filepath.Join(t.TempDir(), "proof_pack_t")
	packstest.Copy(t, dir, tampered)
	packstest.FlipByte(t, filepath.Join(tampered, "receipt_pack.jsonl"), -1)
	outDir := t.TempDir()
	link := filepath.Join(t.TempDir(), "proof_pack_link")
	packstest.Copy(t, dir, link)
	os.Symlink("/etc/passwd", filepath.Join(link, "_unsigned", "passwd"))
	for _, c := range []struct {
		name, dir, out string
		code           int
	}{
		{"tampered", tampered, filepath.Join(outDir, "t.tar.gz"), exit.Tampered},
		{"missing", filepath.Join(outDir, "nope"), filepath.Join(outDir, "m.tar.gz"), exit.BadInput},
		{"not a pack", outDir, filepath.Join(outDir, "n.tar.gz"), exit.BadInput},
		{"output inside pack", dir, filepath.Join(dir, "b.tar.gz"), exit.BadInput},
		{"output is a dir", dir, outDir, exit.BadInput},
		{"symlink in pack", link, filepath.Join(outDir, "l.tar.gz"), exit.BadInput},
	} {
		_, err := Create(c.dir, c.out)
		if exit.Code(err) != c.code {
			t.Errorf("%s: exit %d (%v), want %d", c.name, exit.Code(err), err, c.code)
		}
		if c.out != outDir {
			if _, err := os.Stat(c.out); !os.IsNotExist(err) {
				t.Errorf("%s: wrote %s", c.name, c.out)
			}
		}
	}
	if ents, _ := os.ReadDir(outDir); len(ents) != 0 {
		t.Fatalf("left files behind: %v", ents)
	}
}

type entry struct {
	hdr  tar.Header
	data string
}

func writeTgz(t *testing.T, entries []entry) string { return writeTgzF(t, entries) }

func writeTgzF(t testing.TB, entries []entry) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "evil.tar.gz")
	f, _ := os.Create(p)
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		h := e.hdr
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.data))
		}
		h.Mode = 0o644
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, e.data)
	}
	tw.Close()
	gz.Close()
	f.Close()
	return p
}

func bombTgz(t *testing.T, name string, size int64) string {
	p := filepath.Join(t.TempDir(), "bomb.tar.gz")
	packstest.GzipBomb(t, p, name, size)
	return p
}

func TestExtractRefusesUnsafeBundles(t *testing.T) {
	t.Parallel()
	bomb := bombTgz(t, "receipt_pack.jsonl", 1<<30)
	if st, _ := os.Stat(bomb); st.Size() > 8<<20 {
		t.Fatalf("bomb is %d bytes on disk", st.Size())
	}
	// The bomb builder makes real archives: a small one extracts whole.
	small := bombTgz(t, "zeros", 3<<20+5)
	sd := filepath.Join(t.TempDir(), "small")
	if err := Extract(small, sd); err != nil {
		t.Fatalf("small bomb-shaped archive: %v", err)
	}
	if st, err := os.Stat(filepath.Join(sd, "zeros")); err != nil || st.Size() != 3<<20+5 {
		t.Fatalf("small archive extracted wrong: %v", err)
	}
	cases := map[string]string{
		"dotdot":      writeTgz(t, []entry{{hdr: tar.Header{Name: "pack_manifest.json"}, data: "{}"}, {hdr: tar.Header{Name: "../x"}, data: "escaped"}}),
		"nested":      writeTgz(t, []entry{{hdr: tar.Header{Name: "a/../../x"}, data: "escaped"}}),
		"absolute":    writeTgz(t, []entry{{hdr: tar.Header{Name: "/tmp/assay-bundle-test-abs-x"}, data: "escaped"}}),
		"symlink":     writeTgz(t, []entry{{hdr: tar.Header{Name: "x", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}}}),
		"symlink dir": writeTgz(t, []entry{{hdr: tar.Header{Name: "d", Typeflag: tar.TypeSymlink, Linkname: ".."}}, {hdr: tar.Header{Name: "d/x"}, data: "escaped"}}),
		"hardlink":    writeTgz(t, []entry{{hdr: tar.Header{Name: "x", Typeflag: tar.TypeLink, Linkname: "/etc/passwd"}}}),
		"device":      writeTgz(t, []entry{{hdr: tar.Header{Name: "x", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3}}}),
		"fifo":        writeTgz(t, []entry{{hdr: tar.Header{Name: "x", Typeflag: tar.TypeFifo}}}),
		"duplicate":   writeTgz(t, []entry{{hdr: tar.Header{Name: "x"}, data: "a"}, {hdr: tar.Header{Name: "./x"}, data: "b"}}),
		"backslash":   writeTgz(t, []entry{{hdr: tar.Header{Name: `..\x`}, data: "a"}}),
		"gzip bomb":   bomb,
		"empty":       writeTgz(t, nil),
		"not gzip": func() string {
			p := filepath.Join(t.TempDir(), "x.tar.gz")
			os.WriteFile(p, []byte("plain"), 0o644)
			return p
		}(),
		"missing file": filepath.Join(t.TempDir(), "none.tar.gz"),
	}
	for name, tgz := range cases {
		t.Run(name, func(t *testing.T) {
			parent := t.TempDir()
			dest := filepath.Join(parent, "dest")
			err := Extract(tgz, dest)
			if exit.Code(err) != exit.BadInput || err == nil || strings.Contains(err.Error(), "\n") {
				t.Fatalf("exit %d: %v", exit.Code(err), err)
			}
			// Nothing outside dest, nothing kept inside it.
			if ents, _ := os.ReadDir(parent); len(ents) > 1 {
				t.Fatalf("wrote outside the destination: %v", ents)
			}
			if ents, _ := os.ReadDir(dest); len(ents) != 0 {
				t.Fatalf("kept %d entries of a refused bundle", len(ents))
			}
		})
	}
	if _, err := os.Stat("/tmp/assay-bundle-test-abs-x"); err == nil {
		t.Fatal("absolute path was written")
	}
}

// Totals and counts are capped too, with limits small enough to test.
func TestExtractLimits(t *testing.T) {
	t.Parallel()
	mb := strings.Repeat("z", 1<<20)
	three := writeTgz(t, []entry{{hdr: tar.Header{Name: "a"}, data: mb}, {hdr: tar.Header{Name: "b"}, data: mb}, {hdr: tar.Header{Name: "c"}, data: mb}})
	lim := Limits{MaxEntryBytes: 1 << 20, MaxTotalBytes: 2 << 20, MaxEntries: 10}
	if err := ExtractWithLimits(three, filepath.Join(t.TempDir(), "d"), lim); exit.Code(err) != exit.BadInput || !strings.Contains(err.Error(), `"c"`) {
		t.Fatalf("total cap: %v", err)
	}
	lim.MaxTotalBytes, lim.MaxEntries = 8<<20, 2
	if err := ExtractWithLimits(three, filepath.Join(t.TempDir(), "d"), lim); exit.Code(err) != exit.BadInput || !strings.Contains(err.Error(), "entries") {
		t.Fatalf("entry cap: %v", err)
	}
	lim.MaxEntries = 3
	d := filepath.Join(t.TempDir(), "d")
	if err := ExtractWithLimits(three, d, lim); err != nil {
		t.Fatalf("within limits: %v", err)
	}
	// The destination must be empty.
	if err := ExtractWithLimits(three, d, lim); exit.Code(err) != exit.BadInput {
		t.Fatalf("non-empty destination: %v", err)
	}
}

func TestIsBundle(t *testing.T) {
	t.Parallel()
	dir := buildPack(t)
	out := filepath.Join(t.TempDir(), "b.tar.gz")
	if _, err := Create(dir, out); err != nil {
		t.Fatal(err)
	}
	if !IsBundle(out) || IsBundle(dir) || IsBundle(filepath.Join(dir, "pack_manifest.json")) || IsBundle(filepath.Join(dir, "nope")) {
		t.Fatal("IsBundle")
	}
}

// A pack whose signed claims failed is bundled, and the bundle records the
// verdict verify-pack gives it (HONEST_FAIL, exit 1), not an integrity-only
// PASS that contradicts 'assay verify-pack bundle.tar.gz'.
func TestHonestFailBundleKeepsVerdict(t *testing.T) {
	t.Parallel()
	dir := packstest.DiffFixture(t, t.TempDir(), "claim_regression")
	want, err := verify.Verify(dir, verify.Options{})
	if err != nil || want.ExitCode != exit.HonestFail {
		t.Fatalf("fixture should be an honest failure: %v %+v", err, want)
	}
	out := filepath.Join(t.TempDir(), "b.tar.gz")
	res, err := Create(dir, out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != verify.VerdictHonestFail || res.ExitCode != exit.HonestFail {
		t.Fatalf("bundle result %s/%d, want HONEST_FAIL/1", res.Verdict, res.ExitCode)
	}
	dest := filepath.Join(t.TempDir(), "x")
	if err := Extract(out, dest); err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Verdict  string `json:"verdict"`
		ExitCode int    `json:"exit_code"`
	}
	raw, _ := os.ReadFile(filepath.Join(dest, FileResult))
	if err := json.Unmarshal(raw, &rec); err != nil || rec.Verdict != verify.VerdictHonestFail || rec.ExitCode != exit.HonestFail {
		t.Fatalf("VERIFY_RESULT.json says %s/%d (%v), want HONEST_FAIL/1", rec.Verdict, rec.ExitCode, err)
	}
	got, err := verify.Verify(dest, verify.Options{})
	if err != nil || got.ExitCode != rec.ExitCode {
		t.Fatalf("extracted bundle verifies %v %+v, VERIFY_RESULT says %d", err, got, rec.ExitCode)
	}
}
