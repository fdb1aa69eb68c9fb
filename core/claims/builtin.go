package claims

import "sort"

// The built-in cards. The six reference cards carry the reference's claim
// ids, descriptions, params and severities byte for byte, because they are
// hashed into claim_set_hash (pack-format.md §6.2); model_allowlist and
// token_budget are ours.
func builtinCards() []*Card {
	return []*Card{
		{
			CardID:      "guardian_enforcement",
			Name:        "Guardian Enforcement",
			Description: "Guardian verdicts were recorded for the run.",
			Claims: []Claim{{
				ClaimID:     "guardian_verdict_present",
				Description: "At least one guardian_verdict receipt exists",
				Check:       "receipt_type_present",
				Params:      map[string]any{"receipt_type": "guardian_verdict"},
				Severity:    Critical,
			}},
		},
		{
			CardID:      "receipt_completeness",
			Name:        "Receipt Completeness",
			Description: "The run emitted receipts, including at least one model call.",
			Claims: []Claim{
				{
					ClaimID:     "min_receipt_count",
					Description: "At least 1 receipt in the pack",
					Check:       "receipt_count_ge",
					Params:      map[string]any{"min_count": 1},
					Severity:    Critical,
				},
				{
					ClaimID:     "model_call_present",
					Description: "At least one model_call receipt exists",
					Check:       "receipt_type_present",
					Params:      map[string]any{"receipt_type": "model_call"},
					Severity:    Critical,
				},
			},
		},
		{
			CardID:      "no_breakglass",
			Name:        "No Breakglass",
			Description: "No emergency override was used during the run.",
			Claims: []Claim{{
				ClaimID:     "no_breakglass",
				Description: "No breakglass receipts present",
				Check:       "no_receipt_type",
				Params:      map[string]any{"receipt_type": "breakglass"},
				Severity:    Critical,
			}},
		},
		{
			CardID:      "timestamp_ordering",
			Name:        "Timestamp Ordering",
			Description: "Receipt timestamps never go backwards.",
			Claims: []Claim{{
				ClaimID:     "timestamps_monotonic",
				Description: "Timestamps are monotonically non-decreasing",
				Check:       "timestamps_monotonic",
				Params:      map[string]any{},
				Severity:    Critical,
			}},
		},
		{
			CardID:      "schema_consistency",
			Name:        "Schema Consistency",
			Description: "Model call receipts use the current receipt schema.",
			Claims: []Claim{{
				ClaimID:     "schema_version_consistent",
				Description: "All model_call receipts use schema_version 3.0",
				Check:       "field_value_matches",
				Params:      map[string]any{"receipt_type": "model_call", "field_name": "schema_version", "expected_value": "3.0"},
				Severity:    Warning,
			}},
		},
		{
			CardID:      "coverage_contract",
			Name:        "Coverage Contract",
			Description: "Runtime receipts cover scanned call sites above the minimum threshold.",
			Claims: []Claim{{
				ClaimID:     "callsite_coverage",
				Description: coverageDescription,
				Check:       "coverage_contract",
				Params:      map[string]any{"contract_path": "assay.coverage.json", "min_coverage": 0.8},
				Severity:    Critical,
			}},
		},
		{
			CardID:      "model_allowlist",
			Name:        "Model Allowlist",
			Description: "Every model call used an allowed model. Set params.models in a card file.",
			Claims: []Claim{{
				ClaimID:     "models_allowed",
				Description: "Every model_call receipt names a model in the allowlist",
				Check:       "model_allowlist",
				Params:      map[string]any{"models": []any{}},
				Severity:    Critical,
			}},
		},
		{
			CardID:      "token_budget",
			Name:        "Token Budget",
			Description: "The run stayed within a total token budget. Set params.max_total_tokens in a card file.",
			Claims: []Claim{{
				ClaimID:     "total_tokens_within_budget",
				Description: "Total tokens across model_call receipts stay within the budget",
				Check:       "token_budget",
				Params:      map[string]any{"max_total_tokens": 100000},
				Severity:    Critical,
			}},
		},
	}
}

// coverageDescription is the callsite_coverage claim's description, the
// reference's text (pack-format.md §6.2): with it the card hashes to the
// reference's ecc0e258…222f.
const coverageDescription = "Receipt callsite_ids cover >= min_coverage of contract sites"

var builtins = func() map[string]*Card {
	m := map[string]*Card{}
	for _, c := range builtinCards() {
		m[c.CardID] = c
	}
	return m
}()

// ReferenceIDs are the built-in cards that hash exactly as the reference's
// (assay-ai 1.24) do; a lock that names only these passes the reference's
// lock check.
var ReferenceIDs = []string{"guardian_enforcement", "receipt_completeness", "no_breakglass", "timestamp_ordering", "schema_consistency", "coverage_contract"}

// BuiltinIDs returns the ids of the built-in cards, sorted.
func BuiltinIDs() []string {
	ids := make([]string, 0, len(builtins))
	for id := range builtins {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Builtin returns a fresh copy of a built-in card (callers may change it).
func Builtin(id string) (*Card, bool) {
	c, ok := builtins[id]
	if !ok {
		return nil, false
	}
	return c.clone(), true
}

func (c *Card) clone() *Card {
	out := *c
	out.Claims = make([]Claim, len(c.Claims))
	for i, cl := range c.Claims {
		cl.Params = cloneMap(cl.Params)
		if cl.Falsifier != nil {
			f := *cl.Falsifier
			cl.Falsifier = &f
		}
		out.Claims[i] = cl
	}
	return &out
}

func cloneMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneValue(v)
	}
	return out
}

func cloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return cloneMap(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneValue(e)
		}
		return out
	}
	return v
}
