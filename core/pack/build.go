package pack

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/claims"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/fsutil"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/merkle"
	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/internal/lazyre"
)

// Options are the inputs of Build.
type Options struct {
	RunID    string             // the trace id; every receipt must belong to it
	Receipts []*receipt.Receipt // any order; Build sorts them
	Signer   *keys.Signer
	OutDir   string // must not exist; created atomically

	Claims   []claims.Claim // nil: no claims (claim_check N/A)
	ClaimEnv claims.Env

	Mode      string     // shadow (default), enforced or breakglass
	CIBinding *CIBinding // nil: none

	// Now is the build time (zero: time.Now()). Deterministic additionally
	// derives the pack id from the content, so equal inputs give equal packs.
	Now           time.Time
	Deterministic bool
	// RequireReceipts makes BuildTrace refuse (ErrNoReceipts) a trace
	// without receipts instead of building an empty pack.
	RequireReceipts bool
	// SortMemory bounds the memory BuildTrace's sort keys take before they
	// spill to temporary files (0: DefaultSortMemory).
	SortMemory int
	// VerifierVersion overrides the version recorded in the attestation
	// (default version.Version); conformance tests use it.
	VerifierVersion string
	// ReportExtra are members appended to verify_report.json, which the
	// manifest hash-covers (so they are signed with the pack), e.g. the
	// recorder's seal summary.
	ReportExtra []ReportMember
	// Unsigned are files copied under _unsigned/ (bulky parts the signed
	// report pins by hash).
	Unsigned []UnsignedFile
}

// ReportMember is one extra member of verify_report.json.
type ReportMember struct {
	Key   string
	Value any
}

// UnsignedFile is a file copied into the pack under _unsigned/.
type UnsignedFile struct {
	Name   string // slash path relative to _unsigned/, e.g. seal/log.jsonl
	Source string // the file to copy
}

// Result describes a built pack.
type Result struct {
	Dir              string               `json:"output_dir"`
	PackID           string               `json:"pack_id"`
	RunID            string               `json:"run_id"`
	PackRootSHA256   string               `json:"pack_root_sha256"`
	SignerID         string               `json:"signer_id"`
	Fingerprint      string               `json:"signer_fingerprint"`
	NReceipts        int                  `json:"n_receipts"`
	ReceiptIntegrity string               `json:"receipt_integrity"`
	ClaimCheck       string               `json:"claim_check"`
	HeadHash         string               `json:"head_hash"`
	MerkleRoot       string               `json:"merkle_root"`
	Claims           *claims.Verification `json:"claim_verification,omitempty"`
	Manifest         *Manifest            `json:"-"`
	Files            map[string][]byte    `json:"-"`
}

var modes = map[string]bool{"shadow": true, "enforced": true, "breakglass": true}

// ValidMode checks a --mode value before anything is written.
func ValidMode(m string) error {
	if !modes[m] {
		return exit.Bad("use shadow, enforced or breakglass", "invalid mode %q", m)
	}
	return nil
}

// Build writes a signed proof pack (pack-format.md §4.7, DECISIONS 7, 9, 10):
// receipts are checked, sorted and written as canonical lines; receipt
// integrity, head hash, Merkle root and claims are computed; the
// attestation, report and transcript are rendered; the manifest is signed;
// and the directory is published atomically (built in a sibling staging
// directory, then renamed). Bad input is refused with exit 3 before anything
// is written.
func Build(opt Options) (*Result, error) {
	now, vv, err := checkOptions(&opt)
	if err != nil {
		return nil, err
	}
	recs, err := checkAndSort(opt.RunID, opt.Receipts)
	if err != nil {
		return nil, err
	}
	lines, integrity, head, err := writeLines(recs)
	if err != nil {
		return nil, err
	}
	tree := merkle.NewBuilder()
	for _, l := range lines {
		tree.AddLine(l)
	}
	var jsonl bytes.Buffer
	for _, l := range lines {
		jsonl.Write(l)
		jsonl.WriteByte('\n')
	}
	if _, err := claimSet(opt.Claims); err != nil {
		return nil, err
	}
	var verification *claims.Verification
	if opt.Claims != nil {
		verification, err = claims.Evaluate(opt.Claims, recs, opt.ClaimEnv, PolicyHash, SuiteHash)
		if err != nil {
			return nil, fmt.Errorf("evaluate claims: %w", err)
		}
	}
	start, end := timeRange(recs, now)
	data := jsonl.Bytes()
	if data == nil {
		data = []byte{} // an empty pack still has its (0-byte) receipt file
	}
	return finish(opt, now, vv, body{
		n: len(recs), integrity: integrity, head: head,
		jsonl: data, jsonlHash: sha256hex(jsonl.Bytes()), jsonlSize: int64(jsonl.Len()),
		merkleRoot: tree.RootHex(), treeSize: tree.Size(), verification: verification, start: start, end: end,
	}, nil)
}

// body is what the pass over the receipts learned, in memory or streamed.
type body struct {
	n               int
	integrity, head string
	jsonl           []byte // nil when the lines were streamed into the staging directory
	jsonlHash       string
	jsonlSize       int64
	merkleRoot      string
	treeSize        uint64
	verification    *claims.Verification
	start, end      string
}

// claimSet returns the claim_set_hash (NoClaimsHash without claims).
func claimSet(cl []claims.Claim) (string, error) {
	if cl == nil {
		return NoClaimsHash, nil
	}
	h, err := claims.SetHash(cl)
	if err != nil {
		return "", exit.Bad("check the card's params", "claim set cannot be hashed: %v", err)
	}
	return h, nil
}

// finish renders the attestation, report, transcript and signed manifest
// around the receipt lines and publishes the pack. st is the staging
// directory already holding receipt_pack.jsonl, or nil when b.jsonl holds
// the lines.
func finish(opt Options, now time.Time, vv string, b body, st *stage) (*Result, error) {
	claimSetHash, err := claimSet(opt.Claims)
	if err != nil {
		return nil, err
	}
	claimCheck := "N/A"
	var fp *string
	verification := b.verification
	if verification != nil {
		claimCheck = "FAIL"
		if verification.Passed {
			claimCheck = "PASS"
		}
		f := verification.DiscrepancyFingerprint
		fp = &f
	}
	att := Attestation{
		PackFormatVersion: FormatVersion, FingerprintVersion: 1,
		RunID: opt.RunID, SuiteID: SuiteID, SuiteHash: SuiteHash,
		VerifierVersion: vv, CanonVersion: "jcs-rfc8785", CanonImpl: "receipts.jcs", CanonImplVersion: vv,
		PolicyHash: PolicyHash, ClaimSetID: ClaimSetNone, ClaimSetHash: claimSetHash,
		ReceiptIntegrity: b.integrity, ClaimCheck: claimCheck, DiscrepancyFingerprint: fp,
		AssuranceLevel: "L0", ProofTier: "signed-pack", Mode: opt.Mode,
		HeadHash: b.head, HeadHashAlgorithm: HeadHashAlgorithm, TimeAuthority: "local_clock",
		NReceipts: b.n, TimestampStart: b.start, TimestampEnd: b.end, CIBinding: opt.CIBinding,
	}
	if opt.Deterministic {
		att.PackID, err = deterministicID(att, b.jsonlHash)
		if err != nil {
			return nil, err
		}
	} else {
		att.PackID = "pack_" + now.UTC().Format("20060102T150405") + "_" + receipt.NewID("", 8)
	}
	attHash, err := AttestationHash(att)
	if err != nil {
		return nil, fmt.Errorf("hash attestation: %w", err)
	}
	builtAt := receipt.Timestamp(now)

	rep := buildReport(reportInput{
		att: att, attHash: attHash, builtAt: builtAt, jsonlHash: b.jsonlHash,
		claims: verification, merkleRoot: b.merkleRoot, treeSize: b.treeSize, extra: opt.ReportExtra,
	})
	reportBytes, err := indentJSON(rep)
	if err != nil {
		return nil, err
	}
	transcript := renderTranscript(att, verification, builtAt)
	files := map[string][]byte{
		FileReport:     reportBytes,
		FileTranscript: transcript,
	}
	if b.jsonl != nil {
		files[FileReceipts] = b.jsonl
	}
	pub := opt.Signer.Public()
	man := &Manifest{
		PackID: att.PackID, PackVersion: FormatVersion, ManifestVersion: ManifestVersion, HashAlg: "sha256",
		Attestation: att, AttestationSHA256: attHash, SuiteHash: SuiteHash,
		ClaimSetID: ClaimSetNone, ClaimSetHash: claimSetHash, ReceiptCountExpected: b.n,
		ExpectedFiles: slices.Clone(KernelFiles),
		SignerID:      opt.Signer.ID, SignerPubkey: keys.PubB64(pub), SignerPubkeySHA256: keys.Fingerprint(pub),
		SignatureAlg: "ed25519", SignatureScope: SignatureScope,
	}
	man.Files = append(man.Files, FileEntry{Path: FileReceipts, SHA256: b.jsonlHash, Bytes: b.jsonlSize})
	for _, name := range []string{FileReport, FileTranscript} {
		man.Files = append(man.Files, FileEntry{Path: name, SHA256: sha256hex(files[name]), Bytes: int64(len(files[name]))})
	}
	sig, err := Sign(man, opt.Signer)
	if err != nil {
		return nil, err
	}
	man.Signature = base64.StdEncoding.EncodeToString(sig)
	man.PackRootSHA256 = attHash
	manBytes, err := indentJSON(man)
	if err != nil {
		return nil, err
	}
	files[FileManifest] = manBytes
	files[FileSignature] = sig

	res := &Result{
		Dir: opt.OutDir, PackID: att.PackID, RunID: opt.RunID, PackRootSHA256: attHash,
		SignerID: opt.Signer.ID, Fingerprint: man.SignerPubkeySHA256, NReceipts: b.n,
		ReceiptIntegrity: b.integrity, ClaimCheck: claimCheck, HeadHash: b.head, MerkleRoot: b.merkleRoot,
		Claims: verification, Manifest: man, Files: files,
	}
	summary := renderSummary(res, att)
	if st != nil {
		if err := publishIn(st.parent, st.name, st.rel, opt.OutDir, files, summary, opt.Unsigned...); err != nil {
			return nil, err // the caller removes the staging directory
		}
		return res, nil
	}
	if err := publish(opt.OutDir, files, summary, opt.Unsigned...); err != nil {
		return nil, err
	}
	return res, nil
}

// Sign signs the manifest's signing bytes with the signer.
func Sign(man *Manifest, s *keys.Signer) ([]byte, error) {
	raw, err := json.Marshal(man)
	if err != nil {
		return nil, err
	}
	v, err := canon.Decode(raw)
	if err != nil {
		return nil, err
	}
	msg, err := SigningBytes(v.(*canon.Object))
	if err != nil {
		return nil, err
	}
	return s.Sign(msg), nil
}

func sha256hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// checkAndSort enforces the build-time rules of §4.7 step 1 and DECISIONS 10
// and returns the receipts in pack order.
func checkAndSort(runID string, in []*receipt.Receipt) ([]*receipt.Receipt, error) {
	recs := slices.Clone(in)
	for i, r := range recs {
		if err := checkOne(runID, i, r); err != nil {
			return nil, err
		}
	}
	sort.SliceStable(recs, func(i, j int) bool {
		a, b := recs[i], recs[j]
		if ka, kb := sortOwner(a), sortOwner(b); ka != kb {
			return ka < kb
		}
		if sa, sb := seqOf(a), seqOf(b); sa != sb {
			return sa < sb
		}
		return a.String("receipt_id") < b.String("receipt_id")
	})
	return recs, nil
}

// checkOne enforces the build-time rules on receipt i.
func checkOne(runID string, i int, r *receipt.Receipt) error {
	tr, hasTr := r.Get("_trace_id")
	rid, hasRid := r.Get("run_id")
	if hasTr && hasRid && differ(tr, rid) {
		return exit.Bad("a receipt belongs to one run", "receipt %d (%s) has _trace_id %v but run_id %v", i, r.String("receipt_id"), tr, rid)
	}
	owner := tr
	if !hasTr {
		owner = rid
	}
	if (hasTr || hasRid) && owner != runID {
		return exit.Bad("pack each trace separately", "receipt %d (%s) belongs to run %v, not %s", i, r.String("receipt_id"), owner, runID)
	}
	typ := r.String("type")
	if !receipt.TypeAllowed(typ) {
		return exit.Bad("allowed types: "+receipt.AllowedForms(), "receipt %d (%s) has type %q, which a proof pack cannot carry", i, r.String("receipt_id"), typ)
	}
	return nil
}

// differ compares two owner values without panicking on arrays or objects
// (== on two []any would): strings by value; two non-strings are left to the
// ownership check, which refuses them.
func differ(a, b any) bool {
	as, aok := a.(string)
	bs, bok := b.(string)
	if aok && bok {
		return as != bs
	}
	return aok || bok
}

func sortOwner(r *receipt.Receipt) string {
	if v, ok := r.Get("_trace_id"); ok {
		return fmt.Sprint(v)
	}
	if v, ok := r.Get("run_id"); ok {
		return fmt.Sprint(v)
	}
	return ""
}

func seqOf(r *receipt.Receipt) float64 {
	v, _ := r.Get("seq")
	if n, ok := v.(canon.Number); ok {
		f, _ := strconv.ParseFloat(string(n), 64)
		return f
	}
	switch x := v.(type) {
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case float64:
		return x
	}
	return 0
}

// writeLines renders the pack lines, runs the receipt integrity checks and
// computes the head hash.
func writeLines(recs []*receipt.Receipt) (lines [][]byte, integrity, head string, err error) {
	integrity = "PASS"
	head = receipt.EmptyHeadHash
	seen := make(map[string]bool, len(recs))
	for i, r := range recs {
		line, err := receipt.Line(r)
		if err != nil {
			return nil, "", "", exit.Bad("receipt keys must be ASCII and values finite", "receipt %d (%s) cannot be canonicalized: %v", i, r.String("receipt_id"), err)
		}
		lines = append(lines, line)
		id := r.String("receipt_id")
		ts := r.String("timestamp")
		if id == "" || ts == "" || seen[id] {
			integrity = "FAIL"
		}
		if _, ok := receipt.ParseTimestamp(ts); !ok {
			integrity = "FAIL"
		}
		seen[id] = true
	}
	if len(recs) > 0 {
		head, err = receipt.Digest(recs[len(recs)-1])
		if err != nil {
			return nil, "", "", err
		}
	}
	return lines, integrity, head, nil
}

var rfc3339 = lazyre.New(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$`)

// timeRange returns the lexicographic min and max receipt timestamps (falling
// back to _stored_at), as the reference does, normalised to strict RFC 3339
// when a receipt used a looser form; the build time when there are none.
func timeRange(recs []*receipt.Receipt, now time.Time) (string, string) {
	var start, end string
	for _, r := range recs {
		ts := r.String("timestamp")
		if ts == "" {
			ts = r.String("_stored_at")
		}
		if ts == "" {
			continue
		}
		if start == "" || ts < start {
			start = ts
		}
		if end == "" || ts > end {
			end = ts
		}
	}
	return normRange(start, end, now)
}

// deterministicID is pack_deterministic_<8 hex> over the content seed (§4.3).
func deterministicID(att Attestation, jsonlHash string) (string, error) {
	seed := map[string]any{
		"pack_format_version": FormatVersion, "run_id": att.RunID, "receipt_pack_sha256": jsonlHash,
		"policy_hash": att.PolicyHash, "suite_hash": att.SuiteHash, "claim_set_id": att.ClaimSetID,
		"claim_set_hash": att.ClaimSetHash, "mode": att.Mode, "ci_binding": att.CIBinding,
		"valid_until": att.ValidUntil, "superseded_by": att.SupersededBy,
	}
	b, err := canon.Marshal(seed)
	if err != nil {
		return "", err
	}
	seedHex := sha256hex(b)
	return "pack_deterministic_" + sha256hex([]byte(seedHex))[:8], nil
}

var sha40 = lazyre.New(`^[0-9a-f]{40}$`)

func (c *CIBinding) validate() error {
	if !slices.Contains(CIProviders, c.Provider) {
		return exit.Bad("use one of "+strings.Join(CIProviders, ", "), "invalid CI provider %q", c.Provider)
	}
	if !sha40().MatchString(c.CommitSHA) {
		return exit.Bad("a commit sha is 40 lowercase hex characters", "invalid CI commit sha %q", c.CommitSHA)
	}
	return nil
}

// DetectCIBinding returns the GitHub Actions binding when GITHUB_ACTIONS is
// "true" and GITHUB_SHA is a full 40-hex SHA, as the reference does.
func DetectCIBinding(getenv func(string) string) *CIBinding {
	if getenv("GITHUB_ACTIONS") != "true" {
		return nil
	}
	sha := strings.ToLower(getenv("GITHUB_SHA"))
	if !sha40().MatchString(sha) {
		return nil
	}
	return &CIBinding{
		Provider: "github_actions", CommitSHA: sha, Repo: getenv("GITHUB_REPOSITORY"), Ref: getenv("GITHUB_REF"),
		RunID: getenv("GITHUB_RUN_ID"), RunAttempt: getenv("GITHUB_RUN_ATTEMPT"),
		WorkflowRef: getenv("GITHUB_WORKFLOW_REF"), Actor: getenv("GITHUB_ACTOR"),
	}
}

// stage is the staging directory a streamed pack is built in: made inside
// one os.Root opened on the output's parent, which every later write and
// the final rename go through, so a parent swapped for a link meanwhile
// cannot redirect any of them.
type stage struct {
	parent *os.Root // the output's parent
	name   string   // the output's name in parent
	rel    string   // the staging directory's name in parent
	dir    *os.Root // the staging directory
	path   string   // the staging directory's path (messages, sort spill files)
}

// openStage creates the output's parent if needed and a staging directory in it.
func openStage(outDir string) (*stage, error) {
	outDir = filepath.Clean(outDir)
	parent := filepath.Dir(outDir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, exit.Bad("check the -o path", "cannot create %s: %v", parent, err)
	}
	root, name, err := fsutil.OpenParent(outDir)
	if err != nil {
		return nil, exit.Bad("check the -o path", "%v", err)
	}
	rel, err := mkStagingIn(root)
	if err != nil {
		root.Close()
		return nil, exit.Bad("check that the output directory's parent is writable", "cannot create staging directory in %s: %v", parent, fsutil.Reason(err))
	}
	dir, err := root.OpenRoot(rel)
	if err != nil {
		root.RemoveAll(rel)
		root.Close()
		return nil, fmt.Errorf("open the staging directory: %w", err)
	}
	return &stage{parent: root, name: name, rel: rel, dir: dir, path: filepath.Join(parent, rel)}, nil
}

// close removes the staging directory unless it was published, and
// releases the roots.
func (st *stage) close() {
	st.dir.Close()
	st.parent.RemoveAll(st.rel) // gone already once renamed into place
	st.parent.Close()
}

// publish writes the files into a new staging directory and renames it
// into place, so a reader never sees half a pack. Every step goes through
// one os.Root opened on the output's parent: a parent swapped for a link
// meanwhile cannot redirect a write or the rename.
func publish(outDir string, files map[string][]byte, summary []byte, extra ...UnsignedFile) (err error) {
	outDir = filepath.Clean(outDir)
	parent := filepath.Dir(outDir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return exit.Bad("check the -o path", "cannot create %s: %v", parent, err)
	}
	root, name, err := fsutil.OpenParent(outDir)
	if err != nil {
		return exit.Bad("check the -o path", "%v", err)
	}
	defer root.Close()
	return publishIn(root, name, "", outDir, files, summary, extra...)
}

// publishIn is publish once root (the output's parent) is open: name is
// the output's name in it, rel the staging directory in it already
// holding the receipt lines (removed by its owner on error), or "" to make
// one here (removed here on error).
func publishIn(root *os.Root, name, rel, outDir string, files map[string][]byte, summary []byte, extra ...UnsignedFile) (err error) {
	parent := filepath.Dir(outDir)
	if rel == "" {
		if rel, err = mkStagingIn(root); err != nil {
			return exit.Bad("check that the output directory's parent is writable", "cannot create staging directory in %s: %v", parent, fsutil.Reason(err))
		}
		defer func() {
			if err != nil {
				root.RemoveAll(rel)
			}
		}()
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := writeSyncedIn(root, filepath.Join(rel, n), files[n]); err != nil {
			return fmt.Errorf("write %s: %w", n, err)
		}
	}
	if summary != nil {
		if err := root.Mkdir(filepath.Join(rel, DirUnsigned), 0o755); err != nil {
			return err
		}
		if err := writeSyncedIn(root, filepath.Join(rel, DirUnsigned, "PACK_SUMMARY.md"), summary); err != nil {
			return err
		}
	}
	for _, u := range extra {
		if err := copyUnsignedIn(root, filepath.Join(rel, DirUnsigned), u); err != nil {
			return fmt.Errorf("write %s/%s: %w", DirUnsigned, u.Name, err)
		}
	}
	if _, err := root.Lstat(name); err == nil {
		return exit.Bad("choose a new -o directory", "output directory appeared while building: %s", outDir)
	}
	if err := root.Rename(rel, name); err != nil {
		if errors.Is(err, os.ErrExist) || errors.Is(err, syscall.ENOTEMPTY) {
			return exit.Bad("choose a new -o directory", "output directory already exists: %s", outDir)
		}
		return fmt.Errorf("publish pack: %w", err)
	}
	if d, err := root.Open("."); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// mkStagingIn makes a new staging directory in root and returns its name.
func mkStagingIn(root *os.Root) (string, error) {
	for i := 0; ; i++ {
		rel := ".assay_pack_staging_" + receipt.NewID("", 8)
		err := root.Mkdir(rel, 0o755)
		if err == nil || !errors.Is(err, fs.ErrExist) || i > 100 {
			return rel, err
		}
	}
}

// writeSyncedIn creates the new file name in root, writes data and
// fsyncs it.
func writeSyncedIn(root *os.Root, name string, data []byte) error {
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// copyUnsignedIn copies u.Source to dir/u.Name inside root (creating the
// directories on the way) and fsyncs it.
func copyUnsignedIn(root *os.Root, dir string, u UnsignedFile) error {
	name := filepath.FromSlash(u.Name)
	if !filepath.IsLocal(name) {
		return fmt.Errorf("not a local path")
	}
	if err := root.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755); err != nil {
		return err
	}
	src, err := os.Open(u.Source)
	if err != nil {
		return err
	}
	defer src.Close()
	f, err := root.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, src); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
