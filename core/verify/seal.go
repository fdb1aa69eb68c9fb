package verify

import (
	"fmt"
	"io"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/seal"
)

// checkSeal checks the recorder's seal when the signed report records one
// (core/seal): the run key's certification by the pack's embedded signer,
// the checkpoints, the sealed log under _unsigned/seal/ and that the pack's
// receipts are the sealed ones. A seal that does not hold is tampering; an
// intact seal that records an alteration is an honest failure.
func (v *verifier) checkSeal(report *canon.Object) {
	sv, ok := report.Get(seal.ReportKey)
	if !ok {
		return
	}
	r := v.r
	sum, err := seal.ParseSummary(sv)
	if err != nil {
		r.Seal = &seal.Report{Alterations: []seal.Alteration{}, Problems: []string{"the seal summary cannot be read: " + err.Error()}}
		r.addErr(EManifestTamper, "seal", StageReceipts, "verify_report.json records a seal this verifier cannot read")
		return
	}
	pub, _ := keys.DecodeB64(v.man.SignerPubkey)
	runID := ""
	if v.man.HasAttestation() {
		runID = v.man.Attestation.RunID
	}
	rep := seal.CheckPack(sum, func(name string) (io.ReadCloser, error) { return v.open(name) }, runID, pub, pack.FileReceipts)
	r.Seal = rep
	for _, p := range rep.Problems {
		r.addErr(EManifestTamper, "seal", StageReceipts, "Seal: "+p)
	}
	if !rep.Verified {
		return
	}
	switch rep.Status {
	case seal.StatusAltered:
		r.sealAltered = true
		first := ""
		if len(rep.Alterations) > 0 {
			first = ": " + rep.Alterations[0].String()
		}
		r.Warnings = append(r.Warnings, fmt.Sprintf("The recorder's seal shows %s (%d alteration(s))%s. The pack holds the receipts as sealed.", seal.AlteredMessage, rep.AlterationsTotal, first))
	case seal.StatusTruncated:
		r.Warnings = append(r.Warnings, fmt.Sprintf("The seal ends at receipt %d (last checkpoint at %s): the recorder stopped before the run ended; %d receipt(s) of the pack are not sealed.", rep.Covers, rep.LastCheckpointAt, rep.Unsealed))
	}
}
