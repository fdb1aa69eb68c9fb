package doctor

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/packs"
	"github.com/assay-dev/assay/core/verify"
)

// Probes of the newest proof pack: its files and its verification (DOCTOR_PACK).

// ---- DOCTOR_PACK_001 / 002

// packDir returns --pack, or the newest pack under the project (the pack
// finder, which knows packs by their manifest), or "" when there is none.
func (e *env) packDir() string {
	if e.o.Pack != "" {
		return e.o.Pack
	}
	found, err := packs.Find(e.dir)
	if err != nil || len(found) == 0 {
		return ""
	}
	return found[0].Path
}

func probePackFiles(e *env) Probe {
	p := e.packDir()
	if p == "" {
		return Probe{Status: Skip, Severity: Info, Message: "no proof pack here (pass --pack DIR)"}
	}
	if st, err := os.Stat(p); err != nil || !st.IsDir() {
		return Probe{Status: Fail, Severity: High, Message: p + " is not a directory", Fix: "assay doctor --pack PATH-TO-A-PACK"}
	}
	var missing []string
	for _, f := range pack.KernelFiles {
		if _, err := os.Stat(filepath.Join(p, f)); err != nil {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return Probe{Status: Fail, Severity: High, Message: fmt.Sprintf("pack %s lacks %s", e.rel(p), strings.Join(missing, ", ")),
			Fix: "assay proof-pack " + runIDOf(p) + " -o " + shq(e.rel(p)+"_rebuilt")}
	}
	return Probe{Status: Pass, Severity: Info, Message: "pack " + e.rel(p) + " has all 5 kernel files"}
}

func probePackVerify(e *env) Probe {
	p := e.packDir()
	if p == "" {
		return Probe{Status: Skip, Severity: Info, Message: "no proof pack here (pass --pack DIR)"}
	}
	res, err := verify.Verify(p, verify.Options{IntegrityOnly: true})
	if err != nil {
		return Probe{Status: Fail, Severity: High, Message: "pack " + e.rel(p) + " cannot be verified: " + err.Error(),
			Fix: "assay verify-pack " + shq(e.rel(p))}
	}
	if res.Integrity != verify.VerdictPass {
		msg := "pack " + e.rel(p) + " fails integrity"
		if len(res.Errors) > 0 {
			msg += ": " + res.Errors[0].Code + " " + res.Errors[0].Message
		}
		return Probe{Status: Fail, Severity: Critical, Message: msg, Fix: "assay verify-pack " + shq(e.rel(p)) + "  # then rebuild the pack from its trace"}
	}
	return Probe{Status: Pass, Severity: Info, Message: fmt.Sprintf("pack %s verified: signature, hashes and D12 (%d receipts)", e.rel(p), res.ReceiptCount)}
}
