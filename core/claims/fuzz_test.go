package claims

import (
	"testing"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/receipt"
)

// FuzzParse: any bytes either load as a card whose claims hash and evaluate
// without panicking, or give an error.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"card_id":"x","name":"x","claims":[{"claim_id":"a","check":"field_value_matches","params":{"receipt_type":"model_call","field_name":"f","expected_value":[1,{"k":1e400}]}}]}`))
	f.Add([]byte(`{"extends":"token_budget","params":{"max_total_tokens":1e308}}`))
	f.Add([]byte(`{"extends":"model_allowlist","params":{"models":["a\u2028"]}}`))
	f.Add([]byte(`{"card_id":"x","name":"x","stochastic":true,"trials":2,"claims":[]}`))
	rs := []*receipt.Receipt{}
	for _, l := range []string{
		`{"receipt_id":"r1","type":"model_call","f":[1,{"k":1}],"total_tokens":-1,"timestamp":"b"}`,
		`{"receipt_id":"r2","type":"model_call","model":"a","usage":{"input_tokens":"x"},"timestamp":"a"}`,
	} {
		v, _ := canon.Decode([]byte(l))
		rs = append(rs, v.(*canon.Object))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			return
		}
		if _, err := SetHash(c.Claims); err != nil {
			return
		}
		if _, err := Evaluate(c.Claims, rs, Env{Dir: t.TempDir()}, "p", "s"); err != nil {
			t.Fatalf("evaluate a loaded card: %v", err)
		}
	})
}
