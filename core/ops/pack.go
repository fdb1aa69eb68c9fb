package ops

import (
	"errors"
	"os"
	"strings"

	"github.com/assay-dev/assay/core/bundle"
	"github.com/assay-dev/assay/core/claims"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/fsutil"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/recorder"
	"github.com/assay-dev/assay/core/seal"
	"github.com/assay-dev/assay/core/store"
)

// Bundle result kinds.
const (
	KindPack        = "pack"
	KindAuditBundle = "audit_bundle"
)

// BundleResult is the one document of building a pack from a trace
// ('assay proof-pack --json', the MCP bundle tool without pack) and of
// making an audit bundle ('assay audit bundle --json', the bundle tool
// with pack).
type BundleResult struct {
	Kind string `json:"kind" jsonschema:"enum=pack,enum=audit_bundle"`
	// EvidenceLost counts trace lines that were not receipts and were left
	// out of the pack (always 0 for an audit bundle).
	EvidenceLost int            `json:"evidence_lost"`
	Pack         *pack.Result   `json:"pack,omitempty"`
	Bundle       *bundle.Result `json:"bundle,omitempty"`
	// Lost names the lines counted in EvidenceLost, for the front end's
	// warnings.
	Lost []store.LineProblem `json:"-"`
	// GeneratedKey names the signing key made for this pack, if one was.
	GeneratedKey string `json:"-"`
	// Seal is the recorder's seal of the trace, when it was recorded under
	// one (core/recorder): the pack is then built from what was sealed.
	Seal *seal.Summary `json:"seal,omitempty"`
}

// PackRequest asks to build and sign a proof pack from a stored trace.
type PackRequest struct {
	TraceID string
	// Out is the pack directory to create (default proof_pack_<trace id>).
	Out string
	// Cards are run card ids or card files whose claims are signed in.
	Cards []string
	// Mode is recorded in the attestation (default shadow).
	Mode string
	// AllowEmpty builds a pack of a trace without receipts.
	AllowEmpty bool
	// NoGenerateKey fails instead of making a signing key when none exists.
	NoGenerateKey bool
	// WorkDir resolves relative paths in claims (default: the working
	// directory, as the reference does).
	WorkDir string
}

// DefaultMode is the attestation mode when none is given.
const DefaultMode = "shadow"

// Pack builds the request's pack with the active signer. Every front end
// gets the same document, with evidence_lost counting lines left out.
func Pack(r PackRequest, env Env) (*BundleResult, error) {
	if err := store.ValidTraceID(r.TraceID); err != nil {
		return nil, err
	}
	if r.Mode == "" {
		r.Mode = DefaultMode
	}
	if err := pack.ValidMode(r.Mode); err != nil {
		return nil, err
	}
	cards, err := claims.LoadAll(r.Cards)
	if err != nil {
		return nil, err
	}
	if r.Out == "" {
		r.Out = "proof_pack_" + r.TraceID
	}
	if env.Home == "" {
		return nil, exit.Bad("set ASSAY_HOME", "no assay home to read trace %s from", r.TraceID)
	}
	st := store.Open(env.Home)
	if _, err := st.TracePath(r.TraceID); err != nil {
		return nil, err // no trace file: said plainly, even with AllowEmpty
	}
	signer, made, err := keys.Open(env.Home).ActiveSigner(!r.NoGenerateKey)
	if err != nil {
		return nil, err
	}
	if r.WorkDir == "" {
		r.WorkDir, _ = os.Getwd()
	}
	getenv := env.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	// Streamed: memory stays flat however long the trace is.
	popt := pack.Options{
		Signer: signer, OutDir: r.Out, Mode: r.Mode, RequireReceipts: !r.AllowEmpty,
		Claims: claims.Flatten(cards), ClaimEnv: claims.Env{Dir: r.WorkDir},
		CIBinding: pack.DetectCIBinding(getenv),
	}
	// A trace recorded under a recorder is packed from its seal (also
	// after the recorder was killed: the sealed prefix, then the rest of
	// the store, marked unsealed).
	var built *pack.Result
	var probs []store.LineProblem
	var sealSum *seal.Summary
	if sealDir := recorder.SealDir(st.Home, r.TraceID); fsutil.IsDir(sealDir) {
		tracePath, _ := st.TracePath(r.TraceID)
		popt.RunID = r.TraceID
		var sealed *recorder.PackResult
		sealed, probs, err = recorder.BuildPack(sealDir, tracePath, popt)
		if sealed != nil {
			built, sealSum = sealed.Result, &sealed.Seal
		}
	} else {
		built, probs, err = pack.FromTrace(st, r.TraceID, popt)
	}
	if errors.Is(err, pack.ErrNoReceipts) {
		return nil, exit.New(exit.HonestFail, "record receipts first, or allow an empty pack (--allow-empty)", "trace %s holds no receipts", r.TraceID)
	}
	if err != nil {
		return nil, err
	}
	res := &BundleResult{Kind: KindPack, EvidenceLost: len(probs), Pack: built, Lost: probs, Seal: sealSum}
	if made {
		res.GeneratedKey = signer.ID
	}
	return res, nil
}

// BundleRequest asks for the audit bundle of a pack.
type BundleRequest struct {
	Pack string
	// Out is the bundle file (default audit_bundle_<pack_id>.tar.gz next to
	// the working directory).
	Out string
	// Force replaces an existing Out.
	Force bool
}

// DefaultBundleName is the bundle file name a request without Out gets.
func (r BundleRequest) DefaultBundleName() string {
	return bundle.NameFor(r.Pack)
}

// AuditBundle verifies the pack and writes its audit bundle (a tampered
// pack is refused with exit 2). With dst set the bundle is written through
// that root under the name Out (an MCP server's confined output); else to
// the path Out.
func AuditBundle(r BundleRequest, dst *os.Root) (*BundleResult, error) {
	if strings.TrimSpace(r.Pack) == "" {
		return nil, exit.Bad("give the pack directory", "no pack given")
	}
	var b *bundle.Result
	var err error
	if dst != nil {
		b, err = bundle.CreateIn(r.Pack, dst, r.Out)
	} else {
		target := r.Out
		if target == "" {
			target = r.DefaultBundleName()
		}
		if target != "" && !r.Force && fsutil.Exists(target) {
			return nil, exit.Bad("pass --force to replace it, or choose another -o", "%s already exists", target)
		}
		b, err = bundle.Create(r.Pack, r.Out)
	}
	if err != nil {
		return nil, err
	}
	if b.Files == nil {
		b.Files = []string{}
	}
	return &BundleResult{Kind: KindAuditBundle, Bundle: b}, nil
}
