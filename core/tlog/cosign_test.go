package tlog

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	fproof "github.com/transparency-dev/formats/proof"
)

// TestCosignedAnchorPolicy cosigns an anchor's checkpoint with real witness
// keys (tlog-cosignature, Ed25519) and checks policies over it: met, not met
// (too few), and a flipped cosignature byte.
func TestCosignedAnchorPolicy(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	logDir := filepath.Join(tmp, "log")
	p := buildPack(t, tmp, "p")
	anchorPacks(t, logDir, AppendOptions{Origin: "cosign.test/log"}, buildPack(t, tmp, "first"), p)
	k, err := OpenKeys(logDir, "")
	if err != nil {
		t.Fatal(err)
	}
	w1, w2, w3 := newCosigner(t, "w.test/1"), newCosigner(t, "w.test/2"), newCosigner(t, "w.test/3")
	editAnchor(t, p, func(a *Anchor) {
		var tp fproof.TLogProof
		if err := tp.Unmarshal([]byte(a.TLogProof)); err != nil {
			t.Fatal(err)
		}
		tp.Checkpoint = cosign(t, tp.Checkpoint, k.VKey, w1, w2)
		a.TLogProof = string(tp.Marshal())
	})
	policy := func(threshold string) *Policy {
		pol, err := ParsePolicy([]byte(policyText(threshold, w1, w2, w3)))
		if err != nil {
			t.Fatal(err)
		}
		return pol
	}
	v := mustVerify(t, p, VerifyOptions{LogKey: k.VKey, Policy: policy("2")})
	if len(v.Cosigners) != 2 || v.Cosigners[0].Name != "w.test/1" && v.Cosigners[0].Name != "w_test_1" {
		// policyText names witnesses by their key names
	}
	names := []string{}
	for _, c := range v.Cosigners {
		if c.Time.IsZero() {
			t.Fatalf("cosignature of %s has no time", c.Name)
		}
		names = append(names, c.Name)
	}
	if strings.Join(names, ",") != "w.test/1,w.test/2" || v.Quorum != "2 of (w.test/1, w.test/2, w.test/3)" {
		t.Fatalf("cosigners %v quorum %q", names, v.Quorum)
	}
	t.Run("too few cosignatures", func(t *testing.T) {
		mustBeInvalid(t, p, VerifyOptions{LogKey: k.VKey, Policy: policy("all")}, "quorum 3 of")
	})
	t.Run("cosignature byte flipped", func(t *testing.T) {
		d := filepath.Join(tmp, "flipped")
		if err := os.CopyFS(d, os.DirFS(p)); err != nil {
			t.Fatal(err)
		}
		editAnchor(t, d, func(a *Anchor) {
			lines := strings.Split(a.TLogProof, "\n")
			for i, l := range lines {
				if strings.HasPrefix(l, "— w.test/2 ") {
					sig, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(l, "— w.test/2 "))
					sig[len(sig)-5] ^= 0x01 // inside the Ed25519 signature, key id intact
					lines[i] = "— w.test/2 " + base64.StdEncoding.EncodeToString(sig)
				}
			}
			a.TLogProof = strings.Join(lines, "\n")
		})
		// A known witness's signature that fails rejects the checkpoint.
		mustBeInvalid(t, d, VerifyOptions{LogKey: k.VKey, Policy: policy("1")}, "checkpoint")
		// Without the policy the cosignature is an unknown signature and
		// ignored: the anchor proves T1 only.
		mustVerify(t, d, VerifyOptions{LogKey: k.VKey})
	})
}

// TestThousandPacksAndConsistency anchors 1,000 real packs into one log in
// batches, verifies every anchor, and proves the first checkpoint consistent
// with the last.
func TestThousandPacksAndConsistency(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	logDir := filepath.Join(tmp, "log")
	const n, batch = 1000, 100
	packs := make([]string, n)
	var wg sync.WaitGroup
	for w := range 4 { // building dominates (fsyncs); spread it
		wg.Go(func() {
			for i := w; i < n; i += 4 {
				packs[i] = buildPack(t, tmp, fmt.Sprintf("p%04d", i))
			}
		})
	}
	wg.Wait()
	t0 := time.Now()
	defer func() { t.Logf("total %v", time.Since(t0)) }()
	for i := 0; i < n; i += batch {
		anchorPacks(t, logDir, AppendOptions{Origin: "thousand.test/log"}, packs[i:i+batch]...)
	}
	t.Logf("anchored %v", time.Since(t0))
	k, _ := OpenKeys(logDir, "")
	seen := map[uint64]bool{}
	for _, p := range packs {
		v := mustVerify(t, p, VerifyOptions{LogKey: k.VKey})
		if seen[v.LeafIndex] {
			t.Fatalf("index %d twice", v.LeafIndex)
		}
		seen[v.LeafIndex] = true
	}
	first, _ := ReadAnchor(packs[0])
	last, _ := ReadAnchor(packs[n-1])
	src, err := OpenSource(logDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ConsistencyBetween(context.Background(), src, k.VKey, cpOf(t, first), cpOf(t, last)); err != nil {
		t.Fatalf("first and last checkpoints: %v", err)
	}
	rep, err := VerifyLog(context.Background(), src, k.VKey, []string{packs[0], packs[500], packs[n-1]})
	if err != nil || !rep.OK || rep.Latest.Size != n {
		t.Fatalf("%v %+v", err, rep)
	}
}

func cpOf(t *testing.T, a *Anchor) []byte {
	t.Helper()
	var tp fproof.TLogProof
	if err := tp.Unmarshal([]byte(a.TLogProof)); err != nil {
		t.Fatal(err)
	}
	return tp.Checkpoint
}

// TestSplitView: two logs with the same key and origin that diverge. A pack
// anchored in one, checked against the other, is a split view naming both
// checkpoints; so is a log that is behind the pack (rolled back).
func TestSplitView(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	logA, logB := filepath.Join(tmp, "a"), filepath.Join(tmp, "b")
	pa := []string{buildPack(t, tmp, "a1"), buildPack(t, tmp, "a2")}
	anchorPacks(t, logA, AppendOptions{Origin: "split.test/log"}, pa...)
	// Log B: the same key, another history.
	os.MkdirAll(logB, 0o755)
	for _, f := range []string{FileLogKey, FileLogVKey} {
		b, _ := os.ReadFile(filepath.Join(logA, f))
		os.WriteFile(filepath.Join(logB, f), b, 0o600)
	}
	pb := []string{buildPack(t, tmp, "b1"), buildPack(t, tmp, "b2"), buildPack(t, tmp, "b3")}
	anchorPacks(t, logB, AppendOptions{}, pb...)
	k, _ := OpenKeys(logA, "")
	ctx := context.Background()
	srcB, _ := OpenSource(logB, nil)
	rep, err := VerifyLog(ctx, srcB, k.VKey, []string{pb[0], pa[1]})
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK || len(rep.SplitView) != 2 || rep.Packs[0].Status != "consistent" || rep.Packs[1].Status != "split_view" {
		t.Fatalf("%+v", rep)
	}
	if rep.SplitView[0].Size != 2 || rep.SplitView[1].Size != 3 || rep.SplitView[0].Origin != "split.test/log" {
		t.Fatalf("split view names %+v", rep.SplitView)
	}
	// Log A is behind B's packs (size 2 < 3): rollback or another view.
	srcA, _ := OpenSource(logA, nil)
	rep, _ = VerifyLog(ctx, srcA, k.VKey, []string{pb[2]})
	if rep.OK || rep.Packs[0].Status != "split_view" || !strings.Contains(rep.Packs[0].Detail, "larger than the log's") {
		t.Fatalf("%+v", rep)
	}
	// Same size, other root.
	rep, _ = VerifyLog(ctx, srcA, k.VKey, []string{pb[1]})
	if rep.OK {
		t.Fatalf("%+v", rep)
	}
	var ie *InvalidError
	if _, err := VerifyLog(ctx, srcA, mustKeys(t).VKey, nil); !errors.As(err, &ie) {
		t.Fatalf("log checkpoint under another key: %v", err)
	}
}
