package packstest

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/assay-dev/assay/core/claims"
	"github.com/assay-dev/assay/core/receipt"
)

// DiffClaims are the claims every diff fixture is built with: at least 8
// receipts, and no guardian_verdict receipt (a deny the agent hit).
var DiffClaims = []claims.Claim{
	{ClaimID: "enough_receipts", Check: "receipt_count_ge", Params: map[string]any{"min_count": 8}, Severity: claims.Critical},
	{ClaimID: "no_guardian_block", Check: "no_receipt_type", Params: map[string]any{"receipt_type": "guardian_verdict"}, Severity: claims.Critical},
}

// DiffVariants name the fixture packs of DiffFixture.
var DiffVariants = []string{"base", "same", "model_swap", "cost_up", "latency_up", "claim_regression", "errors"}

// DiffFixture builds one diff fixture pack under dir and returns its path
// (dir/proof_pack_<variant>). The base run is 10 gpt-4o-mini calls of
// 1000 in / 200 out tokens with latencies 100..1000 ms; each variant changes
// one thing:
//
//	same             identical calls (a clean diff)
//	model_swap       the same calls on gpt-4o (cost up ~16x)
//	cost_up          twice the tokens on the same model (cost +100%)
//	latency_up       every latency doubled (p95 +100%)
//	claim_regression a guardian_verdict receipt (chained by parent_receipt_id
//	                 to two calls) makes no_guardian_block fail
//	errors           two calls fail with an error
func DiffFixture(t testing.TB, dir, variant string) string {
	t.Helper()
	var recs []*receipt.Receipt
	model, tokIn, tokOut, latMul := "gpt-4o-mini", 1000, 200, 1
	switch variant {
	case "base", "same", "claim_regression", "errors":
	case "model_swap":
		model = "gpt-4o"
	case "cost_up":
		tokIn, tokOut = 2000, 400
	case "latency_up":
		latMul = 2
	default:
		t.Fatalf("unknown diff fixture %q", variant)
	}
	for i := 0; i < 10; i++ {
		c := Call{Model: model, In: tokIn, Out: tokOut, LatencyMs: (i + 1) * 100 * latMul}
		if i > 0 {
			c.Parent = fmt.Sprintf("mcr_%016x", i-1)
		}
		if variant == "errors" && (i == 3 || i == 7) {
			c.Err = "RateLimitError: 429 Too Many Requests"
		}
		recs = append(recs, ModelCall(i, c))
	}
	if variant == "claim_regression" {
		recs = append(recs, R(map[string]any{
			"receipt_id": "r_guardian0001", "type": "guardian_verdict", "seq": 10,
			"timestamp": receipt.Timestamp(Epoch.Add(11e9)), "verdict": "deny", "tool": "shell",
			"parent_receipt_id": fmt.Sprintf("mcr_%016x", 9),
		}))
	}
	out := filepath.Join(dir, "proof_pack_"+variant)
	Build(t, out, recs, DiffClaims)
	return out
}
