package main

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/packs/packstest"
)

func TestAuditBundleCLI(t *testing.T) {
	dir := t.TempDir()
	p := packstest.DiffFixture(t, dir, "base")
	out := filepath.Join(dir, "audit.tar.gz")
	code, stdout, errs := ckRun(t, "audit", "bundle", p, "-o", out, "--json")
	var doc struct {
		Kind   string `json:"kind"`
		Bundle struct {
			Path    string   `json:"path"`
			Verdict string   `json:"verdict"`
			Files   []string `json:"files"`
		} `json:"bundle"`
	}
	r := &doc.Bundle
	if code != 0 || json.Unmarshal([]byte(stdout), &doc) != nil || doc.Kind != "audit_bundle" || r.Path != out || r.Verdict != "PASS" || len(r.Files) != 10 {
		t.Fatalf("exit %d %q %s", code, errs, stdout)
	}
	// verify-pack takes the bundle directly.
	code, stdout, errs = ckRun(t, "verify-pack", out)
	if code != 0 {
		t.Fatalf("verify-pack on the bundle: exit %d %s\n%s", code, errs, stdout)
	}
	// Default name in the working directory.
	t.Chdir(t.TempDir())
	if code, stdout, _ = ckRun(t, "audit", "bundle", p); code != 0 || !strings.Contains(stdout, "audit_bundle_pack_") {
		t.Fatalf("default name: %d %s", code, stdout)
	}
	// A tampered pack is refused with exit 2 and no file.
	bad := filepath.Join(t.TempDir(), "proof_pack_bad")
	packstest.Copy(t, p, bad)
	packstest.FlipByte(t, filepath.Join(bad, "verify_transcript.md"), -1)
	badOut := filepath.Join(dir, "bad.tar.gz")
	code, stdout, errs = ckRun(t, "audit", "bundle", bad, "-o", badOut)
	if code != 2 || stdout != "" {
		t.Fatalf("tampered: exit %d %q", code, stdout)
	}
	oneLineErr(t, errs)
	if _, err := os.Stat(badOut); !os.IsNotExist(err) {
		t.Fatal("a bundle of a tampered pack was written")
	}
	// Bad input.
	for name, args := range map[string][]string{
		"no args":     {"audit", "bundle"},
		"missing":     {"audit", "bundle", filepath.Join(dir, "nope")},
		"not a pack":  {"audit", "bundle", t.TempDir()},
		"no sub":      {"audit"},
		"unknown sub": {"audit", "frobnicate"},
		"out in pack": {"audit", "bundle", p, "-o", filepath.Join(p, "x.tar.gz")},
	} {
		code, stdout, errs := ckRun(t, args...)
		if code != 3 || stdout != "" {
			t.Errorf("%s: exit %d %q", name, code, stdout)
		}
		oneLineErr(t, errs)
	}
}

// A tampered bundle given to verify-pack: 2 for a changed pack inside, 3
// for an unsafe archive.
func TestVerifyPackOnBadBundles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := packstest.DiffFixture(t, dir, "base")
	tgz := filepath.Join(dir, "evil.tar.gz")
	writeEvilTgz(t, tgz)
	code, _, errs := ckRun(t, "verify-pack", tgz)
	if code != 3 {
		t.Fatalf("unsafe bundle: exit %d %s", code, errs)
	}
	oneLineErr(t, errs)
	if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "x")); err == nil {
		t.Fatal("wrote outside")
	}
	// A 1 GiB gzip-bomb entry is refused before anything is written.
	bomb := filepath.Join(dir, "bomb.tar.gz")
	packstest.GzipBomb(t, bomb, "receipt_pack.jsonl", 1<<30)
	code, stdout, errs := ckRun(t, "verify-pack", bomb, "--json")
	if code != 3 || !strings.Contains(stdout, `"exit_code": 3`) || !strings.Contains(errs, "receipt_pack.jsonl") {
		t.Fatalf("bomb: exit %d %q %q", code, stdout, errs)
	}
	oneLineErr(t, errs)
	// And a bundle of a pack changed after bundling is tampering: exit 2.
	good := filepath.Join(dir, "good.tar.gz")
	if code, _, errs := ckRun(t, "audit", "bundle", p, "-o", good); code != 0 {
		t.Fatalf("bundle: %s", errs)
	}
	changed := filepath.Join(dir, "changed.tar.gz")
	rewriteEntry(t, good, changed, "receipt_pack.jsonl")
	if code, _, _ := ckRun(t, "verify-pack", changed); code != 2 {
		t.Fatalf("changed bundle: exit %d", code)
	}
}

// rewriteEntry copies a bundle, flipping one byte in the middle of entry.
func rewriteEntry(t *testing.T, src, dst, entry string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	gr, err := gzip.NewReader(in)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gr)
	out, _ := os.Create(dst)
	defer out.Close()
	gw := gzip.NewWriter(out)
	tw := tar.NewWriter(gw)
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		data, _ := io.ReadAll(tr)
		if h.Name == entry {
			data[len(data)/2] ^= 1
		}
		tw.WriteHeader(h)
		tw.Write(data)
	}
	tw.Close()
	gw.Close()
}

func TestProveAndVerifyReceiptCLI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := packstest.DiffFixture(t, dir, "claim_regression")
	out := filepath.Join(dir, "r.proof.json")
	code, stdout, errs := ckRun(t, "prove", p, "r_guardian0001", "-o", out)
	if code != 0 || !strings.Contains(stdout, "leaf 10 of 11") {
		t.Fatalf("prove: exit %d %s %s", code, errs, stdout)
	}
	code, stdout, _ = ckRun(t, "verify-receipt", out)
	if code != 0 || !strings.Contains(stdout, "PROVEN") || !strings.Contains(stdout, `"receipt_id":"r_guardian0001"`) {
		t.Fatalf("verify-receipt: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = ckRun(t, "verify-receipt", out, "--json")
	var r map[string]any
	if json.Unmarshal([]byte(stdout), &r) != nil || code != 0 || r["ok"] != true || r["leaf_index"] != float64(10) {
		t.Fatalf("json: %d %s", code, stdout)
	}
	// One changed byte: exit 2, text and JSON alike.
	data, _ := os.ReadFile(out)
	i := strings.Index(string(data), `\"verdict\":\"deny\"`) + len(`\"verdict\":\"`)
	data[i] = 'D'
	os.WriteFile(out, data, 0o644)
	for _, args := range [][]string{{"verify-receipt", out}, {"verify-receipt", out, "--json"}} {
		code, stdout, _ = ckRun(t, args...)
		if code != 2 || !strings.Contains(stdout, "inclusion") {
			t.Fatalf("%v: exit %d\n%s", args, code, stdout)
		}
	}
	// -o - writes the proof to stdout.
	code, stdout, _ = ckRun(t, "prove", p, "mcr_0000000000000003", "-o", "-")
	if code != 0 || !strings.HasPrefix(stdout, `{"format":"assay.receipt_proof.v1"`) {
		t.Fatalf("stdout proof: %d %.80s", code, stdout)
	}
	// Tampered pack: exit 2.
	bad := filepath.Join(t.TempDir(), "proof_pack_bad")
	packstest.Copy(t, p, bad)
	packstest.FlipByte(t, filepath.Join(bad, "receipt_pack.jsonl"), -1)
	code, stdout, errs = ckRun(t, "prove", bad, "r_guardian0001", "-o", filepath.Join(dir, "bad.json"))
	if code != 2 || stdout != "" {
		t.Fatalf("tampered: %d %s", code, stdout)
	}
	oneLineErr(t, errs)
	// Bad input everywhere: exit 3, one line.
	notProof := filepath.Join(dir, "notes.txt")
	os.WriteFile(notProof, []byte("hello"), 0o644)
	for name, args := range map[string][]string{
		"unknown receipt":  {"prove", p, "r_nope", "-o", filepath.Join(dir, "x.json")},
		"prove no args":    {"prove", p},
		"prove not pack":   {"prove", t.TempDir(), "r_1"},
		"reference pack":   {"prove", "../../testdata/vectors/pack/golden_minimal", "r_001", "-o", filepath.Join(dir, "y.json")},
		"missing proof":    {"verify-receipt", filepath.Join(dir, "none.json")},
		"proof is dir":     {"verify-receipt", dir},
		"not a proof":      {"verify-receipt", notProof},
		"verify no args":   {"verify-receipt"},
		"prove out is dir": {"prove", p, "r_guardian0001", "-o", dir},
	} {
		code, stdout, errs := ckRun(t, args...)
		if code != 3 || stdout != "" {
			t.Errorf("%s: exit %d %q", name, code, stdout)
		}
		oneLineErr(t, errs)
	}
}

func TestPacksAndBaselineCLI(t *testing.T) {
	t.Chdir(t.TempDir())
	dir := t.TempDir()
	a := packstest.DiffFixture(t, dir, "base")
	b := packstest.DiffFixture(t, dir, "errors")
	old := time.Now().Add(-time.Hour)
	os.Chtimes(a, old, old)
	os.MkdirAll(filepath.Join(dir, "proof_pack_empty_dir"), 0o755) // no manifest: not listed
	os.MkdirAll(filepath.Join(dir, "other"), 0o755)

	code, stdout, _ := ckRun(t, "baseline", "set", a, "--json")
	if code != 0 || !strings.Contains(stdout, a) {
		t.Fatalf("baseline set: %d %s", code, stdout)
	}
	code, stdout, _ = ckRun(t, "packs", "list", "-d", dir, "--json")
	var l struct {
		Packs []struct {
			Path       string `json:"path"`
			NReceipts  int    `json:"n_receipts"`
			ClaimCheck string `json:"claim_check"`
			IsBaseline bool   `json:"is_baseline"`
		} `json:"packs"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &l) != nil || len(l.Packs) != 2 {
		t.Fatalf("list: %d %s", code, stdout)
	}
	// Newest first; the baseline is marked.
	if l.Packs[0].Path != b || l.Packs[1].Path != a || !l.Packs[1].IsBaseline || l.Packs[0].IsBaseline || l.Packs[0].NReceipts != 10 || l.Packs[0].ClaimCheck != "PASS" {
		t.Fatalf("list rows %+v", l.Packs)
	}
	if code, stdout, _ = ckRun(t, "packs", "list", "-d", dir); code != 0 || !strings.Contains(stdout, "(baseline)") {
		t.Fatalf("list text: %s", stdout)
	}
	code, stdout, _ = ckRun(t, "packs", "show", b, "--json")
	var s struct {
		LinesOnDisk int `json:"lines_on_disk"`
		Files       []struct {
			Path       string `json:"path"`
			InManifest bool   `json:"in_manifest"`
		} `json:"files"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &s) != nil || s.LinesOnDisk != 10 || len(s.Files) != 6 /* five kernel files and _unsigned/PACK_SUMMARY.md */ {
		t.Fatalf("show: %d %s", code, stdout)
	}
	covered := 0
	for _, f := range s.Files {
		if f.InManifest {
			covered++
		}
	}
	if covered != 3 {
		t.Fatalf("hash-covered files %d", covered)
	}
	if code, stdout, _ = ckRun(t, "packs", "show", b); code != 0 || !strings.Contains(stdout, "receipt_pack.jsonl") {
		t.Fatalf("show text: %s", stdout)
	}
	// Bad input.
	os.Remove(filepath.Join(".assay", "baseline.json"))
	for name, args := range map[string][]string{
		"no baseline":      {"baseline", "get"},
		"set not a pack":   {"baseline", "set", t.TempDir()},
		"set missing":      {"baseline", "set", filepath.Join(dir, "nope")},
		"list missing dir": {"packs", "list", "-d", filepath.Join(dir, "nope")},
		"show not pack":    {"packs", "show", filepath.Join(dir, "other")},
		"show no args":     {"packs", "show"},
		"packs no sub":     {"packs"},
	} {
		code, stdout, errs := ckRun(t, args...)
		if code != 3 || stdout != "" {
			t.Errorf("%s: exit %d %q", name, code, stdout)
		}
		oneLineErr(t, errs)
	}
	os.WriteFile(filepath.Join(".assay", "baseline.json"), []byte("garbage"), 0o644)
	code, _, errs := ckRun(t, "baseline", "get")
	if code != 3 {
		t.Fatalf("garbage baseline: %d", code)
	}
	oneLineErr(t, errs)
}

// writeEvilTgz writes a bundle whose second entry climbs out with "../x".
func writeEvilTgz(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	for _, e := range []struct{ name, data string }{{"pack_manifest.json", "{}"}, {"../x", "escaped"}} {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: e.name, Size: int64(len(e.data)), Mode: 0o644})
		tw.Write([]byte(e.data))
	}
	tw.Close()
	gz.Close()
}
