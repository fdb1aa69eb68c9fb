package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/assay-dev/assay/core/capture/gateway"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/assay-dev/assay/core/blob"
	"github.com/assay-dev/assay/core/capture"
	"github.com/assay-dev/assay/core/claims"
	"github.com/assay-dev/assay/core/doctor"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/fsutil"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/runner"
	"github.com/assay-dev/assay/core/store"
)

// runOptions are the flags of `assay run`.
type runOptions struct {
	cards         []string
	output        string
	mode          string
	allowEmpty    bool
	noGenerateKey bool
	asJSON        bool
	gateway       bool
	storeContent  bool
}

// runSummary is the --json document of a run that built a pack; the
// fields are the reference's.
type runSummary struct {
	Command          string `json:"command"`
	Status           string `json:"status"`
	ExitCode         int    `json:"exit_code"`
	TraceID          string `json:"trace_id"`
	PackID           string `json:"pack_id"`
	PackRootSHA256   string `json:"pack_root_sha256"`
	SignerID         string `json:"signer_id"`
	OutputDir        string `json:"output_dir"`
	ReceiptIntegrity string `json:"receipt_integrity"`
	ClaimCheck       string `json:"claim_check"`
	NReceipts        int    `json:"n_receipts"`
	// EvidenceLost counts receipts that could not be written or read back
	// (gateway write failures, store lines that are not receipts); a run
	// that lost evidence does not exit 0.
	EvidenceLost int64 `json:"evidence_lost"`
	// ChildExitCode repeats exit_code under a name that says whose it is;
	// Verdict and VerdictExitCode are the pack's own (what verify-pack
	// says of the signed attestation: PASS 0, HONEST_FAIL 1); RunExitCode
	// is what assay run exits with and ExitCodeFrom whose code that is
	// ("child" when the child failed, DECISIONS 11, else "run").
	ChildExitCode   int    `json:"child_exit_code"`
	Verdict         string `json:"verdict"`
	VerdictExitCode int    `json:"verdict_exit_code"`
	RunExitCode     int    `json:"run_exit_code"`
	ExitCodeFrom    string `json:"exit_code_from"`
}

// runError is the --json document of a run that built no pack.
type runError struct {
	Command  string   `json:"command"`
	Status   string   `json:"status"`
	Error    string   `json:"error"`
	Message  string   `json:"message"`
	Fix      string   `json:"fix,omitempty"`
	ExitCode int      `json:"exit_code"`
	TraceID  string   `json:"trace_id,omitempty"`
	Hints    []string `json:"hints,omitempty"`
}

func init() {
	commands = append(commands, func() *cobra.Command {
		var o runOptions
		c := &cobra.Command{
			Use:   "run [flags] -- CMD [ARGS...]",
			Short: "Run a program and build a signed proof pack from the receipts it emits",
			Long: `Run CMD with a fresh trace and build a signed proof pack from the receipts
it (or the recording gateway, with --gateway) writes to that trace.

The child gets the parent's environment plus ASSAY_TRACE_ID and ASSAY_HOME
(with --gateway also the SDKs' base-URL variables and ASSAY_GATEWAY),
inherits stdin, stdout and stderr (with --json its stdout goes to stderr so
that stdout holds only the JSON summary), and receives SIGINT, SIGTERM,
SIGHUP and SIGQUIT sent to assay. The pack is built when the child ends,
also when it crashed or was killed. The trace stays in the store, so
'assay proof-pack TRACE' can build it again later.

Every flag, card and the command itself are checked before the child starts.
Flags go before the command: everything after the command word belongs to
the child ('assay run true --json' passes --json to true; write
'assay run --json -- true').

With --json, stdout holds one document with the child's exit code
(exit_code, child_exit_code), the pack's verdict (verdict, verdict_exit_code:
what verify-pack says of it) and run_exit_code with exit_code_from saying
whose code assay exits with.

Exit codes:
  0   the child exited 0 and the pack was built (the pack's own verdict is
      reported, not the exit code: 'assay verify-pack' exits with it)
  N   the child exited N (128+signal when killed); the pack is still built
  1   the child exited 0 but emitted no receipts (and no --allow-empty)
  3   bad input: bad flag or mode, unknown card, no command, command not
      found, output directory exists, no key with --no-generate-key`,
			Example: `  assay run -- python app.py
  assay run -c receipt_completeness -o ./pack -- python app.py
  assay run --gateway -- node app.js          # zero-code: record SDK calls
  assay run --json -- ./agent.sh > run.json`,
			GroupID: "capture",
			Args:    cobra.ArbitraryArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				err := runRun(cmd, o, args)
				if err != nil && o.asJSON {
					writeRunErrorJSON(cmd.OutOrStdout(), err)
				}
				return err
			},
		}
		f := c.Flags()
		// Everything after the command word belongs to the child.
		f.SetInterspersed(false)
		f.StringArrayVarP(&o.cards, "run-card", "c", nil, "run card: a built-in id or a card JSON file (repeatable)")
		f.StringVarP(&o.output, "output", "o", "", "pack directory; must not exist (default proof_pack_<trace_id>); or an empty storage prefix s3://BUCKET/PREFIX/ (gs://, azblob://, file:///)")
		f.StringVarP(&o.mode, "mode", "m", "shadow", "mode recorded in the attestation: shadow, enforced or breakglass")
		f.BoolVar(&o.allowEmpty, "allow-empty", false, "build a pack even when no receipts were emitted")
		f.BoolVar(&o.noGenerateKey, "no-generate-key", false, "fail instead of generating a signing key when none exists")
		f.BoolVar(&o.asJSON, "json", false, "print a JSON summary on stdout (the child's stdout goes to stderr)")
		f.BoolVar(&o.gateway, "gateway", false, "record the child's LLM SDK calls through a local recording gateway (no code changes)")
		f.BoolVar(&o.storeContent, "store-content", false, "also record prompts and answers in model_call receipts (gateway and Go middleware; default: hashes only; or ASSAY_STORE_CONTENT=1)")
		return c
	})
}

// errKind names a run failure in the --json error document.
type errKind struct {
	kind  string
	hints []string
	trace string
	err   error
}

func (e *errKind) Error() string { return e.err.Error() }
func (e *errKind) Unwrap() error { return e.err }

func kinded(kind string, err error) error { return &errKind{kind: kind, err: err} }

func writeRunErrorJSON(w io.Writer, err error) {
	doc := runError{Command: "run", Status: "error", Error: "bad_input", Message: err.Error(), ExitCode: exit.Code(err)}
	var ek *errKind
	if errors.As(err, &ek) {
		doc.Error, doc.Hints, doc.TraceID = ek.kind, ek.hints, ek.trace
	}
	var xe *exit.Error
	if errors.As(err, &xe) {
		doc.Message, doc.Fix = xe.Msg, xe.Fix
	}
	var silent exit.Silent
	if errors.As(err, &silent) {
		return // the outcome was already rendered
	}
	_ = writeJSON(w, doc)
}

var validModes = map[string]bool{"shadow": true, "enforced": true, "breakglass": true}

// runRun is `assay run`: validate everything, start the child, build the pack.
func runRun(cmd *cobra.Command, o runOptions, args []string) error {
	stdout, stderr := syncWriters(cmd.OutOrStdout(), cmd.ErrOrStderr())
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, "assay run: "+format+"\n", a...) }

	// 1. Validate every input before anything happens.
	if len(args) == 0 {
		return kinded("no_command", exit.Bad("give the program after '--', e.g. assay run -- python app.py", "no command to run"))
	}
	if !validModes[o.mode] {
		return kinded("bad_mode", exit.Bad("use --mode shadow, enforced or breakglass", "invalid --mode %q", o.mode))
	}
	var cardClaims []claims.Claim
	for _, id := range o.cards {
		card, err := resolveCard(id)
		if err != nil {
			return kinded("unknown_card", err)
		}
		cardClaims = append(cardClaims, card.Claims...)
	}
	home, err := store.Home()
	if err != nil {
		return err
	}
	st := store.Open(home)
	traceID := store.NewTraceID()
	outDir := o.output
	if outDir == "" {
		outDir = "proof_pack_" + traceID
	}
	buildDir := outDir
	var remote *remoteOut
	if blob.IsURL(outDir) {
		// A storage URL: checked (reachable, empty) before the child
		// runs; the pack is built locally, then published manifest last.
		var err error
		if remote, err = openRemoteOut(cmd.Context(), home, outDir, "proof_pack_"+traceID); err != nil {
			return kinded("bad_output", err)
		}
		defer remote.close()
		defer remote.discard()
		buildDir = remote.local
	} else if fsutil.Exists(outDir) {
		return kinded("output_exists", exit.Bad("choose a new -o directory or remove the old pack", "output directory already exists: %s", outDir))
	} else if parent := filepath.Dir(filepath.Clean(outDir)); fsutil.Exists(parent) && !fsutil.IsDir(parent) {
		return kinded("bad_output", exit.Bad("choose a -o path inside a directory", "cannot create %s: %s is not a directory", outDir, parent))
	}
	vars := map[string]string{store.EnvTrace: traceID, store.EnvHome: home}
	if o.storeContent {
		vars[capture.EnvStoreContent] = "1" // the Go middleware in the child reads it
	}
	env := childEnv(os.Environ(), vars)
	exe, err := runner.Resolve(args[0], env)
	if err != nil {
		return kinded("command_not_found", commandNotFound(args[0], err))
	}
	if args[0] == "python" && filepath.Base(exe) == "python3" {
		logf("no 'python' on PATH; running %s", exe)
	}

	// 2. The recording gateway, when asked for (its upstreams are checked
	// here, before anything else is written).
	var gw captureGateway
	if o.gateway {
		var err error
		gwLog := zerolog.New(zerolog.ConsoleWriter{Out: stderr, NoColor: !isTerminal(cmd.ErrOrStderr()), PartsExclude: []string{zerolog.TimestampFieldName}}).Level(log.GetLevel())
		gw, err = startGateway(cmd.Context(), st, traceID, &gwLog, o.storeContent)
		if err != nil {
			return kinded("gateway_failed", err)
		}
		// ASSAY_GATEWAY lets the child (and 'assay doctor' run inside it)
		// know which gateway records it.
		set := map[string]string{doctor.EnvGateway: gw.URL()}
		for _, kv := range gw.Env() {
			k, v, _ := strings.Cut(kv, "=")
			set[k] = v
		}
		env = childEnv(env, set)
	}

	// 3. Key bootstrap, before the child starts.
	signer, generated, err := keys.Open(home).ActiveSigner(!o.noGenerateKey)
	if err != nil {
		if gw != nil {
			_ = gw.Close()
		}
		var xe *exit.Error
		if !errors.As(err, &xe) {
			err = exit.Wrap(exit.BadInput, err, "check that ASSAY_HOME ("+home+") is a writable directory")
		}
		return kinded("key_missing", err)
	}
	if generated {
		logf("generated signing key '%s'", signer.ID)
	}

	// 4. Run the child.
	logf("trace=%s", traceID)
	if gw != nil {
		logf("gateway=%s (recording OpenAI, Anthropic and Gemini SDK calls)", gw.URL())
	}
	logf("executing: %s", strings.Join(args, " "))
	childOut := stdout
	if o.asJSON {
		childOut = stderr // keep stdout one pure JSON document
	}
	proc, err := runner.Start(runner.Spec{Args: args, Env: env, Stdin: cmd.InOrStdin(), Stdout: childOut, Stderr: stderr})
	if err != nil {
		if gw != nil {
			_ = gw.Close()
		}
		if errors.Is(err, runner.ErrNotFound) {
			return kinded("command_not_found", exit.Bad("check the spelling and PATH", "command not found: %s", args[0]))
		}
		return kinded("start_failed", exit.Wrap(exit.BadInput, err, ""))
	}
	res := proc.Wait()
	if res.Signaled() {
		logf("command killed by signal %s (exit code %d)", unix.SignalName(res.Signal), res.ExitCode)
	} else {
		logf("command exited with code %d", res.ExitCode)
	}
	childFailed := func(code int) int {
		if res.ExitCode != 0 {
			return res.ExitCode
		}
		return code
	}

	// 5. Close the gateway: in-flight calls finish and their receipts land
	// before the trace is read.
	var lost int64
	if gw != nil {
		if err := gw.Close(); err != nil {
			// Evidence is never lost in silence: the pack will miss these.
			logf("WARNING: the gateway lost evidence: %v", err)
		}
		lost += gw.Stats().ReceiptsLost
	}

	// 6 and 7. Read the trace back and build the pack, streamed: the
	// receipts are never all held in memory.
	tracePath := ""
	if path, ok, err := st.Find(traceID); err != nil {
		return exit.Wrap(childFailed(exit.BadInput), err, "")
	} else if ok {
		tracePath = path
	}
	cwd, _ := os.Getwd()
	popt := pack.Options{
		RunID:           traceID,
		Signer:          signer,
		OutDir:          buildDir,
		Claims:          cardClaims,
		ClaimEnv:        claims.Env{Dir: cwd},
		Mode:            o.mode,
		CIBinding:       pack.DetectCIBinding(os.Getenv),
		RequireReceipts: !o.allowEmpty,
	}
	built, probs, err := pack.FromTrace(st, traceID, popt)
	for _, p := range probs {
		// Loud, never silent: a line cut short by a crash is named.
		logf("warning: %s line %d is not a receipt and is left out of the pack: %s", tracePath, p.Line, p.Err)
	}
	lost += int64(len(probs))
	if errors.Is(err, pack.ErrNoReceipts) {
		hints := noReceiptHints(gw != nil)
		fmt.Fprintf(stderr, "assay run: no receipts were emitted to trace %s. Things to check:\n", traceID)
		for i, h := range hints {
			fmt.Fprintf(stderr, "  %d. %s\n", i+1, h)
		}
		e := exit.New(childFailed(exit.HonestFail), "see the checklist above, or pass --allow-empty", "no receipts emitted to trace %s", traceID)
		return &errKind{kind: "no_receipts_emitted", hints: hints, trace: traceID, err: e}
	}
	if err != nil {
		fix := "the trace is kept; rebuild it with 'assay proof-pack " + traceID + "'"
		if exit.Code(err) == exit.BadInput && tracePath != "" {
			// The receipts themselves are the problem: rebuilding as is
			// would fail the same way.
			fix = "the trace is kept in " + tracePath + "; fix or remove that receipt's line, then 'assay proof-pack " + traceID + "'"
		}
		e := exit.New(childFailed(exit.Code(err)), fix, "pack not built: %v", err)
		return &errKind{kind: "pack_build_failed", trace: traceID, err: e}
	}

	if remote != nil {
		if _, err := remote.publish(cmd.Context()); err != nil {
			return &errKind{kind: "upload_failed", trace: traceID, err: &exit.Error{Code: childFailed(exit.Code(err)), Msg: err.Error()}}
		}
	}
	if built.ReceiptIntegrity == "FAIL" {
		// Loud: the pack is honest about it, and verify-pack will exit 1.
		logf("WARNING: receipt integrity FAIL: a receipt has no receipt_id or timestamp, a bad timestamp, or a repeated receipt_id; 'assay verify-pack %s' exits 1", outDir)
	}
	sum := runSummary{
		Command: "run", Status: "ok", ExitCode: res.ExitCode, TraceID: traceID,
		PackID: built.PackID, PackRootSHA256: built.PackRootSHA256, SignerID: built.SignerID,
		OutputDir: outDir, ReceiptIntegrity: built.ReceiptIntegrity, ClaimCheck: built.ClaimCheck,
		NReceipts: built.NReceipts, EvidenceLost: lost,
	}
	sum.ChildExitCode = res.ExitCode
	sum.Verdict, sum.VerdictExitCode = packVerdict(built.ReceiptIntegrity, built.ClaimCheck)
	sum.RunExitCode, sum.ExitCodeFrom = 0, "run"
	switch {
	case res.ExitCode != 0:
		sum.RunExitCode, sum.ExitCodeFrom = res.ExitCode, "child"
	case lost > 0:
		sum.RunExitCode = exit.HonestFail
	}
	if o.asJSON {
		if err := writeJSON(stdout, sum); err != nil {
			return err
		}
	} else {
		printRunPanel(stdout, sum, len(cardClaims) > 0)
	}
	if lost > 0 && res.ExitCode == 0 {
		// The pack is honest about what it holds, but it is not the whole
		// run: an honest failure, not a clean exit.
		logf("exit 1: %d receipt(s) of this run were lost (see the warnings above); the pack holds the rest", lost)
	}
	if sum.RunExitCode != 0 {
		return exit.Silent{Code: sum.RunExitCode}
	}
	return nil
}

// packVerdict is the verdict verify-pack gives an intact pack from its
// signed attestation (DECISIONS 6 and 8): an integrity or claim FAIL is an
// honest failure (1), anything else passes (0).
func packVerdict(integrity, claimCheck string) (string, int) {
	if integrity == "FAIL" || claimCheck == "FAIL" {
		return "HONEST_FAIL", exit.HonestFail
	}
	return "PASS", exit.OK
}

// commandNotFound names why args[0] cannot be started: a file that exists
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

// syncWriters serialises writes to stdout and stderr when they are not
// files (in-process callers and tests pass buffers): the child's output
// copiers, the gateway's log and our own lines write concurrently.
func syncWriters(stdout, stderr io.Writer) (io.Writer, io.Writer) {
	_, f1 := stdout.(*os.File)
	_, f2 := stderr.(*os.File)
	if f1 && f2 {
		return stdout, stderr
	}
	mu := &sync.Mutex{}
	return &lockedWriter{mu: mu, w: stdout}, &lockedWriter{mu: mu, w: stderr}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// childEnv returns env with the given variables set (replacing any
// inherited value), sorted for a stable order.
func childEnv(env []string, set map[string]string) []string {
	out := make([]string, 0, len(env)+len(set))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := set[k]; !ok {
			out = append(out, kv)
		}
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, k+"="+set[k])
	}
	return out
}

func noReceiptHints(gateway bool) []string {
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

// printRunPanel renders the text result of a run.
func printRunPanel(w io.Writer, s runSummary, withClaims bool) {
	st := newStyle(w)
	pass := func(v string) string {
		switch v {
		case "PASS":
			return st.Green(v)
		case "FAIL":
			return st.Red(v)
		}
		return v
	}
	fmt.Fprintln(w, st.Bold("Proof Pack Built"))
	row := func(k, v string) { fmt.Fprintf(w, "  %-10s %s\n", k+":", v) }
	row("Trace", s.TraceID)
	row("Pack ID", s.PackID)
	row("Signer", s.SignerID)
	code := fmt.Sprint(s.ExitCode)
	if s.ExitCode != 0 {
		code = st.Yellow(code)
	}
	row("Child", code+" (the program's own exit code)")
	row("Integrity", pass(s.ReceiptIntegrity))
	if withClaims {
		row("Claims", pass(s.ClaimCheck))
	}
	verdict := st.Green(s.Verdict)
	if s.VerdictExitCode != 0 {
		verdict = st.Red(s.Verdict)
	}
	row("Verdict", fmt.Sprintf("%s (verify-pack exits %d on this pack)", verdict, s.VerdictExitCode))
	switch s.ExitCodeFrom {
	case "child":
		row("Exit", fmt.Sprintf("%d: the child's exit code, passed on (the pack's verdict is above)", s.RunExitCode))
	default:
		if s.RunExitCode != 0 {
			row("Exit", fmt.Sprintf("%d: %d receipt(s) of this run were lost", s.RunExitCode, s.EvidenceLost))
			break
		}
		row("Exit", fmt.Sprintf("%d: the child succeeded; 'assay verify-pack' gives the pack's verdict as its exit code", s.RunExitCode))
	}
	row("Receipts", fmt.Sprint(s.NReceipts))
	row("Output", s.OutputDir)
	if ents, err := os.ReadDir(s.OutputDir); err == nil {
		fmt.Fprintln(w)
		for _, e := range ents {
			if e.IsDir() {
				fmt.Fprintf(w, "  %s\n", st.Dim(e.Name()+"/"))
				continue
			}
			if info, err := e.Info(); err == nil {
				fmt.Fprintf(w, "  %-24s %s\n", e.Name(), st.Dim(fmt.Sprintf("%d bytes", info.Size())))
			}
		}
	}
	fmt.Fprintf(w, "\nNext: assay verify-pack %s\n", s.OutputDir)
}

// captureGateway is what `assay run --gateway` needs from the recording
// gateway (core/capture/gateway).
type captureGateway interface {
	URL() string
	Env() []string // KEY=VALUE base-URL variables for the SDKs
	Close() error
	Stats() gateway.Stats
}
