package doctor

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/ciinit"
	"github.com/assay-dev/assay/core/claims"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/lock"
)

// Probes of the lock file: loads, hashes, signers, and the exit contract it pins (DOCTOR_LOCK, CI_002).

// ---- DOCTOR_LOCK_001..003 and CI_002

func (e *env) loadLock() (map[string]any, error) {
	if e.lockLoaded {
		return e.lockDoc, e.lockErr
	}
	e.lockLoaded = true
	b, err := os.ReadFile(e.lock)
	if err != nil {
		e.lockErr = err
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil || doc == nil {
		e.lockErr = fmt.Errorf("not a JSON object")
		return nil, e.lockErr
	}
	e.lockDoc = doc
	return doc, nil
}

// lockRequired are the fields every lock has (pack-format.md §7.1).
var lockRequired = []string{"lock_version", "assay_version_min", "pack_format_version", "run_cards", "run_cards_composite_hash", "claim_set_hash", "exit_contract", "signer_policy"}

func (e *env) lockWriteCmd() string {
	return "assay lock write --cards " + ciinit.DefaultCard + " -o " + shq(e.rel(e.lock))
}

func probeLockLoads(e *env) Probe {
	doc, err := e.loadLock()
	if os.IsNotExist(err) {
		return Probe{Status: Warn, Severity: Medium, Message: "no lock file " + e.rel(e.lock) + "; CI cannot pin the claims",
			Fix: e.lockWriteCmd(), Fixable: e.o.WriteLock != nil}
	}
	if err != nil {
		return Probe{Status: Fail, Severity: High, Message: "lock " + e.rel(e.lock) + " does not load: " + err.Error(),
			Fix: "mv " + shq(e.rel(e.lock)) + " " + shq(e.rel(e.lock)+".bad") + " && " + e.lockWriteCmd()}
	}
	var missing []string
	for _, k := range lockRequired {
		if _, ok := doc[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 || doc["lock_version"] != "1.0" {
		msg := "lock " + e.rel(e.lock) + " is invalid"
		if len(missing) > 0 {
			msg += ": missing " + strings.Join(missing, ", ")
		} else {
			msg += fmt.Sprintf(": lock_version %v, want \"1.0\"", doc["lock_version"])
		}
		return Probe{Status: Fail, Severity: High, Message: msg,
			Fix: "mv " + shq(e.rel(e.lock)) + " " + shq(e.rel(e.lock)+".bad") + " && " + e.lockWriteCmd()}
	}
	return Probe{Status: Pass, Severity: Info, Message: "lock " + e.rel(e.lock) + " is valid"}
}

// WritePinnedLock writes what 'assay lock write --cards receipt_completeness'
// writes: the default card and the active signer of home pinned (the key is
// created when missing, as signing commands do; DECISIONS 20).
func WritePinnedLock(path, home string) error {
	sg, _, err := keys.Open(home).ActiveSigner(true)
	if err != nil {
		return err
	}
	l, err := lock.New([]string{ciinit.DefaultCard}, []string{keys.Fingerprint(sg.Public())})
	if err != nil {
		return err
	}
	return l.Write(path)
}

func fixLock(e *env) (string, error) {
	if _, err := os.Stat(e.lock); err == nil {
		return "", fmt.Errorf("%s exists; not overwriting it", e.rel(e.lock))
	}
	if err := e.o.WriteLock(e.lock); err != nil {
		return "", err
	}
	return "wrote " + e.rel(e.lock) + " for " + ciinit.DefaultCard, nil
}

func noLock() Probe { return Probe{Status: Skip, Severity: Info, Message: "no valid lock file"} }

func sha256JCS(v any) (string, error) {
	b, err := canon.Marshal(v)
	if err != nil {
		return "", err
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:]), nil
}

func probeLockHashes(e *env) Probe {
	doc, err := e.loadLock()
	if err != nil {
		return noLock()
	}
	entries, ok := doc["run_cards"].([]any)
	if !ok || len(entries) == 0 {
		return Probe{Status: Fail, Severity: High, Message: "lock run_cards is empty or not a list", Fix: "rm " + shq(e.rel(e.lock)) + " && " + e.lockWriteCmd()}
	}
	var drift []string
	var perCard []any
	var cards []*claims.Card
	for _, raw := range entries {
		m, _ := raw.(map[string]any)
		id, _ := m["id"].(string)
		stored, _ := m["claim_set_hash"].(string)
		c, ok := claims.Builtin(id)
		if !ok {
			drift = append(drift, fmt.Sprintf("card %q is not a built-in card", id))
			continue
		}
		h, err := claims.SetHash(c.Claims)
		if err != nil {
			drift = append(drift, id+": "+err.Error())
			continue
		}
		if h != stored {
			drift = append(drift, fmt.Sprintf("card %s hash drift: lock %s, current %s", id, short(stored), short(h)))
		}
		perCard = append(perCard, h)
		cards = append(cards, c)
	}
	if len(drift) == 0 {
		if comp, err := sha256JCS(perCard); err == nil && comp != doc["run_cards_composite_hash"] {
			drift = append(drift, fmt.Sprintf("run_cards_composite_hash: lock %s, current %s", short(str(doc["run_cards_composite_hash"])), short(comp)))
		}
		if flat, err := claims.SetHash(claims.Flatten(cards)); err == nil && flat != doc["claim_set_hash"] {
			drift = append(drift, fmt.Sprintf("claim_set_hash: lock %s, current %s", short(str(doc["claim_set_hash"])), short(flat)))
		}
	}
	if len(drift) > 0 {
		var ids []string
		for _, raw := range entries {
			if m, ok := raw.(map[string]any); ok {
				ids = append(ids, str(m["id"]))
			}
		}
		return Probe{Status: Fail, Severity: High, Message: "lock does not match the current card definitions: " + strings.Join(drift, "; "),
			Fix: "rm " + shq(e.rel(e.lock)) + " && assay lock write --cards " + strings.Join(ids, ",") + " -o " + shq(e.rel(e.lock))}
	}
	return Probe{Status: Pass, Severity: Info, Message: fmt.Sprintf("lock hashes match the current definitions of %d card(s)", len(cards))}
}

// lockCardIDs lists the card ids of a lock document's run_cards (the
// default card when it names none).
func lockCardIDs(doc map[string]any) []string {
	var ids []string
	entries, _ := doc["run_cards"].([]any)
	for _, en := range entries {
		if m, ok := en.(map[string]any); ok && str(m["id"]) != "" {
			ids = append(ids, str(m["id"]))
		}
	}
	if len(ids) == 0 {
		ids = []string{ciinit.DefaultCard}
	}
	return ids
}

func probeLockSigners(e *env) Probe {
	doc, err := e.loadLock()
	if err != nil {
		return noLock()
	}
	sp, _ := doc["signer_policy"].(map[string]any)
	mode := str(sp["mode"])
	fix := "rm " + shq(e.rel(e.lock)) + " && " + e.lockWriteCmd()
	for _, field := range []string{"allowed_signer_ids", "allowed_fingerprints"} {
		list, _ := sp[field].([]any)
		for _, v := range list {
			if s := str(v); s == "corpus-signer" || s == "corpus_signer" {
				return Probe{Status: Fail, Severity: Critical, Message: "lock trusts the corpus signer (" + s + "), whose key is public test material", Fix: fix}
			}
		}
	}
	switch mode {
	case "any":
		return Probe{Status: Warn, Severity: Medium, Message: "signer policy \"any\": verify-pack --lock accepts a pack signed by anyone (no signer pinned)",
			Fix: "assay lock write --cards " + strings.Join(lockCardIDs(doc), ",") + " -o " + shq(e.rel(e.lock)) + " --force  # pins the active signer"}
	case "allowlist":
		list, _ := sp["allowed_fingerprints"].([]any)
		if len(list) == 0 {
			return Probe{Status: Fail, Severity: High, Message: "signer policy is allowlist but the allowlist is empty: every pack will fail --lock", Fix: fix}
		}
		ks := keys.Open(e.o.Home)
		if pub, err := ks.LoadPublic(ks.Active()); err == nil {
			fp := keys.Fingerprint(pub)
			for _, v := range list {
				if str(v) == fp {
					return Probe{Status: Pass, Severity: Info, Message: fmt.Sprintf("signer allowlist (%d) includes the active signer", len(list))}
				}
			}
			return Probe{Status: Warn, Severity: Medium, Message: "the active signer " + ks.Active() + " is not in the lock's allowlist; its packs will fail --lock",
				Fix: "assay key rotate --lock " + shq(e.rel(e.lock))}
		}
		return Probe{Status: Pass, Severity: Info, Message: fmt.Sprintf("signer allowlist with %d fingerprint(s)", len(list))}
	}
	return Probe{Status: Fail, Severity: High, Message: fmt.Sprintf("signer_policy.mode %q is neither any nor allowlist", mode), Fix: fix}
}

func probeExitContract(e *env) Probe {
	doc, err := e.loadLock()
	if err != nil {
		return noLock()
	}
	ec, _ := doc["exit_contract"].(map[string]any)
	var missing []string
	for _, k := range []string{"0", "1", "2"} {
		if _, ok := ec[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return Probe{Status: Fail, Severity: High, Message: "lock exit_contract lacks exit code(s) " + strings.Join(missing, ", "),
			Fix: "rm " + shq(e.rel(e.lock)) + " && " + e.lockWriteCmd()}
	}
	return Probe{Status: Pass, Severity: Info, Message: "lock exit contract covers 0, 1 and 2"}
}
