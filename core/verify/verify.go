package verify

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/assay-dev/assay/core/merkle"
	"github.com/assay-dev/assay/core/seal"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/fsutil"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/receipt"
)

// Options select the gates that run after integrity.
type Options struct {
	// RequireClaimPass fails (exit 1) unless the signed claim_check is PASS.
	RequireClaimPass bool
	// IntegrityOnly reports claims without gating on them (the reference's
	// default); without it a signed claim_check FAIL is exit 1.
	IntegrityOnly bool
	// MaxAgeHours > 0 fails packs whose timestamp_end is older.
	MaxAgeHours float64
	// RequireCIBinding fails packs without a ci_binding.
	RequireCIBinding bool
	// ExpectedCommitSHA (40 hex) must equal ci_binding.commit_sha.
	ExpectedCommitSHA string
	// CheckExpiry fails packs whose valid_until has passed or is unreadable.
	CheckExpiry bool
	// Now is the verification time (zero: time.Now()).
	Now time.Time
	// Keystore verifies packs with an empty signer_pubkey (optional).
	Keystore *keys.Store
	// KeystoreSigner, when set, is the one signer id the keystore may
	// verify: the user named it explicitly (ops.VerifyRequest.Signer). A
	// pack naming another signer is not looked up.
	KeystoreSigner string
	// Gates run after integrity, in order (lock, coverage…).
	Gates []GateCheck
}

// GateCheck is an extra gate over a verified pack.
type GateCheck interface {
	// Run inspects the result (manifest summary, callsite ids) and the
	// pack, and adds errors through the returned slice.
	Run(r *Result, p *pack.Pack) []Error
	Name() string
}

// FutureSkew is how far in the future a pack's timestamps may lie.
const FutureSkew = 24 * time.Hour

// Validate checks option values; bad values are exit 3.
func (o Options) Validate() error {
	if o.MaxAgeHours < 0 || math.IsNaN(o.MaxAgeHours) || math.IsInf(o.MaxAgeHours, 0) {
		return exit.Bad("give a positive number of hours", "--max-age-hours must be > 0, got %v", o.MaxAgeHours)
	}
	if o.ExpectedCommitSHA != "" && !hex40().MatchString(strings.ToLower(o.ExpectedCommitSHA)) {
		return exit.Bad("give the full 40-character commit SHA", "--expected-commit-sha must be 40 hex characters, got %q", o.ExpectedCommitSHA)
	}
	return nil
}

// Verify checks the pack in dir. The returned error is non-nil only for bad
// input (exit 3: no such directory, not a directory, no manifest); every
// finding about the pack itself is in the Result, with its exit code.
func Verify(dir string, opt Options) (*Result, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	p, err := pack.OpenDir(dir)
	if err != nil {
		return Unopened(dir, err, opt)
	}
	defer p.Close()
	return VerifyPack(p, opt)
}

// Unopened turns the error of pack.Open(path) into Verify's outcome: a
// manifest that is there but is not a JSON object is tampering (a result,
// exit 2); anything else is bad input (the error, exit 3).
func Unopened(path string, err error, opt Options) (*Result, error) {
	if exit.Code(err) != exit.Tampered {
		return nil, err
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	r := newResult(path)
	r.addErr(EManifestTamper, pack.FileManifest, StageSchema, err.Error())
	r.Stages = append(r.Stages, Stage{Stage: StageSchema, Status: "fail"})
	r.finish(opt, nil)
	return r, nil
}

// VerifyPack checks an opened pack (pack.Open); the error is non-nil only
// for bad input. r.Path is the directory read (a bundle's extracted copy).
func VerifyPack(p *pack.Pack, opt Options) (*Result, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	r := newResult(p.Dir)
	v := &verifier{dir: p.Dir, p: p, man: p.Manifest, att: p.Attestation(), r: r, opt: opt}
	v.run()
	if r.badInput != nil {
		return nil, r.badInput
	}
	r.finish(opt, p)
	v.checkMCPSessions()
	return r, nil
}

type verifier struct {
	dir  string
	p    *pack.Pack
	man  *pack.Doc
	att  *pack.Attestation
	r    *Result
	opt  Options
	rcpt receiptScan
}

func (r *Result) addErr(code, field, stage, msg string) {
	r.add(Error{Code: code, Field: field, Stage: stage, Message: msg, Meaning: meanings[code]})
}

// hasGateErr reports whether a gate error of stage was recorded.
func (r *Result) hasGateErr(stage string) bool { return r.gateFailed[stage] }

// ciDetail names the commit a CI binding records, or says there is none.
func ciDetail(ci any) string {
	b, _ := ci.(*pack.CIBinding)
	switch {
	case b != nil && b.CommitSHA != "":
		return "commit " + b.CommitSHA
	case b == nil:
		return "no ci_binding"
	}
	return "ci_binding present"
}

func (r *Result) addGateErr(code, field, stage, msg string) {
	r.add(Error{Code: code, Field: field, Stage: stage, Message: msg, Meaning: meanings[code], gate: true})
}

// stage records a stage's outcome: fail when any error named it.
func (r *Result) stage(name string, detail map[string]any) {
	st := "ok"
	if r.failed[name] {
		st = "fail"
	}
	r.Stages = append(r.Stages, Stage{Stage: name, Status: st, Detail: detail})
}

func (v *verifier) run() {
	r := v.r
	// Step 0: schema. A manifest that fails it stops verification here.
	if errs := validateManifest(v.man.Object()); len(errs) > 0 {
		for _, e := range errs {
			r.addErr(EManifestTamper, pack.FileManifest, StageSchema, "Manifest schema validation failed: "+e)
		}
		r.Stages = append(r.Stages, Stage{Stage: StageSchema, Status: "fail"})
		v.summarise()
		return
	}
	r.Stages = append(r.Stages, Stage{Stage: StageSchema, Status: "ok"})
	v.summarise()
	v.warnUnexpected()

	files, expected := v.man.Files, v.man.ExpectedFiles
	// Nothing is opened before every named entry is known to be no FIFO,
	// device or socket (the schema bounds the lists, so this is cheap).
	names := append([]string{}, pack.KernelFiles...)
	for _, f := range files {
		names = append(names, f.Path)
	}
	names = append(names, expected...)
	if err := v.p.Preflight(names); err != nil {
		r.badInput = err
		return
	}

	// The receipt file is read once: its whole-file hash for step 1 and its
	// lines for step 2 come from the same pass. A receipt file that resolves
	// outside the pack (a symlink out) is never read; step 1 reports it.
	v.rcpt = receiptScan{readErr: errors.New("path escapes the pack directory"), tree: &merkle.Stack{}, types: map[string]int{}}
	if _, ok := v.contained(pack.FileReceipts); ok {
		f, err := v.open(pack.FileReceipts)
		switch {
		case errors.Is(err, os.ErrNotExist):
			v.rcpt.missing = true
		case err != nil:
			v.rcpt.readErr = err
		default:
			v.rcpt = scanReceipts(f)
			f.Close()
		}
	}
	if r.badInput != nil {
		return
	}

	paths := v.checkFiles(files, expected)
	r.stage(StagePaths, map[string]any{"paths_checked": paths})
	r.stage(StageFileHashes, map[string]any{"files_checked": len(files)})

	honestFail := v.checkReceipts()
	s := Stage{Stage: StageReceipts, Status: "ok", Detail: map[string]any{"receipt_count": r.ReceiptCount, "head_hash": r.HeadHash}}
	if r.failed[StageReceipts] || honestFail {
		s.Status = "fail"
	}
	r.Stages = append(r.Stages, s)

	if h, err := v.man.AttestationHash(); err != nil || h != v.man.AttestationSHA256 {
		r.addErr(EManifestTamper, "attestation_sha256", StageAttestation, "Attestation hash mismatch in manifest")
	}
	v.checkAttestationAgrees()
	r.stage(StageAttestation, nil)

	v.checkSignature()
	r.stage(StageSignature, nil)

	if pr, as := v.man.PackRootSHA256, v.man.AttestationSHA256; pr != "" && as != "" && pr != as {
		r.addErr(EManifestTamper, "pack_root_sha256", StageD12, "pack_root_sha256 does not match attestation_sha256")
	}
	r.stage(StageD12, nil)

	v.checkTime()

	// Step 7: the type allowlist, only on an otherwise clean pack. The scan
	// kept the first MaxErrors disallowed receipts and counted the rest.
	if r.ErrorCount == 0 {
		for _, bad := range v.rcpt.badTypes {
			i := bad.index
			r.add(Error{Code: ESchemaUnknown, Field: "type", Stage: StageTypes, ReceiptIndex: &i, Meaning: meanings[ESchemaUnknown],
				Message: fmt.Sprintf("%s: type '%s' not in allowed types: %s", bad.id, bad.typ, receipt.AllowedForms())})
		}
		r.addUnlisted(ESchemaUnknown, StageTypes, v.rcpt.badTypeCount-len(v.rcpt.badTypes))
	}
	if honestFail && r.ErrorCount == 0 {
		r.Warnings = append(r.Warnings, "The attestation honestly records receipt_integrity FAIL: the evidence is intact and shows malformed receipts.")
	}
	r.honestReceiptFail = honestFail
}

// summarise copies the manifest's statements into the result.
func (v *verifier) summarise() {
	// A manifest without an attestation object reads as zero fields.
	m, a := v.man, &v.man.Attestation
	v.r.Pack = Pack{
		PackID: m.PackID, SignerID: m.SignerID, ClaimedFingerprint: m.SignerPubkeySHA256, SignerPubkey: m.SignerPubkey,
		SignatureAlg: m.SignatureAlg, PackRootSHA256: m.PackRootSHA256, ClaimSetHash: m.ClaimSetHash,
		RunID: a.RunID, ReceiptIntegrity: a.ReceiptIntegrity, ClaimCheck: a.ClaimCheck, Mode: a.Mode,
		TimestampStart: a.TimestampStart, TimestampEnd: a.TimestampEnd, VerifierVersion: a.VerifierVersion, FormatVersion: a.PackFormatVersion,
	}
	if a.CIBinding != nil {
		v.r.Pack.CIBinding = a.CIBinding
	}
	if a.ValidUntil != nil {
		v.r.Pack.ValidUntil = *a.ValidUntil
	}
}

// maxEntryWarnings bounds the per-entry warnings about a pack's root
// directory; further entries are counted in one line.
const maxEntryWarnings = 50

func (v *verifier) warnUnexpected() {
	d, err := v.p.Root().Open(".")
	if err != nil {
		return
	}
	defer d.Close()
	want := map[string]bool{}
	for _, s := range v.man.ExpectedFiles {
		want[s] = true
	}
	// The directory is read in batches: a pack root holding a million
	// entries costs a batch of memory, not a million warnings.
	var warn []string
	more := 0
	for {
		ents, err := d.ReadDir(1024)
		for _, e := range ents {
			name := e.Name()
			var w string
			switch {
			case want[name]:
				continue
			case name == pack.DirUnsigned && e.IsDir():
				continue
			case name == "PACK_SUMMARY.md" || name == "decision_credential.json":
				w = "Legacy unsigned sidecar at pack root: " + name
			default:
				w = "Unexpected top-level pack entry ignored: " + name
			}
			if len(warn) < maxEntryWarnings {
				warn = append(warn, w)
			} else {
				more++
			}
		}
		if err != nil || len(ents) == 0 {
			break
		}
	}
	sort.Strings(warn)
	v.r.Warnings = append(v.r.Warnings, warn...)
	if more > 0 {
		v.r.Warnings = append(v.r.Warnings, fmt.Sprintf("%d more unexpected top-level pack entries ignored", more))
	}
}

// contained resolves name inside the pack and reports whether it stays
// there, following symlinks; absolute paths and NUL bytes never do.
func (v *verifier) contained(name string) (string, bool) {
	if name == "" || filepath.IsAbs(name) || strings.ContainsRune(name, 0) {
		return "", false
	}
	root, err := filepath.EvalSymlinks(v.dir)
	if err != nil {
		root = filepath.Clean(v.dir)
	}
	root, _ = filepath.Abs(root)
	joined := filepath.Join(root, name)
	resolved, err := filepath.EvalSymlinks(joined)
	if err != nil {
		// A missing file: resolve the deepest existing parent, as Python's
		// non-strict resolve does, and check the rest lexically.
		if resolved, err = fsutil.ResolvePartial(joined); err != nil {
			return "", false
		}
	}
	rel, err := filepath.Rel(root, resolved)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return resolved, true
}

// checkFiles runs steps 1 and 1b and returns the number of paths checked.
func (v *verifier) checkFiles(files []pack.FileEntry, expected []string) int {
	r := v.r
	listed := map[string]bool{}
	type fileHash struct {
		sum  string
		size int64
		err  error
	}
	hashed := map[string]fileHash{}
	for _, fe := range files {
		name := fe.Path
		listed[name] = true
		full, ok := v.contained(name)
		if !ok {
			r.addErr(EPathEscape, name, StagePaths, "Path escapes pack directory: "+name)
			continue
		}
		want := fe.SHA256
		var got string
		var size int64
		if name == pack.FileReceipts && full == v.rcptPath() {
			if v.rcpt.missing {
				r.addErr(EManifestTamper, name, StageFileHashes, "File missing: "+name)
				continue
			}
			if v.rcpt.readErr != nil {
				r.addErr(EManifestTamper, name, StageFileHashes, fmt.Sprintf("Cannot read %s: %v", name, v.rcpt.readErr))
				continue
			}
			got, size = v.rcpt.fileHash, v.rcpt.size
		} else {
			var err error
			// A file listed many times (under one resolved path) is read
			// once: a manifest cannot multiply the bytes hashed.
			if h, ok := hashed[full]; ok {
				got, size, err = h.sum, h.size, h.err
			} else {
				got, size, err = v.hashFile(name)
				hashed[full] = fileHash{got, size, err}
			}
			if errors.Is(err, os.ErrNotExist) {
				r.addErr(EManifestTamper, name, StageFileHashes, "File missing: "+name)
				continue
			}
			if err != nil {
				r.addErr(EManifestTamper, name, StageFileHashes, fmt.Sprintf("Cannot read %s: %v", name, err))
				continue
			}
		}
		if got != want {
			r.addErr(EManifestTamper, name, StageFileHashes, fmt.Sprintf("Hash mismatch for %s: expected %s..., got %s...", name, short(want), short(got)))
			continue
		}
		if fe.Bytes != size {
			r.Warnings = append(r.Warnings, fmt.Sprintf("Size mismatch for %s: manifest says %s bytes, file has %d", name, count(int(fe.Bytes)), size))
		}
	}
	has := func(field string) bool { return r.errFields[field] }
	names := map[string]bool{}
	for _, name := range expected {
		names[name] = true
		full, ok := v.contained(name)
		if !ok {
			if !has(name) {
				r.addErr(EPathEscape, name, StagePaths, "Path escapes pack directory: "+name)
			}
			continue
		}
		if _, err := os.Lstat(full); err != nil && !has(name) {
			r.addErr(EManifestTamper, name, StageFileHashes, "Expected file missing: "+name)
		}
	}
	// Beyond the reference (pack-format.md §11.3): the three content files
	// must be hash-covered and all five kernel names expected, or a pack
	// could drop its receipts from the signed scope.
	for _, k := range []string{pack.FileReceipts, pack.FileReport, pack.FileTranscript} {
		if !listed[k] {
			r.addErr(EManifestTamper, "files", StageFileHashes, "Kernel file is not hash-covered by the manifest: "+k)
		}
	}
	for _, k := range pack.KernelFiles {
		if !names[k] {
			r.addErr(EManifestTamper, "expected_files", StageFileHashes, "Kernel file missing from expected_files: "+k)
		}
	}
	return len(files) + len(expected)
}

func (v *verifier) rcptPath() string {
	p, _ := v.contained(pack.FileReceipts)
	return p
}

func short(h string) string {
	if len(h) > 16 {
		return h[:16]
	}
	return h
}

// open opens a pack file through the pack's root; a file that turned out
// not to be regular (swapped in after the preflight) is bad input.
func (v *verifier) open(name string) (*os.File, error) {
	f, err := v.p.OpenFile(name)
	if pack.IsRefused(err) && v.r.badInput == nil {
		v.r.badInput = err
	}
	return f, err
}

func (v *verifier) hashFile(name string) (string, int64, error) {
	f, err := v.open(name)
	if err != nil {
		return "", 0, fsutil.Reason(err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// checkReceipts is step 2 plus the Merkle check; it reports whether the
// attestation honestly records a receipt integrity FAIL.
func (v *verifier) checkReceipts() bool {
	r, s := v.r, &v.rcpt
	r.ReceiptCount = s.count
	r.CallsiteIDs = s.callsites
	r.ModelCallsWithoutCallsite = s.noCallsite
	r.GatewayCallsWithoutCallsite = s.gwNoCallsite
	if s.callsitesCapped {
		r.Warnings = append(r.Warnings, fmt.Sprintf("More distinct callsite_id values than the %d kept; call-site coverage counts only those", len(s.callsites)))
	}
	r.TypeCounts = s.types
	if s.missing || s.readErr != nil {
		return false
	}
	if s.parseErrLine > 0 {
		r.addErr(EManifestTamper, pack.FileReceipts, StageReceipts, fmt.Sprintf("Invalid JSON in receipt_pack.jsonl at line %d", s.parseErrLine))
	} else if exp := v.man.ReceiptCountExpected; exp != s.count {
		r.addErr(EOmission, "", StageReceipts, fmt.Sprintf("Receipt count mismatch: manifest expects %s, pack has %d", count(exp), s.count))
	}
	recomputed := "PASS"
	if !s.integrityOK {
		recomputed = "FAIL"
	}
	// The schema requires the claim; it passed before this stage runs.
	claimed := v.att.ReceiptIntegrity
	honest := false
	if claimed != recomputed {
		r.addErr(EManifestTamper, "receipt_integrity", StageReceipts, fmt.Sprintf("Recomputed receipt_integrity is %s, attestation claims %v", recomputed, claimed))
	} else if recomputed == "FAIL" {
		honest = true
	}
	var head string
	headOK := true
	if s.parseErrLine == 0 {
		if s.count == 0 {
			head = receipt.EmptyHeadHash
		} else if s.last != nil {
			h, err := strictDigest(s.last)
			if err != nil {
				headOK = false
			} else {
				head = h
			}
		} else {
			headOK = false
		}
	} else {
		headOK = false
	}
	if headOK {
		r.HeadHash = &head
	}
	// The schema requires head_hash; it passed before this stage runs.
	switch {
	case !headOK:
		r.addErr(EManifestTamper, "head_hash", StageReceipts, "Attestation claims head_hash but verifier could not recompute it from the receipts")
	case v.att.HeadHash != head:
		r.addErr(EManifestTamper, "head_hash", StageReceipts, "Recomputed head_hash does not match attestation")
	}
	v.checkMerkle()
	return honest
}

// checkMerkle recomputes the DECISIONS 9 Merkle root when the hash-covered
// report records one.
func (v *verifier) checkMerkle() {
	if _, ok := v.contained(pack.FileReport); !ok {
		return
	}
	raw, err := v.p.ReadFile(pack.FileReport, maxReportBytes)
	if err != nil {
		// Unreadable or larger than any report we write: the Merkle root
		// it may record is not checked (the file hash still is).
		if pack.IsRefused(err) && v.r.badInput == nil {
			v.r.badInput = err
		}
		return
	}
	doc, err := canon.Decode(raw)
	if err != nil {
		return // the reference never parses this file; neither does its verdict
	}
	obj, ok := doc.(*canon.Object)
	if !ok {
		return
	}
	v.checkSeal(obj)
	mv, ok := obj.Get("merkle")
	if !v.rcpt.treeComplete {
		// No tree over these lines: a parse error (already an error) or a
		// blank line. Packs that record a root are ours, one receipt per
		// line: a blank line in one is tampering, found without hashing
		// the rest of the file.
		v.r.Merkle = &Merkle{Algorithm: "rfc6962-sha256", Recorded: ok}
		if ok && v.rcpt.parseErrLine == 0 && v.rcpt.blankLine > 0 {
			v.r.addErr(EManifestTamper, "merkle", StageReceipts, fmt.Sprintf("receipt_pack.jsonl has a blank line (line %d); a pack that records a Merkle root holds one receipt per line", v.rcpt.blankLine))
		}
		return
	}
	if !ok {
		v.r.Merkle = &Merkle{Algorithm: "rfc6962-sha256", TreeSize: v.rcpt.tree.Size(), Root: v.rcpt.tree.RootHex()}
		return
	}
	m, ok := mv.(*canon.Object)
	got := v.rcpt.tree.RootHex()
	res := &Merkle{Algorithm: "rfc6962-sha256", TreeSize: v.rcpt.tree.Size(), Root: got, Recorded: true}
	v.r.Merkle = res
	if !ok || m.String("algorithm") != "rfc6962-sha256" {
		v.r.addErr(EManifestTamper, "merkle", StageReceipts, "verify_report.json records a Merkle object this verifier cannot read")
		return
	}
	if size, _ := m.Get("tree_size"); !numEquals(size, int64(v.rcpt.tree.Size())) {
		v.r.addErr(EManifestTamper, "merkle.tree_size", StageReceipts, fmt.Sprintf("Merkle tree size %v recorded, %d receipt lines found", size, v.rcpt.tree.Size()))
		return
	}
	if m.String("root") != got {
		v.r.addErr(EManifestTamper, "merkle.root", StageReceipts, fmt.Sprintf("Recomputed Merkle root %s... does not match recorded %s...", short(got), short(m.String("root"))))
		return
	}
	res.Match = true
}

func (v *verifier) checkSignature() {
	r, m := v.r, v.man
	sig, err := keys.DecodeB64(m.Signature)
	if err != nil {
		r.addErr(EPackSigInvalid, "signature", StageSignature, "Manifest signature is not valid base64")
		return
	}
	if _, ok := v.contained(pack.FileSignature); !ok {
		r.addErr(EPackSigInvalid, pack.FileSignature, StageSignature, "Detached signature path escapes pack directory")
	} else if det, err := v.readSig(); errors.Is(err, os.ErrNotExist) {
		r.addErr(EPackSigInvalid, pack.FileSignature, StageSignature, "Detached signature file missing: "+pack.FileSignature)
	} else if err != nil || !bytes.Equal(det, sig) {
		r.addErr(EPackSigInvalid, pack.FileSignature, StageSignature, "Detached signature does not match manifest signature bytes")
	}
	msg, err := m.SigningBytes()
	if err != nil {
		r.addErr(EPackSigInvalid, "signature", StageSignature, "Cannot canonicalize the manifest for signature verification: "+err.Error())
		return
	}
	id := m.SignerID
	var pub []byte
	source := "embedded"
	if pk := m.SignerPubkey; pk != "" {
		pub, err = keys.DecodeB64(pk)
		if err != nil {
			r.addErr(EPackSigInvalid, "signer_pubkey", StageSignature, "signer_pubkey is not valid base64")
			return
		}
		if keys.Fingerprint(pub) != m.SignerPubkeySHA256 {
			r.addErr(EPackSigInvalid, "signer_pubkey_sha256", StageSignature, "signer_pubkey_sha256 does not match the embedded signer_pubkey")
			return
		}
	} else {
		source = "keystore"
		named := v.opt.KeystoreSigner == "" || v.opt.KeystoreSigner == id
		if v.opt.Keystore != nil && named && keys.ValidID(id) == nil {
			pub, _ = v.opt.Keystore.LoadPublic(id)
		}
		if pub == nil {
			msg := "Cannot verify signature: missing signer_pubkey and no keystore fallback"
			if !named {
				msg = fmt.Sprintf("Cannot verify signature: missing signer_pubkey, and the pack's signer %q is not the named signer %q", id, v.opt.KeystoreSigner)
			}
			r.addErr(EPackSigInvalid, "signer_pubkey", StageSignature, msg)
			return
		}
	}
	if len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize || !ed25519.Verify(pub, msg, sig) {
		r.addErr(EPackSigInvalid, "signer_pubkey", StageSignature, "Manifest signature verification failed against embedded signer_pubkey")
		return
	}
	// The summary names the key that verified, never the manifest's claim.
	r.Pack.Fingerprint, r.Pack.SignerKey = keys.Fingerprint(pub), source
	if v.opt.Keystore != nil && keys.ValidID(id) == nil {
		if local, err := v.opt.Keystore.LoadPublic(id); err == nil && keys.Fingerprint(local) != keys.Fingerprint(pub) {
			r.Warnings = append(r.Warnings, fmt.Sprintf("Local key %q has a different fingerprint than the pack's signer", id))
		}
	}
}

// checkAttestationAgrees holds the attestation to the manifest where both
// state the same fact: pack_id, and the receipt count (n_receipts against
// receipt_count_expected). The reference never compares them (§11.5); a
// signed pack whose two statements differ says two things at once.
func (v *verifier) checkAttestationAgrees() {
	if a, m := v.att.PackID, v.man.PackID; a != m {
		v.r.addErr(EManifestTamper, "pack_id", StageAttestation, fmt.Sprintf("Attestation pack_id %q does not match the manifest's %q", a, m))
	}
	n, exp := v.att.NReceipts, v.man.ReceiptCountExpected
	if n != exp || n == pack.NoNumber {
		v.r.addErr(EManifestTamper, "n_receipts", StageAttestation, fmt.Sprintf("Attestation n_receipts %s does not match the manifest's receipt_count_expected %s", count(n), count(exp)))
	}
}

// readSig reads the detached signature (64 bytes in any honest pack).
func (v *verifier) readSig() ([]byte, error) {
	b, err := v.p.ReadFile(pack.FileSignature, pack.MaxSignatureBytes)
	if pack.IsRefused(err) && v.r.badInput == nil {
		v.r.badInput = err
	}
	return b, err
}

// checkTime is step 6: freshness, the 24 h future guard and CI binding.
func (v *verifier) checkTime() {
	r, att, now := v.r, v.att, v.opt.Now
	ts := att.TimestampEnd
	if ts == "" {
		ts = att.TimestampStart
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if v.opt.MaxAgeHours > 0 {
		switch {
		case err != nil:
			r.addGateErr(ETimestampInvalid, "timestamp_end", StageFreshness, "Cannot check freshness: pack timestamp missing or unreadable")
		case now.Sub(t) > time.Duration(v.opt.MaxAgeHours*float64(time.Hour)):
			r.addGateErr(EPackStale, "timestamp_end", StageFreshness, fmt.Sprintf("Pack is %.1f hours old, more than --max-age-hours %v", now.Sub(t).Hours(), v.opt.MaxAgeHours))
		}
	}
	if err == nil && t.Sub(now) > FutureSkew {
		r.addErr(ETimestampInvalid, "timestamp_end", StageFreshness, fmt.Sprintf("Pack timestamp %s is more than 24 hours in the future", ts))
	}
	cio := att.CIBinding
	if v.opt.RequireCIBinding && cio == nil {
		r.addGateErr(ECIMissing, "ci_binding", StageCIBinding, "Pack has no ci_binding, and --require-ci-binding was given")
	}
	if want := strings.ToLower(v.opt.ExpectedCommitSHA); want != "" {
		switch {
		case cio == nil:
			r.addGateErr(ECIMissing, "ci_binding", StageCIBinding, "Pack has no ci_binding to compare with --expected-commit-sha")
		case cio.CommitSHA != want:
			r.addGateErr(ECIMismatch, "ci_binding.commit_sha", StageCIBinding, fmt.Sprintf("Pack was built for commit %s, expected %s", cio.CommitSHA, want))
		}
	}
}

// finish runs the claim and requested gates and settles verdict and exit code.
func (r *Result) finish(opt Options, p *pack.Pack) {
	integrityOK := r.nTamper == 0
	r.Passed = integrityOK
	r.Integrity = map[bool]string{true: "PASS", false: "TAMPERED"}[integrityOK]
	switch r.Pack.ClaimCheck {
	case "PASS":
		r.ClaimVerdict = "PASS"
	case "FAIL":
		r.ClaimVerdict = "HONEST_FAIL"
	default:
		r.ClaimVerdict = "NOT_EVALUATED"
	}
	if integrityOK && p != nil {
		if r.Pack.ClaimCheck == "FAIL" && !opt.IntegrityOnly {
			r.addGateErr(EClaimFailed, "claim_check", StageClaims, "The signed claim check is FAIL")
			r.Gates = append(r.Gates, Gate{Name: "claims", Passed: false, Detail: "claim_check FAIL"})
		}
		if opt.RequireClaimPass {
			ok := r.Pack.ClaimCheck == "PASS"
			if !ok {
				r.addGateErr(EClaimGate, "claim_check", StageClaims, fmt.Sprintf("--require-claim-pass: claim_check is %s", r.Pack.ClaimCheck))
			}
			r.Gates = append(r.Gates, Gate{Name: "require-claim-pass", Passed: ok, Detail: "claim_check " + r.Pack.ClaimCheck})
		}
		if opt.CheckExpiry {
			ok := true
			if vu := r.Pack.ValidUntil; vu != "" {
				t, err := time.Parse(time.RFC3339Nano, vu)
				if err != nil || !opt.Now.Before(t) {
					ok = false
					r.addGateErr(EExpired, "valid_until", StageExpiry, "Pack expired or has an unreadable valid_until: "+vu)
				}
			}
			r.Gates = append(r.Gates, Gate{Name: "check-expiry", Passed: ok, Detail: "valid_until " + orNone(r.Pack.ValidUntil)})
		}
		// Freshness and CI binding were checked in checkTime; record them as
		// gates too, so a requested gate that passed is visible.
		if opt.MaxAgeHours > 0 {
			r.Gates = append(r.Gates, Gate{Name: "max-age-hours", Passed: !r.hasGateErr(StageFreshness), Detail: "timestamp_end " + orNone(r.Pack.TimestampEnd)})
		}
		if opt.RequireCIBinding || opt.ExpectedCommitSHA != "" {
			r.Gates = append(r.Gates, Gate{Name: "ci-binding", Passed: !r.hasGateErr(StageCIBinding), Detail: ciDetail(r.Pack.CIBinding)})
		}
		for _, g := range opt.Gates {
			errs := g.Run(r, p)
			for _, e := range errs {
				r.add(e)
			}
			r.Gates = append(r.Gates, Gate{Name: g.Name(), Passed: len(errs) == 0, Detail: gateDetail(errs)})
		}
	}
	tampered, honest := r.nTamper > 0, r.nGate > 0
	if r.honestReceiptFail || r.sealAltered {
		honest = true
	}
	switch {
	case tampered:
		r.Verdict, r.ExitCode = VerdictTampered, exit.Tampered
	case honest:
		r.Verdict, r.ExitCode = VerdictHonestFail, exit.HonestFail
	default:
		r.Verdict, r.ExitCode = VerdictPass, exit.OK
	}
	r.scope()
	sort.Strings(r.CallsiteIDs)
}

func gateDetail(errs []Error) string {
	if len(errs) == 0 {
		return "passed"
	}
	return errs[0].Message
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// scope fills what the pack proves and does not prove.
func (r *Result) scope() {
	r.Proves = []string{}
	r.DoesNotProve = append([]string{}, pack.DoesNotProveAlways...)
	if r.Integrity != "PASS" {
		r.Proves = append(r.Proves, "tamper_evidence_detected")
		r.DoesNotProve = append([]string{"pack_integrity", "receipt_sequence_integrity", "signature_validity"}, r.DoesNotProve...)
		return
	}
	r.Proves = append(r.Proves, "pack_integrity", "receipt_sequence_integrity", "signature_validity")
	if r.Merkle != nil && r.Merkle.Recorded && r.Merkle.Match {
		r.Proves = append(r.Proves, "merkle_root_matches")
	}
	if r.Seal != nil && r.Seal.Verified && r.Seal.Status == seal.StatusIntact {
		r.Proves = append(r.Proves, "sealed_as_recorded")
	}
	if r.Pack.ClaimCheck == "PASS" || r.Pack.ClaimCheck == "FAIL" {
		r.Proves = append(r.Proves, "claim_set_evaluated")
		if r.Pack.ClaimCheck == "PASS" {
			r.Proves = append(r.Proves, "claim_set_satisfied")
		}
	}
	for _, g := range r.Gates {
		if g.Name == "lock" && g.Passed {
			r.Proves = append(r.Proves, "signer_trust_policy_satisfied")
		}
	}
	if !contains(r.Proves, "signer_trust_policy_satisfied") {
		r.Warnings = append(r.Warnings, "Signature valid for supplied key material; signer identity not pinned. Use --lock for trust-anchored verification.")
	}
}

func contains(s []string, x string) bool {
	for _, e := range s {
		if e == x {
			return true
		}
	}
	return false
}

// count shows a count the manifest states (NoNumber: none readable).
func count(n int) string {
	if n == pack.NoNumber {
		return "no readable number"
	}
	return fmt.Sprint(n)
}

// numValue reads a JSON number exactly (3, 3.0 and 3e0 are one value), as
// Python compares an int with a float.
func numValue(v any) (*big.Float, bool) {
	n, ok := v.(canon.Number)
	if !ok {
		return nil, false
	}
	f, _, err := big.ParseFloat(string(n), 10, 256, big.ToNearestEven)
	return f, err == nil
}

// numEquals reports whether the JSON number v equals n.
func numEquals(v any, n int64) bool {
	f, ok := numValue(v)
	return ok && f.Cmp(new(big.Float).SetInt64(n)) == 0
}

// maxReportBytes bounds the report read for its Merkle root: no report we
// write comes near it.
const maxReportBytes = 16 << 20
