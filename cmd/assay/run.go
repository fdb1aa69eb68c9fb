package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/otlpout"
	"github.com/assay-dev/assay/core/runner"
	"github.com/assay-dev/assay/core/runpack"
	"github.com/assay-dev/assay/core/seal"
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
	otlp          bool
	otlpContent   bool
	otlpEndpoint  string
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
	// Seal is what the recorder sealed: status (intact, altered,
	// truncated), how many receipts it covers and the alterations.
	Seal *sealInfo `json:"seal,omitempty"`
}

// sealInfo is the seal part of run's and proof-pack's summaries.
type sealInfo struct {
	Status           string            `json:"status"`
	Covers           uint64            `json:"covers"`
	Unsealed         int               `json:"unsealed"`
	LastCheckpointAt string            `json:"last_checkpoint_at"`
	Alterations      []seal.Alteration `json:"alterations"`
	AlterationsTotal int               `json:"alterations_total"`
}

func sealInfoOf(s seal.Summary) *sealInfo {
	alts := s.Alterations
	if alts == nil {
		alts = []seal.Alteration{}
	}
	return &sealInfo{Status: s.Status, Covers: s.Covers, Unsealed: s.Unsealed, LastCheckpointAt: s.Checkpoint.At,
		Alterations: alts, AlterationsTotal: s.AlterationsTotal}
}

// runError is the --json document of a run that built no pack.
// It is the one error envelope (jsonErrorDoc) with run's fields added.
type runError struct {
	jsonErrorDoc
	TraceID string   `json:"trace_id,omitempty"`
	Hints   []string `json:"hints,omitempty"`
}

func init() {
	commands = append(commands, func() *cobra.Command {
		var o runOptions
		c := &cobra.Command{
			Use:   "run [flags] -- CMD [ARGS...]",
			Short: "Run a program and build a signed proof pack from the receipts it emits",
			Long: `Run CMD with a fresh trace and build a signed proof pack from the receipts
it (or the recording gateway, with --gateway) writes to that trace.

The child gets the parent's environment plus ASSAY_TRACE_ID, ASSAY_HOME and
ASSAY_RECORDER, the socket of the recorder that seals each receipt as it is
recorded (with --gateway also the SDKs' base-URL variables and ASSAY_GATEWAY),
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
  2   the child exited 0 but a receipt was changed, removed, reordered,
      backdated or cut off in the store after the recorder sealed it
      ("evidence was altered after it was recorded"; the pack holds the
      receipts as sealed and records the alterations)
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
		f.BoolVar(&o.otlp, "otlp", false, "receive the child's OpenTelemetry GenAI spans (OTLP/HTTP on loopback; sets OTEL_EXPORTER_OTLP_ENDPOINT) as receipts")
		f.BoolVar(&o.otlpContent, "otlp-content", false, "with --otlp: ask the child's GenAI instrumentations to capture messages, so receipts get content hashes")
		f.StringVar(&o.otlpEndpoint, "otlp-endpoint", "", "send the pack's receipts as spans to this OTLP/HTTP base URL once it is built (or set OTEL_EXPORTER_OTLP_ENDPOINT)")
		f.BoolVar(&o.storeContent, "store-content", false, "also record prompts and answers in model_call receipts (gateway and Go middleware; default: hashes only; or ASSAY_STORE_CONTENT=1)")
		return c
	})
}

func writeRunErrorJSON(w io.Writer, err error) {
	doc := runError{jsonErrorDoc: jsonErrorDoc{Command: "run", Status: "error", Error: "bad_input", Message: err.Error(), ExitCode: exit.Code(err)}}
	var re *runpack.Error
	if errors.As(err, &re) {
		doc.Error, doc.Hints, doc.TraceID = re.Kind, re.Hints, re.TraceID
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

// runRun is `assay run`: fill the request, run the use case (core/runpack)
// and render its result.
func runRun(cmd *cobra.Command, o runOptions, args []string) error {
	stdout, stderr := syncWriters(cmd.OutOrStdout(), cmd.ErrOrStderr())
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, "assay run: "+format+"\n", a...) }
	cenv := envOf(cmd)
	home, err := cenv.Home()
	if err != nil {
		return err
	}
	if err := (otlpout.Options{Endpoint: o.otlpEndpoint, Getenv: cenv.Getenv}).Check(); err != nil {
		return &runpack.Error{Kind: "bad_flag", Err: err}
	}
	childOut := stdout
	if o.asJSON {
		childOut = stderr // keep stdout one pure JSON document
	}
	gwLog := zerolog.New(zerolog.ConsoleWriter{Out: stderr, NoColor: !isTerminal(cmd.ErrOrStderr()), PartsExclude: []string{zerolog.TimestampFieldName}}).Level(logOf(cmd).GetLevel())
	res, err := runpack.Run(cmd.Context(), runpack.Request{
		Args: args, Cards: o.cards, OutDir: o.output, Mode: o.mode,
		AllowEmpty: o.allowEmpty, NoGenerateKey: o.noGenerateKey,
		Gateway: o.gateway, StoreContent: o.storeContent, OTLP: o.otlp, OTLPContent: o.otlpContent,
		Home: home, Env: cenv.Vars, Dir: cenv.Dir,
		Stdin: cmd.InOrStdin(), Stdout: childOut, Stderr: stderr,
		GatewayLogger: &gwLog,
		OnStart: func(s runpack.Started) {
			if s.PythonFallback {
				logf("no 'python' on PATH; running %s", s.Exe)
			}
			if s.KeyGenerated {
				logf("generated signing key '%s'", s.SignerID)
			}
			logf("trace=%s", s.TraceID)
			if s.Remote {
				logf("recorder=%s (it seals the receipts and signs the pack)", s.Recorder)
			}
			if s.GatewayURL != "" {
				logf("gateway=%s (recording OpenAI, Anthropic and Gemini SDK calls)", s.GatewayURL)
			}
			if s.OTLPURL != "" {
				logf("otlp=%s (recording OpenTelemetry GenAI spans)", s.OTLPURL)
			}
			logf("executing: %s", strings.Join(s.Args, " "))
		},
		OnExit: func(r runner.Result) {
			if r.Signaled() {
				logf("command killed by signal %s (exit code %d)", unix.SignalName(r.Signal), r.ExitCode)
			} else {
				logf("command exited with code %d", r.ExitCode)
			}
		},
	})
	var re *runpack.Error
	if errors.As(err, &re) && re.Partial != nil {
		renderRunWarnings(logf, re.Partial)
	}
	if err != nil {
		if re != nil && re.Kind == "no_receipts_emitted" {
			fmt.Fprintf(stderr, "assay run: no receipts were emitted to trace %s. Things to check:\n", re.TraceID)
			for i, h := range re.Hints {
				fmt.Fprintf(stderr, "  %d. %s\n", i+1, h)
			}
		}
		return err
	}
	renderRunWarnings(logf, res)
	if res.Pack.ReceiptIntegrity == "FAIL" {
		// Loud: the pack is honest about it, and verify-pack will exit 1.
		logf("WARNING: receipt integrity FAIL: a receipt has no receipt_id or timestamp, a bad timestamp, or a repeated receipt_id; 'assay verify-pack %s' exits 1", res.OutDir)
	}
	exportPackOTLP(cmd.Context(), cenv.Getenv, o.otlpEndpoint, res.OutDir, logf)
	if res.Altered {
		logf("ERROR: %s: %d alteration(s) of the trace after its receipts were sealed", seal.AlteredMessage, res.Seal.AlterationsTotal)
		for _, a := range res.Seal.Alterations {
			logf("  %s", a)
		}
		logf("the pack holds the receipts as they were sealed and records the alterations; 'assay verify-pack %s' exits 1", res.OutDir)
	}
	sum := newRunSummary(res)
	if o.asJSON {
		if err := writeJSON(stdout, sum); err != nil {
			return err
		}
	} else {
		printRunPanel(stdout, sum, res.WithCards)
	}
	if res.EvidenceLost > 0 && res.Child.ExitCode == 0 {
		// The pack is honest about what it holds, but it is not the whole
		// run: an honest failure, not a clean exit.
		logf("exit 1: %d receipt(s) of this run were lost (see the warnings above); the pack holds the rest", res.EvidenceLost)
	}
	if res.ExitCode != 0 {
		return exit.Silent{Code: res.ExitCode}
	}
	return nil
}

// renderRunWarnings names the evidence a run lost: never in silence.
func renderRunWarnings(logf func(string, ...any), r *runpack.Result) {
	if r.GatewayErr != nil {
		logf("WARNING: the gateway lost evidence: %v", r.GatewayErr)
	}
	if r.OTLPErr != nil {
		logf("WARNING: the OTLP receiver failed: %v", r.OTLPErr)
	}
	if r.OTLP.Requests > 0 {
		logf("otlp: %d spans, %d receipts, %d requests refused", r.OTLP.Spans, r.OTLP.Receipts, r.OTLP.Rejected)
	}
	if r.OTLP.StoreFails > 0 {
		logf("WARNING: %d OTLP requests could not be written to the store", r.OTLP.StoreFails)
	}
	if r.RecorderErr != nil {
		logf("WARNING: the recorder failed: %v; receipts after that are not sealed", r.RecorderErr)
	}
	for _, p := range r.Unreadable {
		// Loud, never silent: a line cut short by a crash is named.
		logf("warning: %s line %d is not a receipt and is left out of the pack: %s", r.TracePath, p.Line, p.Err)
	}
}

// newRunSummary is the --json document of a run's result.
func newRunSummary(r *runpack.Result) runSummary {
	b := r.Pack
	return runSummary{
		Command: "run", Status: "ok", ExitCode: r.Child.ExitCode, TraceID: r.TraceID,
		PackID: b.PackID, PackRootSHA256: b.PackRootSHA256, SignerID: b.SignerID,
		OutputDir: r.OutDir, ReceiptIntegrity: b.ReceiptIntegrity, ClaimCheck: b.ClaimCheck,
		NReceipts: b.NReceipts, EvidenceLost: r.EvidenceLost,
		ChildExitCode: r.Child.ExitCode, Verdict: r.Verdict, VerdictExitCode: r.VerdictExitCode,
		RunExitCode: r.ExitCode, ExitCodeFrom: r.ExitCodeFrom,
		Seal: sealInfoOf(*r.Seal),
	}
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
		if s.Seal != nil && s.Seal.Status == seal.StatusAltered {
			row("Exit", fmt.Sprintf("%d: %s", s.RunExitCode, seal.AlteredMessage))
			break
		}
		if s.RunExitCode != 0 {
			row("Exit", fmt.Sprintf("%d: %d receipt(s) of this run were lost", s.RunExitCode, s.EvidenceLost))
			break
		}
		row("Exit", fmt.Sprintf("%d: the child succeeded; 'assay verify-pack' gives the pack's verdict as its exit code", s.RunExitCode))
	}
	row("Receipts", fmt.Sprint(s.NReceipts))
	if s.Seal != nil {
		sealRow := fmt.Sprintf("%s: %d receipt(s) sealed as recorded, last checkpoint at %s", s.Seal.Status, s.Seal.Covers, s.Seal.LastCheckpointAt)
		if s.Seal.Status == seal.StatusAltered {
			sealRow = st.Red(fmt.Sprintf("ALTERED: %s (%d alteration(s)); the pack holds the %d receipt(s) as sealed", seal.AlteredMessage, s.Seal.AlterationsTotal, s.Seal.Covers))
		}
		row("Seal", sealRow)
	}
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
