package doctor

import (
	"fmt"
	"os"
	"strings"

	"github.com/assay-dev/assay/core/claims"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/version"
	"github.com/assay-dev/assay/internal/lazyre"
)

// Probes of setup: the binary, the home directory, the signing key and the built-in cards (DOCTOR_CORE, FS, KEY, CARD).

// ---- DOCTOR_CORE_001

var versionPattern = lazyre.New(`^[A-Za-z0-9._-]+$`)

func probeCore(e *env) Probe {
	if !versionPattern().MatchString(e.o.Version) {
		return Probe{Status: Fail, Severity: Critical, Message: fmt.Sprintf("assay version %q cannot go into a pack's verifier_version", e.o.Version),
			Fix: "go install github.com/assay-dev/assay/cmd/assay@latest"}
	}
	return Probe{Status: Pass, Severity: Info, Message: fmt.Sprintf("assay %s available (pack format %s)", e.o.Version, version.PackFormat)}
}

// ---- DOCTOR_FS_001

func probeFS(e *env) Probe {
	home := e.o.Home
	st, err := os.Stat(home)
	if os.IsNotExist(err) {
		return Probe{Status: Warn, Severity: Low, Message: "assay home " + home + " does not exist yet",
			Fix: "mkdir -p " + shq(home), Fixable: true}
	}
	if err != nil || !st.IsDir() {
		return Probe{Status: Fail, Severity: High, Message: "assay home " + home + " is not a directory (move it aside, or point ASSAY_HOME elsewhere)",
			Fix: "mv " + shq(home) + " " + shq(home+".bak") + " && mkdir -p " + shq(home)}
	}
	f, err := os.CreateTemp(home, ".doctor-*")
	if err != nil {
		return Probe{Status: Fail, Severity: High, Message: "assay home " + home + " is not writable: " + err.Error(),
			Fix: "chmod u+rwx " + shq(home)}
	}
	f.Close()
	os.Remove(f.Name())
	return Probe{Status: Pass, Severity: Info, Message: "assay home " + home + " is writable"}
}

func fixFS(e *env) (string, error) {
	if err := os.MkdirAll(e.o.Home, 0o700); err != nil {
		return "", err
	}
	return "created " + e.o.Home, nil
}

// ---- DOCTOR_KEY_001 (the active signer, DECISIONS 13)

func probeKey(e *env) Probe {
	ks := keys.Open(e.o.Home)
	id := ks.Active()
	if !ks.Exists(id) {
		return Probe{Status: Warn, Severity: Low, Message: fmt.Sprintf("no signing key %q yet; assay run creates it on first use", id),
			Fix: "assay key generate " + id, Fixable: true}
	}
	sg, err := ks.Load(id)
	if err != nil {
		return Probe{Status: Fail, Severity: High, Message: fmt.Sprintf("signing key %q does not load: %v", id, err),
			Evidence: ks.KeyPath(id), Fix: "assay key generate NEW-ID && assay key set-active NEW-ID"}
	}
	if pub, err := ks.LoadPublic(id); err != nil || string(pub) != string(sg.Public()) {
		return Probe{Status: Fail, Severity: High, Message: fmt.Sprintf("public key of %q does not match its private key", id),
			Evidence: ks.PubPath(id), Fix: "assay key generate NEW-ID && assay key set-active NEW-ID"}
	}
	return Probe{Status: Pass, Severity: Info, Message: fmt.Sprintf("active signer %s (fingerprint %s…)", id, keys.Fingerprint(sg.Public())[:16])}
}

func fixKey(e *env) (string, error) {
	sg, made, err := keys.Open(e.o.Home).ActiveSigner(true)
	if err != nil {
		return "", err
	}
	if !made {
		return "key " + sg.ID + " already present", nil
	}
	return "generated key " + sg.ID, nil
}

// ---- DOCTOR_CARD_001

func probeCards(e *env) Probe {
	known := map[string]bool{}
	for _, n := range claims.CheckNames() {
		known[n] = true
	}
	ids := e.cards()
	var bad []string
	for _, id := range ids {
		c, ok := claims.Builtin(id)
		if !ok {
			bad = append(bad, id+": not defined")
			continue
		}
		for _, cl := range c.Claims {
			if !known[cl.Check] {
				bad = append(bad, fmt.Sprintf("%s: claim %s uses unknown check %q", id, cl.ClaimID, cl.Check))
			}
		}
		if _, err := claims.SetHash(c.Claims); err != nil {
			bad = append(bad, id+": "+err.Error())
		}
	}
	if len(bad) > 0 {
		return Probe{Status: Fail, Severity: High, Message: "built-in run cards do not load: " + strings.Join(bad, "; "),
			Fix: "go install github.com/assay-dev/assay/cmd/assay@latest"}
	}
	return Probe{Status: Pass, Severity: Info, Message: fmt.Sprintf("%d built-in run cards available", len(ids))}
}
