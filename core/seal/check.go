package seal

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"slices"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/receipt"
)

// Report is what a verifier learned about a pack's seal.
type Report struct {
	// Status is the seal's own statement: intact, truncated or altered.
	Status string `json:"status"`
	// Covers is how many receipts the seal covers; Unsealed how many of
	// the pack's it does not.
	Covers           uint64       `json:"covers"`
	Unsealed         int          `json:"unsealed"`
	Complete         bool         `json:"complete"`
	LastCheckpointAt string       `json:"last_checkpoint_at"`
	Checkpoints      int          `json:"checkpoints"`
	RunKeySHA256     string       `json:"run_key_sha256"`
	CertifiedBy      string       `json:"certified_by"`
	Alterations      []Alteration `json:"alterations"`
	AlterationsTotal int          `json:"alterations_total"`
	// Verified is true when every check of the seal held.
	Verified bool `json:"verified"`
	// Problems are the checks that did not hold (each one is tampering).
	Problems []string `json:"problems,omitempty"`
}

// Opener opens a file of the pack by its slash path, confined to the pack.
type Opener func(name string) (io.ReadCloser, error)

// Paths of a seal's bulky parts inside a pack.
const (
	PackLog         = PackDir + "/" + FileLog
	PackCheckpoints = PackDir + "/" + FileCheckpoints
)

// ParseSummary reads the seal member of verify_report.json.
func ParseSummary(v any) (Summary, error) {
	var s Summary
	raw, err := canon.Marshal(v)
	if err != nil {
		return s, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&s); err != nil {
		return s, err
	}
	return s, nil
}

// CheckPack checks a pack's seal: the run key's certification by the pack
// signer, the checkpoints' signatures, the sealed log against the last
// checkpoint, and that the pack's receipts are the sealed ones (plus the
// Unsealed ones the summary owns up to). receiptsFile is the pack's
// receipt_pack.jsonl. It holds one hash per receipt.
func CheckPack(s Summary, open Opener, runID string, signerPub []byte, receiptsFile string) *Report {
	r := &Report{Status: s.Status, Covers: s.Covers, Unsealed: s.Unsealed, Complete: s.Complete,
		LastCheckpointAt: s.Checkpoint.At, RunKeySHA256: s.Cert.RunKeySHA256(), CertifiedBy: s.Cert.SignerID,
		Alterations: s.Alterations, AlterationsTotal: s.AlterationsTotal}
	if r.Alterations == nil {
		r.Alterations = []Alteration{}
	}
	bad := func(format string, a ...any) { r.Problems = append(r.Problems, fmt.Sprintf(format, a...)) }
	defer func() { r.Verified = len(r.Problems) == 0 }()
	if s.Format != Format || s.Algorithm != Algorithm {
		bad("seal format %q / algorithm %q is not %s / %s", s.Format, s.Algorithm, Format, Algorithm)
		return r
	}
	if err := VerifyCert(s.Cert, runID, signerPub); err != nil {
		bad("run key certification: %v", err)
		return r
	}
	if err := VerifyCheckpoint(s.Checkpoint, s.Cert); err != nil {
		bad("last checkpoint: %v", err)
		return r
	}
	if s.Checkpoint.TreeSize != s.Covers {
		bad("the seal claims to cover %d receipts, its last checkpoint %d", s.Covers, s.Checkpoint.TreeSize)
	}
	if s.Checkpoint.Final != s.Complete {
		bad("the seal says complete=%v, its last checkpoint final=%v", s.Complete, s.Checkpoint.Final)
	}
	want := StatusIntact
	switch {
	case s.AlterationsTotal > 0:
		want = StatusAltered
	case !s.Complete:
		want = StatusTruncated
	}
	if s.Status != want || s.AlterationsTotal < len(s.Alterations) || s.AlterationsTotal < s.Checkpoint.Alterations {
		bad("the seal's status %q does not follow from its alterations (%d) and completeness", s.Status, s.AlterationsTotal)
	}
	// The bulky parts are unsigned files pinned by the signed summary.
	if s.Log.Path != PackLog || s.Checkpoints.Path != PackCheckpoints {
		bad("the seal's files must be %s and %s", PackLog, PackCheckpoints)
		return r
	}
	cpBytes, err := readPinned(open, s.Checkpoints)
	if err != nil {
		bad("%v", err)
		return r
	}
	cps := ParseCheckpoints(bytes.NewReader(cpBytes))
	r.Checkpoints = len(cps)
	if len(cps) == 0 || cps[len(cps)-1] != s.Checkpoint {
		bad("the summary's checkpoint is not the last of %s", PackCheckpoints)
		return r
	}
	// One pass over the log: its hash, its checkpoints, and the pack line
	// each sealed receipt becomes.
	lf, err := open(PackLog)
	if err != nil {
		bad("the sealed log %s cannot be read: %v", PackLog, err)
		return r
	}
	defer lf.Close()
	h := sha256.New()
	counted := &countWriter{h: h}
	var sealed [][32]byte
	var lineErr error
	lc := newLogChecker(cps, s.Cert)
	br := bufio.NewReaderSize(io.TeeReader(lf, counted), 1<<20)
	for {
		line, err := readLine(br)
		if line != nil {
			lc.add(line)
			if lineErr == nil {
				if pl, perr := packLine(line); perr != nil {
					lineErr = fmt.Errorf("sealed receipt %d is not a receipt: %v", len(sealed)+1, perr)
				} else {
					sealed = append(sealed, sha256.Sum256(pl))
				}
			}
		}
		if err != nil {
			break
		}
	}
	good, entries, probs := lc.finish()
	if got := hex.EncodeToString(h.Sum(nil)); got != s.Log.SHA256 || counted.n != s.Log.Bytes {
		bad("%s does not match the sha256 and size the signed report pins", PackLog)
	}
	for _, p := range probs {
		bad("%s", p.Detail)
	}
	if entries != s.Covers {
		bad("%s holds %d receipts, the seal covers %d", PackLog, entries, s.Covers)
	}
	if len(good) == 0 || good[len(good)-1] != s.Checkpoint {
		bad("the sealed log does not reach the last checkpoint")
	}
	if lineErr != nil {
		bad("%v", lineErr)
	}
	if len(r.Problems) > 0 {
		return r
	}
	// The pack's receipts: the sealed ones, plus exactly Unsealed more.
	pf, err := open(receiptsFile)
	if err != nil {
		bad("%s cannot be read: %v", receiptsFile, err)
		return r
	}
	defer pf.Close()
	var inPack [][32]byte
	pbr := bufio.NewReaderSize(pf, 1<<20)
	for {
		line, err := readLine(pbr)
		if line != nil {
			inPack = append(inPack, sha256.Sum256(line))
		}
		if err != nil {
			break
		}
	}
	cmp := func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) }
	slices.SortFunc(sealed, cmp)
	slices.SortFunc(inPack, cmp)
	missing, j := 0, 0
	for _, x := range sealed {
		for j < len(inPack) && cmp(inPack[j], x) < 0 {
			j++
		}
		if j < len(inPack) && inPack[j] == x {
			j++
			continue
		}
		missing++
	}
	if missing > 0 {
		bad("%d sealed receipt(s) are not in the pack", missing)
	}
	if extra := len(inPack) - (len(sealed) - missing); missing == 0 && extra != s.Unsealed {
		bad("the pack holds %d receipt(s) the seal does not cover; the seal owns up to %d", extra, s.Unsealed)
	}
	return r
}

// packLine is the pack line a sealed store line becomes.
func packLine(storeLine []byte) ([]byte, error) {
	v, err := canon.Decode(storeLine)
	if err != nil {
		return nil, err
	}
	obj, ok := v.(*canon.Object)
	if !ok {
		return nil, fmt.Errorf("not a JSON object")
	}
	return receipt.Line(obj)
}

type countWriter struct {
	h hash.Hash
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.h.Write(p)
}

// maxCheckpoints bounds the checkpoints file a verifier reads whole.
const maxCheckpoints = 64 << 20

func readPinned(open Opener, ref FileRef) ([]byte, error) {
	f, err := open(ref.Path)
	if err != nil {
		return nil, fmt.Errorf("%s cannot be read: %v", ref.Path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxCheckpoints+1))
	if err != nil || len(b) > maxCheckpoints {
		return nil, fmt.Errorf("%s cannot be read whole", ref.Path)
	}
	if sha256hex(b) != ref.SHA256 || int64(len(b)) != ref.Bytes {
		return nil, fmt.Errorf("%s does not match the sha256 and size the signed report pins", ref.Path)
	}
	return b, nil
}
