package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/store"
)

// ckPack records receipts in a fresh trace and builds a pack of them with
// the given cards, signed by the active signer.
func ckPack(t *testing.T, home, out string, cards []string, models ...string) string {
	t.Helper()
	st := store.Open(home)
	trace := store.NewTraceID()
	for _, m := range models {
		d := &canon.Object{}
		d.Set("model_id", m)
		d.Set("input_tokens", canon.Number("10"))
		d.Set("output_tokens", canon.Number("5"))
		if _, err := st.Emit(trace, "model_call", d, store.EmitOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"proof-pack", trace, "-o", out}
	for _, c := range cards {
		args = append(args, "-c", c)
	}
	if code, _, errs := ckRun(t, args...); code != 0 {
		t.Fatalf("proof-pack: exit %d: %s", code, errs)
	}
	return out
}

func ckManifest(t *testing.T, dir string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "pack_manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCardsCLI(t *testing.T) {
	_, dir := ckProcessEnv(t) // relative paths: the CLI resolves them in the process's working directory
	code, out, _ := ckRun(t, "cards", "list")
	if code != 0 || !strings.Contains(out, "receipt_completeness  2") || !strings.Contains(out, "token_budget") {
		t.Errorf("cards list: %d %q", code, out)
	}
	code, out, _ = ckRun(t, "cards", "list", "--json")
	var list struct {
		Cards []struct {
			CardID       string `json:"card_id"`
			ClaimSetHash string `json:"claim_set_hash"`
		} `json:"cards"`
		Checks []string `json:"checks"`
	}
	ckJSON(t, out, &list)
	if code != 0 || len(list.Cards) != 9 || len(list.Checks) != 10 {
		t.Errorf("cards list --json: %d %+v", code, list)
	}
	for _, c := range list.Cards {
		if c.CardID == "receipt_completeness" && c.ClaimSetHash != "0b9affe4a6e67d069cb3413aaf982fc05110dae0af8a0b4dce180e63e5d564dc" {
			t.Errorf("receipt_completeness hash %s", c.ClaimSetHash)
		}
	}
	code, out, _ = ckRun(t, "cards", "show", "no_breakglass")
	if code != 0 || !strings.Contains(out, "claim_set_hash: 83409a8d647ddd43129e8c5017bcaa18f56ffa2cf00f79a651700a4af2ebb80f") || !strings.Contains(out, `no_receipt_type {"receipt_type":"breakglass"}`) {
		t.Errorf("cards show: %d %q", code, out)
	}
	// show --json output is itself a loadable card file with the same hash.
	code, out, _ = ckRun(t, "cards", "show", "schema_consistency", "--json")
	var shown struct {
		ClaimSetHash string `json:"claim_set_hash"`
	}
	ckJSON(t, out, &shown)
	p := filepath.Join(dir, "copy.json")
	if err := os.WriteFile(p, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out2, _ := ckRun(t, "cards", "show", p, "--json")
	var again struct {
		ClaimSetHash string `json:"claim_set_hash"`
		Reference    bool   `json:"in_reference"`
	}
	ckJSON(t, out2, &again)
	if code != 0 || !again.Reference || again.ClaimSetHash != shown.ClaimSetHash || again.ClaimSetHash != "79db0a6c452a4134c1eeab9c73741062a0ad8bd2f6de3f95b4eae9d2eecfefe9" {
		t.Errorf("round trip: %d %+v %+v", code, shown, again)
	}
	ckOneLine(t, []string{"cards", "show", "nope"}, `unknown card "nope"`)
	_ = os.WriteFile(filepath.Join(dir, "bad.json"), []byte(`{"card_id": "x",`), 0o644)
	ckOneLine(t, []string{"cards", "show", "bad.json"}, "card file bad.json")
	ckOneLine(t, []string{"cards", "show"}, "accepts 1 arg")
}

// A pack built here with cards carries the claim verdict the cards give:
// token_budget (from a card file) and model_allowlist fail on a model swap.
func TestCardsInPacks(t *testing.T) {
	home, dir := ckProcessEnv(t) // relative paths: the CLI resolves them in the process's working directory
	_ = os.WriteFile(filepath.Join(dir, "budget.json"), []byte(`{"extends":"token_budget","params":{"max_total_tokens":20}}`), 0o644)
	_ = os.WriteFile(filepath.Join(dir, "models.json"), []byte(`{"extends":"model_allowlist","params":{"models":["gpt-4o"]}}`), 0o644)
	tests := []struct {
		name   string
		cards  []string
		models []string
		check  string
		exit   int
	}{
		{"pass", []string{"receipt_completeness", "budget.json", "models.json"}, []string{"gpt-4o"}, "PASS", 0},
		{"over budget", []string{"budget.json"}, []string{"gpt-4o", "gpt-4o"}, "FAIL", 1},
		{"model swap", []string{"models.json"}, []string{"gpt-4o", "claude-sonnet-4"}, "FAIL", 1},
		{"warning only", []string{"schema_consistency", "receipt_completeness"}, []string{"gpt-4o"}, "PASS", 0},
	}
	for _, tc := range tests {
		out := ckPack(t, home, filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")), tc.cards, tc.models...)
		att := ckManifest(t, out)["attestation"].(map[string]any)
		if att["claim_check"] != tc.check {
			t.Errorf("%s: claim_check %v, want %s", tc.name, att["claim_check"], tc.check)
		}
		code, _, errs := ckRun(t, "verify-pack", out)
		if code != tc.exit {
			t.Errorf("%s: verify-pack exit %d, want %d: %s", tc.name, code, tc.exit, errs)
		}
	}
}
