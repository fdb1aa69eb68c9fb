package lock

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/assay-dev/assay/core/claims"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/receipt"
)

// noneHash is claim_set_hash of a pack built without cards: sha256("none").
var noneHash = receipt.SHA256Hex([]byte("none"))

// FromPack writes the lock a pack satisfies (DECISIONS 15): it recovers the
// pack's built-in cards, in order, from the claim ids of its
// verify_report.json and keeps them only if they hash to the manifest's
// claim_set_hash, so the lock passes Validate (the reference's init replaced
// the hash and then failed its own check). The signer policy stays "any";
// pin signers with `lock write --signer` or `key rotate --lock`.
func FromPack(dir string) (*Lock, error) {
	// FromPack does not verify the pack (verify-pack --lock does that when
	// the lock is used); it reads through the pack's root all the same.
	if st, err := os.Stat(dir); err != nil {
		return nil, exit.Bad("check the path given with --from-pack", "pack not found: %s", dir)
	} else if !st.IsDir() {
		return nil, exit.Bad("give the proof pack directory (extract an audit bundle first)", "not a pack directory: %s", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, pack.FileManifest)); errors.Is(err, fs.ErrNotExist) {
		return nil, exit.Bad("give a proof pack directory", "%s is not a proof pack (no pack_manifest.json)", dir)
	}
	p, err := pack.OpenDir(dir)
	if exit.Code(err) == exit.Tampered {
		return nil, exit.Bad("verify it with 'assay verify-pack "+dir+"'", "%s: pack_manifest.json is not a valid manifest", dir)
	}
	if err != nil {
		return nil, err
	}
	defer p.Close()
	m := p.Manifest
	if m.ClaimSetHash == "" {
		return nil, exit.Bad("verify it with 'assay verify-pack "+dir+"'", "%s: pack_manifest.json is not a valid manifest", dir)
	}
	if m.ClaimSetHash == noneHash {
		return nil, exit.Bad("build the pack with -c CARD, or write the lock with 'assay lock write --cards ...'", "pack %s declares no claims; a lock needs cards", dir)
	}
	ids, err := reportClaimIDs(p)
	if err != nil {
		return nil, err
	}
	cardIDs, ok := matchCards(ids)
	if ok {
		l, err := New(cardIDs, nil)
		if err != nil {
			return nil, err
		}
		if l.ClaimSetHash == m.ClaimSetHash {
			if m.Attestation.PackFormatVersion != "" {
				l.PackFormatVersion = m.Attestation.PackFormatVersion
			}
			return l, nil
		}
	}
	return nil, exit.Bad("lock built-in cards with 'assay lock write --cards ...'",
		"pack %s was built with cards that are not built-in cards as they are now (claim_set_hash %s)", dir, short(m.ClaimSetHash))
}

func reportClaimIDs(p *pack.Pack) ([]string, error) {
	dir := p.Dir
	rb, err := p.ReadFile(pack.FileReport, pack.MaxReportBytes)
	if pack.IsRefused(err) {
		return nil, err
	}
	if err != nil {
		return nil, exit.Bad("give a complete proof pack directory", "cannot read %s: %v", filepath.Join(dir, "verify_report.json"), unwrapPath(err))
	}
	var rep struct {
		CV *struct {
			Results []struct {
				ClaimID string `json:"claim_id"`
			} `json:"results"`
		} `json:"claim_verification"`
	}
	if err := json.Unmarshal(rb, &rep); err != nil || rep.CV == nil {
		return nil, exit.Bad("verify it with 'assay verify-pack "+dir+"'", "%s: verify_report.json has no claim_verification", dir)
	}
	ids := make([]string, len(rep.CV.Results))
	for i, r := range rep.CV.Results {
		ids[i] = r.ClaimID
	}
	return ids, nil
}

// matchCards splits a flattened claim id list into built-in cards.
func matchCards(ids []string) ([]string, bool) {
	var out []string
	for i := 0; i < len(ids); {
		matched := false
		for _, id := range claims.BuiltinIDs() {
			c, _ := claims.Builtin(id)
			n := len(c.Claims)
			if i+n > len(ids) {
				continue
			}
			same := true
			for j, cl := range c.Claims {
				if ids[i+j] != cl.ClaimID {
					same = false
					break
				}
			}
			if same {
				out = append(out, id)
				i += n
				matched = true
				break
			}
		}
		if !matched {
			return nil, false
		}
	}
	return out, len(out) > 0
}

// CardIDs lists the lock's card ids.
func (l *Lock) CardIDs() []string {
	out := make([]string, len(l.RunCards))
	for i, r := range l.RunCards {
		out[i] = r.ID
	}
	return out
}

// NonReference lists the lock's cards the reference does not have, or
// defines differently (its lock check would refuse them).
func (l *Lock) NonReference() []string {
	var out []string
	for _, r := range l.RunCards {
		ref := false
		for _, id := range claims.ReferenceIDs {
			if id == r.ID {
				ref = true
			}
		}
		if !ref {
			out = append(out, r.ID)
		}
	}
	return out
}
