// Package runpack is the `assay run` use case: run a program under a fresh
// trace (optionally behind the recording gateway), then build a signed
// proof pack from the receipts it emitted. It validates every input before
// the child starts, never prints, and returns a typed Result; the CLI
// renders it. The child itself is supervised by core/runner.
package runpack

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/rs/zerolog"

	"github.com/assay-dev/assay/core/blob"
	"github.com/assay-dev/assay/core/capture"
	"github.com/assay-dev/assay/core/capture/gateway"
	"github.com/assay-dev/assay/core/claims"
	"github.com/assay-dev/assay/core/doctor"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/fsutil"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/otlpin"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/recorder"
	"github.com/assay-dev/assay/core/recorder/client"
	"github.com/assay-dev/assay/core/runner"
	"github.com/assay-dev/assay/core/seal"
	"github.com/assay-dev/assay/core/store"
)

// Modes are the attestation modes a run may record.
var Modes = []string{"shadow", "enforced", "breakglass"}

// Request is one `assay run`. Everything the use case reads from the
// outside world is in it: the parent environment, the home and the
// working directory are passed, never looked up.
type Request struct {
	Args          []string // the command and its arguments (required)
	Cards         []string // run cards: built-in ids or card JSON files
	OutDir        string   // pack directory; must not exist (default proof_pack_<trace_id>); or an empty storage prefix (core/blob)
	Mode          string   // shadow (default), enforced or breakglass
	AllowEmpty    bool     // build a pack even when no receipts were emitted
	NoGenerateKey bool     // fail instead of generating a signing key
	Gateway       bool     // record the child's SDK calls through a recording gateway
	StoreContent  bool     // keep prompts and answers in model_call receipts
	// OTLP receives the child's OpenTelemetry GenAI spans on loopback
	// (OTEL_EXPORTER_OTLP_* set for the child) as receipts in this trace;
	// OTLPContent also asks its instrumentations to capture messages (so
	// receipts get content hashes; content is kept only with StoreContent).
	OTLP        bool
	OTLPContent bool

	Home string   // the assay home (store and keys)
	Env  []string // the parent environment the child inherits (KEY=VALUE)
	Dir  string   // working directory (claims, the child, a relative OutDir); empty means the process's

	Stdin          io.Reader
	Stdout, Stderr io.Writer // the child's stdout and stderr
	// GatewayLogger receives the gateway's diagnostics (nil: silent).
	GatewayLogger *zerolog.Logger
	// OnStart, when set, is called once everything is checked and just
	// before the child starts, so the caller can show what is about to run.
	OnStart func(Started)
	// OnExit, when set, is called as soon as the child has ended, before
	// the gateway closes and the pack is built.
	OnExit func(runner.Result)
}

// Started is what is known when the child is about to start.
type Started struct {
	TraceID        string
	Exe            string // the resolved executable
	PythonFallback bool   // 'python' was asked for and python3 runs instead
	SignerID       string
	KeyGenerated   bool   // the signing key was generated for this run
	GatewayURL     string // empty without a gateway
	OTLPURL        string // empty without --otlp
	Args           []string
	// Recorder is the socket of the recorder that seals this run's
	// receipts (ASSAY_RECORDER in the child); Remote when it is a
	// long-lived one (assay recorder serve) that also signs the pack.
	Recorder string
	Remote   bool
}

// Result is how a run ended when a pack was built.
type Result struct {
	TraceID   string
	OutDir    string
	TracePath string // the trace file in the store ("" when nothing was written)
	Child     runner.Result
	Pack      *pack.Result
	WithCards bool // claims were checked (at least one card)
	// GatewayErr is what the gateway reported when it closed (evidence it
	// could not write); GatewayLost counts those receipts.
	GatewayErr  error
	GatewayLost int64
	// OTLP is what the OTLP receiver saw (with Request.OTLP); its store
	// failures count as evidence lost.
	OTLP    otlpin.Stats
	OTLPErr error
	// Unreadable are trace lines that are not receipts, left out of the pack.
	Unreadable []store.LineProblem
	// EvidenceLost = GatewayLost + len(Unreadable): receipts of this run
	// the pack does not hold.
	EvidenceLost int64
	// Verdict and VerdictExitCode are what verify-pack says of the pack's
	// signed attestation.
	Verdict         string
	VerdictExitCode int
	// ExitCode is what `assay run` exits with and ExitCodeFrom whose code
	// it is: "child" when the child failed (DECISIONS 11), else "run".
	ExitCode     int
	ExitCodeFrom string
	// Seal is what the recorder sealed (core/seal); Altered when the store
	// no longer matched it (the run then exits 2 unless the child failed).
	// RecorderErr is a failure of the recorder itself (receipts after it
	// are not sealed; counted in EvidenceLost).
	Seal        *seal.Summary
	Altered     bool
	RecorderErr error
}

// Error is a run that built no pack: Kind names the failure for the
// --json error document; Hints is the checklist for no_receipts_emitted.
// Partial holds what is known about the run when the child already ran
// (nil for a failure before it started).
type Error struct {
	Kind    string
	Hints   []string
	TraceID string
	Partial *Result
	Err     error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func kinded(kind string, err error) error { return &Error{Kind: kind, Err: err} }

// Run validates req, starts the child, waits for it and builds the pack.
// The error is an *Error (carrying its exit code through core/exit) when
// no pack was built.
func Run(ctx context.Context, req Request) (*Result, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	// 1. Validate every input before anything happens.
	if len(req.Args) == 0 {
		return nil, kinded("no_command", exit.Bad("give the program after '--', e.g. assay run -- python app.py", "no command to run"))
	}
	if req.Mode == "" {
		req.Mode = "shadow"
	}
	if !validMode(req.Mode) {
		return nil, kinded("bad_mode", exit.Bad("use --mode shadow, enforced or breakglass", "invalid --mode %q", req.Mode))
	}
	if req.OTLPContent && !req.OTLP {
		return nil, kinded("bad_flag", exit.Bad("add --otlp", "--otlp-content needs --otlp"))
	}
	var cardClaims []claims.Claim
	for _, id := range req.Cards {
		card, err := claims.Load(id)
		if err != nil {
			return nil, kinded("unknown_card", err)
		}
		cardClaims = append(cardClaims, card.Claims...)
	}
	if req.Home == "" {
		return nil, exit.Bad("set "+store.EnvHome, "no assay home given")
	}
	st := store.Open(req.Home)
	traceID := store.NewTraceID()
	outDir := req.OutDir
	if outDir == "" {
		outDir = "proof_pack_" + traceID
	}
	if req.Dir != "" && !filepath.IsAbs(outDir) && !blob.IsURL(outDir) {
		outDir = filepath.Join(req.Dir, outDir) // relative to the request's working directory
	}
	buildDir := outDir
	var upload *blob.Outgoing
	if blob.IsURL(outDir) {
		// A storage URL: checked (reachable, empty) before the child
		// runs; the pack is built locally, then published manifest last
		// with credentials from the request's environment.
		var err error
		if upload, err = blob.OpenOutgoing(ctx, req.Home, outDir, "proof_pack_"+traceID, blob.Options{Getenv: envGetter(req.Env)}); err != nil {
			return nil, kinded("bad_output", err)
		}
		defer upload.Close()
		buildDir = upload.Local
	} else if fsutil.Exists(outDir) {
		return nil, kinded("output_exists", exit.Bad("choose a new -o directory or remove the old pack", "output directory already exists: %s", outDir))
	} else if parent := filepath.Dir(filepath.Clean(outDir)); fsutil.Exists(parent) && !fsutil.IsDir(parent) {
		return nil, kinded("bad_output", exit.Bad("choose a -o path inside a directory", "cannot create %s: %s is not a directory", outDir, parent))
	}
	vars := map[string]string{store.EnvTrace: traceID, store.EnvHome: req.Home}
	if req.StoreContent {
		vars[capture.EnvStoreContent] = "1" // the Go middleware in the child reads it
	}
	env := runner.WithEnv(req.Env, vars)
	exe, err := runner.Resolve(req.Args[0], env)
	if err != nil {
		return nil, kinded("command_not_found", commandNotFound(req.Args[0], err))
	}
	started := Started{TraceID: traceID, Exe: exe, Args: req.Args,
		PythonFallback: req.Args[0] == "python" && filepath.Base(exe) == "python3"}

	// 1b. A long-lived recorder named in our own environment (assay
	// recorder serve, maybe as another user) records this run instead of
	// one of our own: it seals, and signs the pack with its key.
	var remote *client.Client
	if addr := client.Addr(envGetter(req.Env)); addr != "" {
		c, err := client.Dial(addr)
		if err == nil {
			err = c.Open(traceID)
		}
		if err != nil {
			return nil, kinded("recorder_failed", exit.Wrap(exit.BadInput, err, "start it ('assay recorder serve --socket PATH') or unset "+client.EnvRecorder))
		}
		defer c.Close()
		remote = c
		started.Recorder, started.Remote = addr, true
	}
	sink := &lateSink{st: st, remote: remote}

	// 2. The recording gateway, when asked for (its upstreams are checked
	// here, before anything else is written).
	var gw *gateway.Gateway
	if req.Gateway {
		logger := req.GatewayLogger
		if logger == nil {
			nop := zerolog.Nop()
			logger = &nop
		}
		gw, err = gateway.Start(ctx, gateway.Options{Addr: "127.0.0.1:0", Store: st, Sink: sink, TraceID: traceID, Logger: logger, StoreContent: req.StoreContent,
			Upstreams: gateway.UpstreamsFromEnv(envGetter(req.Env))})
		if err != nil {
			return nil, kinded("gateway_failed", err)
		}
		// ASSAY_GATEWAY lets the child (and 'assay doctor' run inside it)
		// know which gateway records it.
		set := map[string]string{doctor.EnvGateway: gw.URL()}
		for _, kv := range gw.Env() {
			k, v, _ := strings.Cut(kv, "=")
			set[k] = v
		}
		env = runner.WithEnv(env, set)
		started.GatewayURL = gw.URL()
	}
	var otlp *otlpin.Server
	if req.OTLP {
		logger := req.GatewayLogger
		if logger == nil {
			nop := zerolog.Nop()
			logger = &nop
		}
		srv, set, err := startOTLP(ctx, st, traceID, logger, req.StoreContent, req.OTLPContent)
		if err != nil {
			if gw != nil {
				_ = gw.Close()
			}
			return nil, kinded("otlp_failed", err)
		}
		otlp = srv
		env = runner.WithEnv(env, set)
		started.OTLPURL = srv.URL()
	}
	closeGateway := func() {
		if gw != nil {
			_ = gw.Close()
		}
		if otlp != nil {
			_ = otlp.Close()
		}
	}

	// 3. Key bootstrap, before the child starts (a long-lived recorder
	// signs with its own key).
	var signer *keys.Signer
	var generated bool
	if remote == nil {
		signer, generated, err = keys.Open(req.Home).ActiveSigner(!req.NoGenerateKey)
	}
	if err != nil {
		closeGateway()
		var xe *exit.Error
		if !errors.As(err, &xe) {
			err = exit.Wrap(exit.BadInput, err, "check that ASSAY_HOME ("+req.Home+") is a writable directory")
		}
		return nil, kinded("key_missing", err)
	}
	if signer != nil {
		started.SignerID, started.KeyGenerated = signer.ID, generated
	}

	// 3b. The recorder: receipts sent to its socket (ASSAY_RECORDER) or
	// appended to the trace file are sealed as they arrive, under a run key
	// certified by the signer before the child starts (issue 20).
	var rec *recorder.Recorder
	if remote == nil {
		rec, err = recorder.Start(recorder.Options{Store: st, TraceID: traceID, Signer: signer, Listen: true})
		if err != nil {
			closeGateway()
			return nil, kinded("recorder_failed", exit.Wrap(exit.BadInput, err, "check that ASSAY_HOME ("+req.Home+") and the temp directory are writable"))
		}
		env = runner.WithEnv(env, map[string]string{client.EnvRecorder: rec.Addr()})
		sink.rec.Store(rec)
		started.Recorder = rec.Addr()
	}
	closeRecorder := func() {
		if rec != nil {
			_ = rec.Close()
		}
	}

	// 4. Run the child.
	if req.OnStart != nil {
		req.OnStart(started)
	}
	proc, err := runner.Start(runner.Spec{Args: req.Args, Env: env, Dir: req.Dir, Stdin: req.Stdin, Stdout: req.Stdout, Stderr: req.Stderr})
	if err != nil {
		closeGateway()
		closeRecorder()
		if errors.Is(err, runner.ErrNotFound) {
			return nil, kinded("command_not_found", exit.Bad("check the spelling and PATH", "command not found: %s", req.Args[0]))
		}
		return nil, kinded("start_failed", exit.Wrap(exit.BadInput, err, ""))
	}
	res := &Result{TraceID: traceID, OutDir: outDir, WithCards: len(cardClaims) > 0}
	res.Child = proc.Wait()
	if req.OnExit != nil {
		req.OnExit(res.Child)
	}
	childFailed := func(code int) int {
		if res.Child.ExitCode != 0 {
			return res.Child.ExitCode
		}
		return code
	}

	// 5. Close the gateway: in-flight calls finish and their receipts land
	// before the trace is read.
	if gw != nil {
		res.GatewayErr = gw.Close()
		res.GatewayLost = gw.Stats().ReceiptsLost
		res.EvidenceLost += res.GatewayLost
	}
	if otlp != nil {
		// The child's SDK flushed its spans before it exited; Close waits
		// for requests still in flight.
		res.OTLPErr = otlp.Close()
		res.OTLP = otlp.Stats()
		res.EvidenceLost += res.OTLP.StoreFails
	}
	// The recorder seals what the file gained last and closes the seal.
	if rec != nil {
		if err := rec.Close(); err != nil {
			res.RecorderErr = err
			res.EvidenceLost++
		}
	}

	// 6 and 7. Read the trace back and build the pack, streamed: the
	// receipts are never all held in memory.
	path, ok, err := st.Find(traceID)
	if err != nil {
		return nil, &Error{Kind: "bad_input", Partial: res, Err: exit.Wrap(childFailed(exit.BadInput), err, "")}
	}
	if ok {
		res.TracePath = path
	}
	dir := req.Dir
	if dir == "" {
		dir = "."
		if abs, err := filepath.Abs("."); err == nil {
			dir = abs
		}
	}
	// Built from what the recorder sealed, not from the file as it is now.
	popt := pack.Options{
		RunID:           traceID,
		Signer:          signer,
		OutDir:          buildDir,
		Claims:          cardClaims,
		ClaimEnv:        claims.Env{Dir: dir},
		Mode:            req.Mode,
		CIBinding:       pack.DetectCIBinding(envGetter(req.Env)),
		RequireReceipts: !req.AllowEmpty,
	}
	var sealed *recorder.PackResult
	var probs []store.LineProblem
	if remote != nil {
		sealed, probs, err = remotePack(remote, traceID, req, buildDir)
	} else {
		sealed, probs, err = recorder.BuildPack(rec.SealDir(), rec.TracePath(), popt)
	}
	var built *pack.Result
	if sealed != nil {
		built = sealed.Result
	}
	res.Unreadable = probs
	res.EvidenceLost += int64(len(probs))
	if errors.Is(err, pack.ErrNoReceipts) {
		e := exit.New(childFailed(exit.HonestFail), "see the checklist above, or pass --allow-empty", "no receipts emitted to trace %s", traceID)
		return nil, &Error{Kind: "no_receipts_emitted", Hints: noReceiptHints(gw != nil, otlp != nil), TraceID: traceID, Partial: res, Err: e}
	}
	if err != nil {
		fix := "the trace is kept; rebuild it with 'assay proof-pack " + traceID + "'"
		if exit.Code(err) == exit.BadInput && res.TracePath != "" {
			// The receipts themselves are the problem: rebuilding as is
			// would fail the same way.
			fix = "the trace is kept in " + res.TracePath + "; fix or remove that receipt's line, then 'assay proof-pack " + traceID + "'"
		}
		e := exit.New(childFailed(exit.Code(err)), fix, "pack not built: %v", err)
		return nil, &Error{Kind: "pack_build_failed", TraceID: traceID, Partial: res, Err: e}
	}
	if upload != nil {
		if _, err := upload.Publish(ctx); err != nil {
			// The pack is built and kept locally; the error says where.
			e := &exit.Error{Code: childFailed(exit.Code(err)), Msg: err.Error()}
			return nil, &Error{Kind: "upload_failed", TraceID: traceID, Partial: res, Err: e}
		}
	}
	res.Pack = built
	res.Seal, res.Altered = &sealed.Seal, sealed.Altered()
	res.Verdict, res.VerdictExitCode = Verdict(built.ReceiptIntegrity, built.ClaimCheck)
	if res.Altered {
		// verify-pack says HONEST_FAIL of a pack whose seal records an
		// alteration: the evidence is authentic and shows the tampering.
		res.Verdict, res.VerdictExitCode = "HONEST_FAIL", exit.HonestFail
	}
	res.ExitCode, res.ExitCodeFrom = exitCode(res.Child.ExitCode, res.EvidenceLost)
	if res.Altered && res.Child.ExitCode == 0 {
		res.ExitCode = exit.Tampered
	}
	return res, nil
}

// exitCode is DECISIONS 11: a failed child's code is passed on; a child
// that succeeded but whose run lost evidence is an honest failure; else 0.
// The pack's own verdict is never the run's exit code (verify-pack gives it).
func exitCode(child int, lost int64) (int, string) {
	switch {
	case child != 0:
		return child, "child"
	case lost > 0:
		return exit.HonestFail, "run"
	}
	return exit.OK, "run"
}

// Verdict is the verdict verify-pack gives an intact pack from its signed
// attestation (DECISIONS 6 and 8): an integrity or claim FAIL is an honest
// failure (1), anything else passes (0).
func Verdict(integrity, claimCheck string) (string, int) {
	if integrity == "FAIL" || claimCheck == "FAIL" {
		return "HONEST_FAIL", exit.HonestFail
	}
	return "PASS", exit.OK
}

func validMode(m string) bool {
	for _, v := range Modes {
		if m == v {
			return true
		}
	}
	return false
}

// commandNotFound names why name cannot be started: a file that exists
// but cannot be executed is not "not found".
func commandNotFound(name string, err error) error {
	if errors.Is(err, fs.ErrPermission) && strings.Contains(name, "/") {
		if fsutil.IsDir(name) {
			return exit.Bad("give the program to run, not its directory", "%s is a directory, not a command", name)
		}
		return exit.Bad("make it executable (chmod +x "+name+") or name its interpreter, e.g. assay run -- python3 "+name, "%s is not executable", name)
	}
	return exit.Bad("check the spelling and PATH, and put the command after '--'", "command not found: %s", name)
}

func noReceiptHints(gateway, otlp bool) []string {
	h := NoReceiptHints(gateway)
	if otlp {
		h = append([]string{"--otlp received no GenAI spans: start the OpenTelemetry SDK with an OTLP exporter and a GenAI instrumentation in the child (it reads OTEL_EXPORTER_OTLP_ENDPOINT), and shut the SDK down before exit so it flushes"}, h...)
	}
	return h
}

// NoReceiptHints is the checklist for a run that emitted no receipts.
func NoReceiptHints(gateway bool) []string {
	zeroCode := "no instrumentation? add --gateway to record the SDKs' calls with no code changes"
	if gateway {
		zeroCode = "the gateway saw no model calls: a base URL set in code wins over OPENAI_BASE_URL, ANTHROPIC_BASE_URL and GOOGLE_GEMINI_BASE_URL"
	}
	return []string{
		"find the LLM call sites: assay scan .",
		"see which are instrumented: assay scan . --report",
		"Python: patch() must execute before any LLM API call ('assay patch' adds it, marked # assay:patched)",
		zeroCode,
		"put '--' before the command: assay run [flags] -- python app.py",
		"check the setup: assay doctor",
	}
}

// envGetter reads env (KEY=VALUE lines, the last definition winning); nil
// env is this process's, as for the child.
func envGetter(env []string) func(string) string {
	if env == nil {
		return os.Getenv
	}
	return func(key string) string {
		for i := len(env) - 1; i >= 0; i-- {
			if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
				return v
			}
		}
		return ""
	}
}
