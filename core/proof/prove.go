package proof

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/merkle"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/verify"
)

// Prove builds the proof of one receipt of the pack in dir. The pack is
// verified first: a tampered pack is refused with exit 2, a pack without a
// Merkle root (built by the reference) or without that receipt is bad
// input (exit 3). The returned proof has been checked with Check.
func Prove(dir, receiptID string) (*Proof, []byte, error) {
	if receiptID == "" {
		return nil, nil, exit.Bad("give the receipt_id of a receipt in the pack", "empty receipt id")
	}
	pk, err := pack.OpenDir(dir)
	if err != nil {
		vr, err := verify.Unopened(dir, err, verify.Options{IntegrityOnly: true})
		if err != nil {
			return nil, nil, err
		}
		return nil, nil, exit.New(exit.Tampered, "run 'assay verify-pack' on it for details", "pack %s failed verification: %s", dir, firstError(vr, "integrity check failed"))
	}
	defer pk.Close()
	vr, err := verify.VerifyPack(pk, verify.Options{IntegrityOnly: true})
	if err != nil {
		return nil, nil, err
	}
	if vr.ExitCode == exit.Tampered {
		return nil, nil, exit.New(exit.Tampered, "run 'assay verify-pack' on it for details", "pack %s failed verification: %s", dir, firstError(vr, "integrity check failed"))
	}
	return prove(pk, receiptID)
}

// prove builds the proof from a pack that has just been verified. Every
// file is read through the pack's root, as verify-pack reads it: nothing
// through a link out of the pack, no FIFO or device; and pinned to the
// verified manifest (pack.ReadPinned, pack.PinnedReceipts), so a file
// swapped since the verification is refused as tampered.
func prove(pk *pack.Pack, receiptID string) (*Proof, []byte, error) {
	dir := pk.Dir
	manifest := pk.Manifest
	report, err := pk.ReadPinned(pack.FileReport, pack.MaxReportBytes)
	if pack.IsRefused(err) {
		return nil, nil, err
	}
	if exit.Code(err) == exit.Tampered {
		return nil, nil, err
	}
	if err != nil {
		return nil, nil, exit.Bad("a proof pack holds verify_report.json", "cannot read %s: %v", filepath.Join(dir, pack.FileReport), err)
	}
	rv, err := canon.Decode(report)
	rep, ok := rv.(*canon.Object)
	if err != nil || !ok {
		return nil, nil, exit.New(exit.Tampered, "", "%s is not a JSON object", pack.FileReport)
	}
	mv, _ := rep.Get("merkle")
	mo, ok := mv.(*canon.Object)
	if !ok || mo.String("algorithm") != merkle.Algorithm {
		return nil, nil, exit.Bad("rebuild the pack with this assay (packs built by the reference record no Merkle root)", "pack %s records no %s Merkle root in %s", dir, merkle.Algorithm, pack.FileReport)
	}

	ts, _ := mo.Get("tree_size")
	tn, _ := ts.(canon.Number)
	size, perr := strconv.ParseUint(string(tn), 10, 64)
	if perr != nil {
		return nil, nil, exit.New(exit.Tampered, "", "the report's merkle.tree_size is not a leaf count")
	}
	line, prover, err := findLine(pk, receiptID, size)
	if err != nil {
		return nil, nil, err
	}
	root := hex.EncodeToString(prover.Root())
	if root != mo.String("root") {
		return nil, nil, exit.New(exit.Tampered, "", "receipt lines do not match the report's merkle.root")
	}
	if n := prover.Size(); n != size {
		return nil, nil, exit.New(exit.Tampered, "", "receipt count %d does not match the report's merkle.tree_size", n)
	}
	index, found := prover.Found()
	if !found {
		return nil, nil, exit.Bad("list the pack's receipt ids with 'assay explain' or look in receipt_pack.jsonl", "receipt %q is not in this pack", receiptID)
	}
	path, err := prover.Path()
	if err != nil {
		return nil, nil, fmt.Errorf("inclusion proof: %w", err)
	}
	p := &Proof{
		Format:       Format,
		PackID:       manifest.PackID,
		ReceiptID:    receiptID,
		ReceiptLine:  string(line),
		Manifest:     manifest,
		VerifyReport: string(report),
		Inclusion: Inclusion{
			Algorithm: merkle.Algorithm,
			LeafIndex: index,
			TreeSize:  size,
			Root:      root,
			AuditPath: make([]string, len(path)),
		},
	}
	for i, h := range path {
		p.Inclusion.AuditPath[i] = hex.EncodeToString(h)
	}
	data, err := p.Marshal()
	if err != nil {
		return nil, nil, err
	}
	// Never hand out a proof that does not check.
	if r := Check(data); !r.OK {
		return nil, nil, exit.New(exit.Tampered, "run 'assay verify-pack' on the pack", "the proof does not check: %s", firstOf(r.Errors))
	}
	return p, data, nil
}

// findLine streams the receipt file once, through the pack's root: it
// hashes every line as a leaf into a one-pass Prover for a tree of size
// leaves (O(log n) memory) and returns the line (without newline) whose
// receipt_id is id.
func findLine(pk *pack.Pack, id string, size uint64) ([]byte, *merkle.Prover, error) {
	it, err := pk.PinnedReceipts()
	if err != nil {
		return nil, nil, err
	}
	defer it.Close()
	// Lines escape U+2028/U+2029/U+0085 (DECISIONS 7); so must the needle.
	quoted, _ := canon.Options{EscapeLineSeparators: true}.Marshal(id)
	needle := append([]byte(`"receipt_id":`), quoted...)
	var (
		found  []byte
		leaf   = merkle.NewLeafHasher()
		h      [32]byte
		prover = merkle.NewProver(size)
	)
	for it.Next() {
		line := it.Line()
		leaf.Sum(&h, line)
		target := false
		if found == nil && bytes.Contains(line, needle) {
			if v, derr := canon.Decode(line); derr == nil {
				if o, ok := v.(*canon.Object); ok && o.String("receipt_id") == id {
					target = true
					found = bytes.Clone(line)
				}
			}
		}
		prover.Add(&h, target)
	}
	if err := it.Err(); err != nil {
		return nil, nil, err
	}
	return found, prover, nil
}

func firstError(r *verify.Result, def string) string {
	for _, e := range r.Errors {
		s := e.Code
		if e.Field != "" {
			s += " " + e.Field
		}
		if e.Message != "" {
			s += ": " + e.Message
		}
		return s
	}
	return def
}

func firstOf(s []string) string {
	if len(s) == 0 {
		return "unknown error"
	}
	return s[0]
}
