package coverage

import (
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/capture"
	"github.com/assay-dev/assay/core/receipt"
)

func rc(t *testing.T, line string) *receipt.Receipt {
	t.Helper()
	v, err := canon.Decode([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	return v.(*receipt.Receipt)
}

// Model calls without a callsite_id are counted (those from the gateway
// apart), explained, and the explanation reaches the claim's actual text
// only when coverage falls short.
func TestUnattributedModelCalls(t *testing.T) {
	t.Parallel()
	if gatewaySource != capture.SourceGateway {
		t.Fatalf("gatewaySource %q != capture.SourceGateway %q", gatewaySource, capture.SourceGateway)
	}
	var u Unattributed
	for _, l := range []string{
		`{"receipt_id":"r1","type":"model_call","integration_source":"assay.gateway"}`,
		`{"receipt_id":"r2","type":"model_call","integration_source":"assay.gateway","callsite_id":""}`,
		`{"receipt_id":"r3","type":"model_call","integration_source":"assay.shim.python","callsite_id":"abc"}`,
		`{"receipt_id":"r4","type":"model_call"}`,
		`{"receipt_id":"r5","type":"guardian_verdict"}`,
	} {
		u.Add(rc(t, l))
	}
	if u != (Unattributed{ModelCalls: 3, Gateway: 2}) {
		t.Fatalf("counted %+v", u)
	}
	if n := u.Note(); !strings.HasPrefix(n, "3 model call receipt(s) have no call site (2 through the gateway)") {
		t.Errorf("note %q", n)
	}
	if n := (Unattributed{ModelCalls: 2, Gateway: 2}).Note(); !strings.HasPrefix(n, "2 model call receipt(s) came through the gateway without a call site") {
		t.Errorf("note %q", n)
	}
	if n := (Unattributed{}).Note(); n != "" {
		t.Errorf("note with nothing unattributed: %q", n)
	}

	c := New(".", []Site{{CallsiteID: "abc", Path: "a.py", Line: 1}, {CallsiteID: "def", Path: "b.py", Line: 2}}, time.Unix(0, 0))
	rep := Measure(c, []string{"abc"})
	rep.Explain(u)
	if a := rep.Actual(); !strings.HasPrefix(a, "50% (1/2); 3 model call receipt(s)") {
		t.Errorf("actual %q", a)
	}
	full := Measure(c, []string{"abc", "def"})
	full.Explain(u)
	if a := full.Actual(); a != "100% (2/2)" {
		t.Errorf("full coverage actual %q", a)
	}
}
