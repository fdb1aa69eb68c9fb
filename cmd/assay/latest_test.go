package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// verify-pack --latest and packs list find packs by manifest, whatever
// their directory name, with one finder; a second run is picked up (no glob).
func TestVerifyPackLatest(t *testing.T) {
	home, dir := ckProcessEnv(t) // relative paths: the CLI resolves them in the process's working directory
	ckOneLine(t, []string{"verify-pack", "--latest"}, "no proof pack (a directory with pack_manifest.json) under .")
	older := ckPack(t, home, filepath.Join(dir, "evidence", "first"), []string{"receipt_completeness"}, "gpt-4o")
	old := time.Now().Add(-time.Hour)
	os.Chtimes(older, old, old)
	code, out, errs := ckRun(t, "--log-level", "info", "verify-pack", "--latest")
	if code != 0 || !strings.Contains(errs, "--latest: evidence/first") || !strings.Contains(out, "PASS") {
		t.Fatalf("one pack: %d %q %q", code, out, errs)
	}
	newer := ckPack(t, home, filepath.Join(dir, "run2"), []string{"receipt_completeness"}, "gpt-4o")
	code, out, errs = ckRun(t, "--log-level", "info", "verify-pack", "--latest", "--json")
	if code != 0 || !strings.Contains(errs, "--latest: run2") || !strings.HasPrefix(out, "{") {
		t.Fatalf("second pack: %d %q %q", code, out, errs)
	}
	sub := filepath.Join(dir, "evidence")
	if code, _, errs := ckRun(t, "--log-level", "info", "verify-pack", "--latest", "--dir", sub); code != 0 || !strings.Contains(errs, older) {
		t.Fatalf("--dir: %d %q", code, errs)
	}
	ckOneLine(t, []string{"verify-pack", "--latest", newer}, "give either PACK or --latest")
	ckOneLine(t, []string{"verify-pack", "--latest", "--dir", "nope"}, "directory not found: nope")

	// packs list: the same packs, newest first, at any name.
	code, out, _ = ckRun(t, "packs", "list")
	if code != 0 || strings.Index(out, "run2") < 0 || strings.Index(out, "evidence/first") < strings.Index(out, "run2") {
		t.Fatalf("packs list: %d %q", code, out)
	}
}

// flow audit with no pack: the plan (exit 0) shows the placeholder and how
// to make a pack; --apply runs nothing and exits 3 saying so.
func TestFlowAuditPlaceholder(t *testing.T) {
	t.Parallel()
	ckEnv(t)
	code, out, _ := ckRun(t, "flow", "audit")
	if code != 0 || !strings.Contains(out, "$ assay verify-pack PACK --require-claim-pass") || !strings.Contains(out, "PACK is a placeholder") || !strings.Contains(out, "assay run -c receipt_completeness") {
		t.Fatalf("plan: %d %q", code, out)
	}
	code, out, _ = ckRun(t, "flow", "audit", "--json")
	var doc struct {
		Blocked string            `json:"blocked"`
		Params  map[string]string `json:"params"`
	}
	ckJSON(t, out, &doc)
	if code != 0 || doc.Blocked == "" || doc.Params["pack"] != "PACK" {
		t.Fatalf("plan --json: %d %+v", code, doc)
	}
	ckOneLine(t, []string{"flow", "audit", "--apply"}, "flow audit cannot run yet: no proof pack under")
}
