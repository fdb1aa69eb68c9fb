package doctor

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/capture/gateway"
	"github.com/assay-dev/assay/core/ciinit"
	"github.com/assay-dev/assay/core/claims"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/lock"
	"github.com/assay-dev/assay/core/mcppolicy"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/store"
	"github.com/assay-dev/assay/core/verify"
	"github.com/assay-dev/assay/core/version"
)

// env is what the checks read, resolved once per run.
type env struct {
	o       Options
	dir     string
	lock    string
	lockSet bool // --lock given
	// cards lists the built-in card ids CARD_001 loads (a test seam).
	cards func() []string
	// cached lock document
	lockDoc    map[string]any
	lockErr    error
	lockLoaded bool
}

func newEnv(o Options) (*env, error) {
	e := &env{o: o, cards: claims.BuiltinIDs}
	if e.o.Getenv == nil {
		e.o.Getenv = os.Getenv
	}
	if e.o.Dial == nil {
		e.o.Dial = defaultDial
	}
	if e.o.LookPath == nil {
		e.o.LookPath = exec.LookPath
	}
	if e.o.Version == "" {
		e.o.Version = version.Version
	}
	if e.o.WriteLock == nil {
		home := o.Home
		e.o.WriteLock = func(path string) error { return WritePinnedLock(path, home) }
	}
	dir := o.Dir
	if dir == "" {
		dir = "."
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", dir, err)
	}
	e.dir = abs
	e.lock, e.lockSet = o.Lock, o.Lock != ""
	if !e.lockSet {
		e.lock = filepath.Join(abs, ciinit.DefaultLock)
	}
	return e, nil
}

func (e *env) reset() { e.lockDoc, e.lockErr, e.lockLoaded = nil, nil, false }

// rel shows a path relative to the project when it is inside it.
func (e *env) rel(p string) string {
	if r, err := filepath.Rel(e.dir, p); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return p
}

// ---- DOCTOR_CORE_001

var versionPattern = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

func checkCore(e *env) Check {
	if !versionPattern.MatchString(e.o.Version) {
		return Check{Status: Fail, Severity: Critical, Message: fmt.Sprintf("assay version %q cannot go into a pack's verifier_version", e.o.Version),
			Fix: "go install github.com/assay-dev/assay/cmd/assay@latest"}
	}
	return Check{Status: Pass, Severity: Info, Message: fmt.Sprintf("assay %s available (pack format %s)", e.o.Version, version.PackFormat)}
}

// ---- DOCTOR_FS_001

func checkFS(e *env) Check {
	home := e.o.Home
	st, err := os.Stat(home)
	if os.IsNotExist(err) {
		return Check{Status: Warn, Severity: Low, Message: "assay home " + home + " does not exist yet",
			Fix: "mkdir -p " + shq(home), Fixable: true}
	}
	if err != nil || !st.IsDir() {
		return Check{Status: Fail, Severity: High, Message: "assay home " + home + " is not a directory (move it aside, or point ASSAY_HOME elsewhere)",
			Fix: "mv " + shq(home) + " " + shq(home+".bak") + " && mkdir -p " + shq(home)}
	}
	f, err := os.CreateTemp(home, ".doctor-*")
	if err != nil {
		return Check{Status: Fail, Severity: High, Message: "assay home " + home + " is not writable: " + err.Error(),
			Fix: "chmod u+rwx " + shq(home)}
	}
	f.Close()
	os.Remove(f.Name())
	return Check{Status: Pass, Severity: Info, Message: "assay home " + home + " is writable"}
}

func fixFS(e *env) (string, error) {
	if err := os.MkdirAll(e.o.Home, 0o700); err != nil {
		return "", err
	}
	return "created " + e.o.Home, nil
}

// ---- DOCTOR_KEY_001 (the active signer, DECISIONS 13)

func checkKey(e *env) Check {
	ks := keys.Open(e.o.Home)
	id := ks.Active()
	if !ks.Exists(id) {
		return Check{Status: Warn, Severity: Low, Message: fmt.Sprintf("no signing key %q yet; assay run creates it on first use", id),
			Fix: "assay key generate " + id, Fixable: true}
	}
	sg, err := ks.Load(id)
	if err != nil {
		return Check{Status: Fail, Severity: High, Message: fmt.Sprintf("signing key %q does not load: %v", id, err),
			Evidence: ks.KeyPath(id), Fix: "assay key generate NEW-ID && assay key set-active NEW-ID"}
	}
	if pub, err := ks.LoadPublic(id); err != nil || string(pub) != string(sg.Public()) {
		return Check{Status: Fail, Severity: High, Message: fmt.Sprintf("public key of %q does not match its private key", id),
			Evidence: ks.PubPath(id), Fix: "assay key generate NEW-ID && assay key set-active NEW-ID"}
	}
	return Check{Status: Pass, Severity: Info, Message: fmt.Sprintf("active signer %s (fingerprint %s…)", id, keys.Fingerprint(sg.Public())[:16])}
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

func checkCards(e *env) Check {
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
		return Check{Status: Fail, Severity: High, Message: "built-in run cards do not load: " + strings.Join(bad, "; "),
			Fix: "go install github.com/assay-dev/assay/cmd/assay@latest"}
	}
	return Check{Status: Pass, Severity: Info, Message: fmt.Sprintf("%d built-in run cards available", len(ids))}
}

// ---- DOCTOR_PACK_001 / 002

// packDir returns --pack, or the newest proof_pack_* directory in the
// project, or "" when there is none.
func (e *env) packDir() string {
	if e.o.Pack != "" {
		return e.o.Pack
	}
	ents, err := os.ReadDir(e.dir)
	if err != nil {
		return ""
	}
	var best string
	var bestT int64
	for _, d := range ents {
		if !d.IsDir() || !strings.HasPrefix(d.Name(), "proof_pack_") {
			continue
		}
		if fi, err := d.Info(); err == nil && (best == "" || fi.ModTime().UnixNano() > bestT) {
			best, bestT = filepath.Join(e.dir, d.Name()), fi.ModTime().UnixNano()
		}
	}
	return best
}

func checkPackFiles(e *env) Check {
	p := e.packDir()
	if p == "" {
		return Check{Status: Skip, Severity: Info, Message: "no proof pack here (pass --pack DIR)"}
	}
	if st, err := os.Stat(p); err != nil || !st.IsDir() {
		return Check{Status: Fail, Severity: High, Message: p + " is not a directory", Fix: "assay doctor --pack PATH-TO-A-PACK"}
	}
	var missing []string
	for _, f := range pack.KernelFiles {
		if _, err := os.Stat(filepath.Join(p, f)); err != nil {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return Check{Status: Fail, Severity: High, Message: fmt.Sprintf("pack %s lacks %s", e.rel(p), strings.Join(missing, ", ")),
			Fix: "assay proof-pack " + runIDOf(p) + " -o " + shq(e.rel(p)+"_rebuilt")}
	}
	return Check{Status: Pass, Severity: Info, Message: "pack " + e.rel(p) + " has all 5 kernel files"}
}

func checkPackVerify(e *env) Check {
	p := e.packDir()
	if p == "" {
		return Check{Status: Skip, Severity: Info, Message: "no proof pack here (pass --pack DIR)"}
	}
	res, err := verify.Verify(p, verify.Options{IntegrityOnly: true})
	if err != nil {
		return Check{Status: Fail, Severity: High, Message: "pack " + e.rel(p) + " cannot be verified: " + err.Error(),
			Fix: "assay verify-pack " + shq(e.rel(p))}
	}
	if res.Integrity != verify.VerdictPass {
		msg := "pack " + e.rel(p) + " fails integrity"
		if len(res.Errors) > 0 {
			msg += ": " + res.Errors[0].Code + " " + res.Errors[0].Message
		}
		return Check{Status: Fail, Severity: Critical, Message: msg, Fix: "assay verify-pack " + shq(e.rel(p)) + "  # then rebuild the pack from its trace"}
	}
	return Check{Status: Pass, Severity: Info, Message: fmt.Sprintf("pack %s verified: signature, hashes and D12 (%d receipts)", e.rel(p), res.ReceiptCount)}
}

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

func checkLockLoads(e *env) Check {
	doc, err := e.loadLock()
	if os.IsNotExist(err) {
		return Check{Status: Warn, Severity: Medium, Message: "no lock file " + e.rel(e.lock) + "; CI cannot pin the claims",
			Fix: e.lockWriteCmd(), Fixable: e.o.WriteLock != nil}
	}
	if err != nil {
		return Check{Status: Fail, Severity: High, Message: "lock " + e.rel(e.lock) + " does not load: " + err.Error(),
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
		return Check{Status: Fail, Severity: High, Message: msg,
			Fix: "mv " + shq(e.rel(e.lock)) + " " + shq(e.rel(e.lock)+".bad") + " && " + e.lockWriteCmd()}
	}
	return Check{Status: Pass, Severity: Info, Message: "lock " + e.rel(e.lock) + " is valid"}
}

// DefaultWriteLock writes a lock for the default card (lock write's file
// form) pinning the active signer of the default assay home.
func DefaultWriteLock(path string) error {
	home, err := store.Home()
	if err != nil {
		return err
	}
	return WritePinnedLock(path, home)
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

func noLock() Check { return Check{Status: Skip, Severity: Info, Message: "no valid lock file"} }

func sha256JCS(v any) (string, error) {
	b, err := canon.Marshal(v)
	if err != nil {
		return "", err
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:]), nil
}

func checkLockHashes(e *env) Check {
	doc, err := e.loadLock()
	if err != nil {
		return noLock()
	}
	entries, ok := doc["run_cards"].([]any)
	if !ok || len(entries) == 0 {
		return Check{Status: Fail, Severity: High, Message: "lock run_cards is empty or not a list", Fix: "rm " + shq(e.rel(e.lock)) + " && " + e.lockWriteCmd()}
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
		return Check{Status: Fail, Severity: High, Message: "lock does not match the current card definitions: " + strings.Join(drift, "; "),
			Fix: "rm " + shq(e.rel(e.lock)) + " && assay lock write --cards " + strings.Join(ids, ",") + " -o " + shq(e.rel(e.lock))}
	}
	return Check{Status: Pass, Severity: Info, Message: fmt.Sprintf("lock hashes match the current definitions of %d card(s)", len(cards))}
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

func checkLockSigners(e *env) Check {
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
				return Check{Status: Fail, Severity: Critical, Message: "lock trusts the corpus signer (" + s + "), whose key is public test material", Fix: fix}
			}
		}
	}
	switch mode {
	case "any":
		return Check{Status: Warn, Severity: Medium, Message: "signer policy \"any\": verify-pack --lock accepts a pack signed by anyone (no signer pinned)",
			Fix: "assay lock write --cards " + strings.Join(lockCardIDs(doc), ",") + " -o " + shq(e.rel(e.lock)) + " --force  # pins the active signer"}
	case "allowlist":
		list, _ := sp["allowed_fingerprints"].([]any)
		if len(list) == 0 {
			return Check{Status: Fail, Severity: High, Message: "signer policy is allowlist but the allowlist is empty: every pack will fail --lock", Fix: fix}
		}
		ks := keys.Open(e.o.Home)
		if pub, err := ks.LoadPublic(ks.Active()); err == nil {
			fp := keys.Fingerprint(pub)
			for _, v := range list {
				if str(v) == fp {
					return Check{Status: Pass, Severity: Info, Message: fmt.Sprintf("signer allowlist (%d) includes the active signer", len(list))}
				}
			}
			return Check{Status: Warn, Severity: Medium, Message: "the active signer " + ks.Active() + " is not in the lock's allowlist; its packs will fail --lock",
				Fix: "assay key rotate --lock " + shq(e.rel(e.lock))}
		}
		return Check{Status: Pass, Severity: Info, Message: fmt.Sprintf("signer allowlist with %d fingerprint(s)", len(list))}
	}
	return Check{Status: Fail, Severity: High, Message: fmt.Sprintf("signer_policy.mode %q is neither any nor allowlist", mode), Fix: fix}
}

func checkExitContract(e *env) Check {
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
		return Check{Status: Fail, Severity: High, Message: "lock exit_contract lacks exit code(s) " + strings.Join(missing, ", "),
			Fix: "rm " + shq(e.rel(e.lock)) + " && " + e.lockWriteCmd()}
	}
	return Check{Status: Pass, Severity: Info, Message: "lock exit contract covers 0, 1 and 2"}
}

// ---- DOCTOR_CI_001 / 003

type workflow struct {
	path, text string
}

func (e *env) workflows() ([]workflow, bool) {
	wd := filepath.Join(e.dir, ".github", "workflows")
	ents, err := os.ReadDir(wd)
	if err != nil {
		return nil, false
	}
	var out []workflow
	for _, d := range ents {
		n := d.Name()
		if d.IsDir() || !(strings.HasSuffix(n, ".yml") || strings.HasSuffix(n, ".yaml")) {
			continue
		}
		if b, err := os.ReadFile(filepath.Join(wd, n)); err == nil {
			out = append(out, workflow{path: filepath.Join(".github", "workflows", n), text: string(b)})
		}
	}
	return out, true
}

var ciInitCmd = "assay ci init github --run-command " + shq(ciinit.DefaultRunCommand)

func checkCIWorkflow(e *env) Check {
	wfs, ok := e.workflows()
	if !ok {
		return Check{Status: Warn, Severity: Medium, Message: "no .github/workflows directory", Fix: ciInitCmd}
	}
	for _, w := range wfs {
		if strings.Contains(w.text, "assay") && (strings.Contains(w.text, "verify-pack") || strings.Contains(w.text, "assay-verify-action")) {
			return Check{Status: Pass, Severity: Info, Message: "assay verification found in " + w.path}
		}
	}
	return Check{Status: Warn, Severity: Medium, Message: "no workflow runs assay verify-pack", Fix: ciInitCmd}
}

var continueOnError = regexp.MustCompile(`(?m)^\s*continue-on-error:\s*true\b`)

func checkContinueOnError(e *env) Check {
	wfs, ok := e.workflows()
	if !ok {
		return Check{Status: Skip, Severity: Info, Message: "no .github/workflows directory"}
	}
	var bad []string
	for _, w := range wfs {
		if strings.Contains(w.text, "assay") && continueOnError.MatchString(w.text) {
			bad = append(bad, w.path)
		}
	}
	if len(bad) > 0 {
		return Check{Status: Warn, Severity: Medium, Message: "continue-on-error: true in an assay workflow lets failed verification pass CI: " + strings.Join(bad, ", "),
			Fix: "sed -i '/continue-on-error: *true/d' " + strings.Join(bad, " ")}
	}
	return Check{Status: Pass, Severity: Info, Message: "no assay workflow ignores step failures"}
}

// ---- DOCTOR_GATEWAY_001

// GatewayEnv lists the base-URL variables the official SDKs read; the
// recording gateway works by pointing them at itself (gateway.Env).
var GatewayEnv = func() []string {
	var out []string
	for _, r := range gateway.Routes {
		out = append(out, gateway.BaseURLEnv[r])
	}
	return out
}()

// EnvGateway names the variable that says the assay gateway is expected
// (its address, host:port or URL). When set, every base URL must point at it.
const EnvGateway = "ASSAY_GATEWAY"

func checkGatewayEnv(e *env) Check {
	expect := strings.TrimSpace(e.o.Getenv(EnvGateway))
	var expectHost string
	if expect != "" {
		expectHost = hostPort(expect)
	}
	var problems, fixes, fine []string
	seen := false
	for _, name := range GatewayEnv {
		v := strings.TrimSpace(e.o.Getenv(name))
		if v == "" {
			continue
		}
		seen = true
		u, err := url.Parse(v)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			problems = append(problems, fmt.Sprintf("%s=%q is not an http(s) URL", name, v))
			fixes = append(fixes, "unset "+name)
			continue
		}
		hp := hostPort(v)
		loop := isLoopback(u.Hostname())
		switch {
		case expectHost != "" && hp != expectHost:
			problems = append(problems, fmt.Sprintf("%s points to %s, not the assay gateway at %s: those calls bypass the recorder", name, u.Host, expectHost))
			fixes = append(fixes, "export "+name+"="+gatewayURL(name, expect))
		case loop:
			if err := e.o.Dial(hp); err != nil {
				problems = append(problems, fmt.Sprintf("%s points to %s but nothing is listening there", name, hp))
				problems[len(problems)-1] += " (start the gateway there, or unset " + name + ")"
				fixes = append(fixes, "assay gateway --addr "+hp)
				continue
			}
			fine = append(fine, name+" → "+hp+" (listening)")
		default:
			fine = append(fine, name+" → "+u.Host+" (direct; recorded only if the program is instrumented)")
		}
	}
	if len(problems) > 0 {
		return Check{Status: Fail, Severity: High, Message: strings.Join(problems, "; "), Fix: strings.Join(fixes, " && ")}
	}
	if !seen {
		if expect != "" {
			return Check{Status: Fail, Severity: High, Message: EnvGateway + " is set but no SDK base-URL variable points at it; SDK calls go to the vendors unrecorded",
				Fix: "export" + exportAll(expect)}
		}
		return Check{Status: Skip, Severity: Info, Message: "no SDK base-URL variables set (" + strings.Join(GatewayEnv, ", ") + ")"}
	}
	return Check{Status: Pass, Severity: Info, Message: strings.Join(fine, "; ")}
}

func hostPort(v string) string {
	if !strings.Contains(v, "://") {
		v = "http://" + v
	}
	u, err := url.Parse(v)
	if err != nil {
		return v
	}
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "https" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

// gatewayURL is what the gateway itself exports for the variable name:
// http://<addr>/<route>.
func gatewayURL(name, expect string) string {
	base := "http://" + hostPort(expect)
	for _, r := range gateway.Routes {
		if gateway.BaseURLEnv[r] == name {
			return base + "/" + r
		}
	}
	return base
}

// exportAll lists NAME=URL for every SDK variable, pointing at the gateway.
func exportAll(expect string) string {
	var b strings.Builder
	for _, name := range GatewayEnv {
		b.WriteString(" " + name + "=" + gatewayURL(name, expect))
	}
	return b.String()
}

// runIDOf reads the run id (the trace) from a pack's manifest, for the
// proof-pack rebuild command; TRACE_ID when it cannot.
func runIDOf(dir string) string {
	if p, err := pack.OpenDir(dir); err == nil {
		defer p.Close()
		if id := p.Attestation().RunID; id != "" {
			return shq(id)
		}
	}
	return "TRACE_ID"
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ---- DOCTOR_MCP_001

func checkMCPConfig(e *env) Check {
	var problems, fixes, fine, found []string
	for _, c := range ciinit.Clients {
		path := filepath.Join(e.dir, c.ConfigPath())
		if _, err := os.Stat(path); err != nil {
			continue
		}
		found = append(found, c.ConfigPath())
		rewrite := "assay start mcp --write --client " + string(c) + " --root . --force"
		s, err := ciinit.ReadMCPConfig(path, c)
		if err != nil {
			problems = append(problems, c.ConfigPath()+": "+err.Error())
			fixes = append(fixes, "mv "+c.ConfigPath()+" "+c.ConfigPath()+".bak && "+rewrite)
			continue
		}
		if s == nil {
			continue // another tool's config; nothing of ours to check
		}
		if !e.commandResolves(s.Command, filepath.Dir(path)) {
			problems = append(problems, fmt.Sprintf("%s: server command %q is not installed", c.ConfigPath(), s.Command))
			fixes = append(fixes, "go install github.com/assay-dev/assay/cmd/assay-mcp@latest")
			continue
		}
		roots := s.Roots()
		if len(roots) == 0 {
			problems = append(problems, c.ConfigPath()+": the assay server has no --root, so it serves whatever directory the client starts it in")
			fixes = append(fixes, rewrite)
			continue
		}
		bad := false
		for _, r := range roots {
			rp := r
			if !filepath.IsAbs(rp) {
				rp = filepath.Join(e.dir, rp)
			}
			if st, err := os.Stat(rp); err != nil || !st.IsDir() {
				problems = append(problems, fmt.Sprintf("%s: root %s does not exist", c.ConfigPath(), r))
				fixes = append(fixes, rewrite)
				bad = true
				break
			}
		}
		if bad {
			continue
		}
		note := fmt.Sprintf("%s: %s confined to %s", c.ConfigPath(), s.Command, strings.Join(roots, ", "))
		if s.AllowExec() {
			note += " (agents may run commands: --allow-exec)"
		}
		fine = append(fine, note)
	}
	switch {
	case len(problems) > 0:
		return Check{Status: Fail, Severity: High, Message: strings.Join(problems, "; "), Fix: strings.Join(fixes, " && ")}
	case len(fine) > 0:
		return Check{Status: Pass, Severity: Info, Message: strings.Join(fine, "; ")}
	case len(found) > 0:
		return Check{Status: Warn, Severity: Low, Message: strings.Join(found, ", ") + " lists no assay server",
			Fix: "assay start mcp --write --client claude --root ."}
	}
	return Check{Status: Skip, Severity: Info, Message: "no MCP client config here (.mcp.json, .cursor/mcp.json, .vscode/mcp.json)"}
}

// ---- DOCTOR_MCP_002

// checkMCPPolicy loads the project's MCP proxy policy, when there is one:
// the proxy refuses to start on a policy it cannot load, so an agent's MCP
// server would not start at all.
func checkMCPPolicy(e *env) Check {
	path := filepath.Join(e.dir, mcppolicy.DefaultFile)
	if _, err := os.Stat(path); err != nil {
		return Check{Status: Skip, Severity: Info, Message: "no " + mcppolicy.DefaultFile + " here (the MCP proxy runs without a policy)"}
	}
	p, err := mcppolicy.Load(path)
	if err != nil {
		return Check{Status: Fail, Severity: High, Message: err.Error() + " (assay mcp-proxy --policy refuses to start with it)",
			Fix: "assay mcp policy validate " + mcppolicy.DefaultFile}
	}
	sum := p.Summary()
	msg := fmt.Sprintf("%s: mode %s, default %s, %d deny and %d allow rule(s), %d constraint(s)", mcppolicy.DefaultFile, sum.Mode, sum.Default, sum.DenyRules, sum.AllowRules, sum.Constraints)
	if len(sum.Warnings) > 0 {
		return Check{Status: Warn, Severity: Low, Message: msg + "; " + strings.Join(sum.Warnings, "; "), Fix: "assay mcp policy validate " + mcppolicy.DefaultFile}
	}
	return Check{Status: Pass, Severity: Info, Message: msg}
}

func (e *env) commandResolves(cmd, base string) bool {
	if strings.ContainsRune(cmd, filepath.Separator) {
		p := cmd
		if !filepath.IsAbs(p) {
			p = filepath.Join(base, p)
		}
		st, err := os.Stat(p)
		return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
	}
	_, err := e.o.LookPath(cmd)
	return err == nil
}

// ---- helpers

func short(h string) string {
	if len(h) > 16 {
		return h[:16]
	}
	return h
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// shq quotes a path for a copy-pasteable fix command.
func shq(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%~", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
