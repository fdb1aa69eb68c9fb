package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/assay-dev/assay/core/version"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/internal/lazyre"
)

// commands holds the constructors of the top-level commands; each command
// file appends its own in init(), so adding a command touches one file.
var commands []func() *cobra.Command

// Command groups shown in help, in order.
var groups = []*cobra.Group{
	{ID: "start", Title: "Start here:"},
	{ID: "evidence", Title: "Evidence (build and verify packs):"},
	{ID: "capture", Title: "Capture (record receipts from programs):"},
	{ID: "standards", Title: "Standards (claims, locks, diffs):"},
	{ID: "setup", Title: "Setup and keys:"},
}

func newRoot(inv *invocation, stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	var logLevel string
	root := &cobra.Command{
		Use:     "assay",
		Version: version.Version,
		Short:   "Tamper-evident receipts and signed proof packs for AI agent runs",
		Long: `assay turns every LLM call and agent action into a receipt, packs a run's
receipts into a signed 5-file proof pack, and verifies that pack offline.

verify-pack exit codes (everywhere, text and --json alike):
  0  evidence intact and claims met
  1  evidence intact, but it shows a failure (an honest failure)
  2  evidence tampered
  3  bad input`,
		SilenceUsage:      true,
		SilenceErrors:     true,
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: false},
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			lvl, err := zerolog.ParseLevel(logLevel)
			if err != nil || logLevel == "" {
				return exit.Bad("use one of debug, info, warn, error", "unknown --log-level %q", logLevel)
			}
			inv.log = zerolog.New(zerolog.ConsoleWriter{Out: stderr, NoColor: !isTerminal(stderr), PartsExclude: []string{zerolog.TimestampFieldName}}).Level(lvl)
			return nil
		},
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&logLevel, "log-level", "warn", "log verbosity on stderr: debug, info, warn or error")
	root.AddGroup(groups...)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return exit.Bad(flagSuggestion(c, err.Error())+"see '"+c.CommandPath()+" --help'", "%s", flagError(err.Error()))
	})
	for _, mk := range commands {
		root.AddCommand(mk())
	}
	// completion is otherwise added inside Execute, after the pass below.
	root.InitDefaultCompletionCmd()
	registerCompletions(root)
	groupsRefuseUnknown(root)
	return root
}

// badFlagValue matches pflag's parse error for a typed flag, e.g.
// `invalid argument "abc" for "--gate-cost-pct" flag: strconv.ParseFloat: parsing "abc": invalid syntax`.
var badFlagValue = lazyre.New(`^invalid argument "(.*)" for "(.+?)" flag: strconv\.Parse(\w+): parsing ".*": (.*)$`)

// flagError rewrites pflag's strconv noise into what was wrong with the value.
func flagError(msg string) string {
	m := badFlagValue().FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	flag := m[2]
	if i := strings.LastIndex(flag, ", "); i >= 0 {
		flag = flag[i+2:] // "-o, --output" -> "--output"
	}
	if m[4] == "value out of range" {
		return fmt.Sprintf("%s: %q is out of range", flag, m[1])
	}
	want := map[string]string{"Float": "a number", "Int": "a whole number", "Uint": "a whole number of 0 or more", "Bool": "true or false"}[m[3]]
	if want == "" {
		want = "a valid value"
	}
	return fmt.Sprintf("%s: %q is not %s", flag, m[1], want)
}

// groupsRefuseUnknown makes every command that only groups subcommands
// (key, lock, mcp, ...) refuse an unknown subcommand with exit 3: cobra
// would print the group's help and exit 0, so a typo in a script passed.
func groupsRefuseUnknown(c *cobra.Command) {
	for _, sub := range c.Commands() {
		groupsRefuseUnknown(sub)
	}
	if c.HasParent() && c.HasSubCommands() && !c.Runnable() {
		c.Args = cobra.NoArgs
		c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	}
}

// exitInternal is the exit code of a bug in assay itself (EX_SOFTWARE): a
// panic must never look like a verdict, least of all exit 2 (tampered),
// which is what Go's default panic exit would say.
const exitInternal = 70

// run executes the CLI in this process's environment and returns the
// process exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runIn(processEnv(), args, stdin, stdout, stderr)
}

// runIn executes the CLI in env (its variables and working directory) and
// returns the exit code. Diagnostics go to stderr through the run's own
// logger; stdout carries results only.
func runIn(env *cliEnv, args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(stderr, "assay: internal error: %v (this is a bug in assay; please report it with the command you ran)\n", p)
			code = exitInternal
		}
	}()
	// Count what commands print, so a --json command that failed before
	// printing still leaves exactly one JSON document on stdout.
	out := &countingWriter{w: stdout}
	inv := &invocation{env: env, log: zerolog.New(stderr).Level(zerolog.WarnLevel)}
	root := newRoot(inv, stdin, out, stderr)
	root.SetArgs(args)
	root.SetContext(withInvocation(context.Background(), inv))
	cmd, err := root.ExecuteC()
	if err == nil {
		return exit.OK
	}
	var silent exit.Silent
	var xe *exit.Error
	if wantsJSON(cmd, args) && out.n == 0 && !errors.As(err, &silent) {
		// --json promises one document on stdout, bad input included.
		doc := jsonErrorDoc{Command: strings.TrimPrefix(cmd.CommandPath(), "assay "), Status: "error", Error: err.Error(), ExitCode: exit.Code(err)}
		if errors.As(err, &xe) {
			doc.Error, doc.Fix = xe.Msg, xe.Fix
		}
		doc.Message = doc.Error
		if cmd != nil && cmd.Annotations[stdoutIsProtocol] != "" {
			// stdout belongs to the protocol: the document goes to stderr,
			// alone, so stderr is pure JSON too.
			_ = writeJSON(stderr, doc)
			return exit.Code(err)
		}
		_ = writeJSON(stdout, doc)
	}
	if !errors.As(err, &silent) {
		msg := firstLine(err.Error())
		// cobra's own argument errors carry no fix: point at the help of
		// the command that refused them (ours already name their fix).
		if !errors.As(err, &xe) && (strings.HasPrefix(msg, "unknown command") || strings.HasPrefix(msg, "accepts ") || strings.HasPrefix(msg, "requires ")) {
			path := "assay"
			if cmd != nil {
				path = cmd.CommandPath()
			}
			msg += " (" + commandSuggestion(cmd, msg) + "see '" + path + " --help')"
		}
		fmt.Fprintf(stderr, "assay: %s\n", firstLine(msg))
	}
	return exit.Code(err)
}

// wantsJSON reports whether the user asked for --json: from the parsed
// flag, or from the arguments before "--" when flag parsing itself failed.
func wantsJSON(cmd *cobra.Command, args []string) bool {
	if cmd != nil {
		if f := cmd.Flags().Lookup("json"); f != nil && f.Value.String() == "true" {
			return true
		}
	}
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "--json" || a == "--json=true" {
			return true
		}
	}
	return false
}

// countingWriter counts the bytes a command writes to stdout.
type countingWriter struct {
	w io.Writer
	n int
}

// Unwrap gives the terminal check the real stdout.
func (c *countingWriter) Unwrap() io.Writer { return c.w }

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += n
	return n, err
}

// jsonErrorDoc is the --json document of a command that failed before
// printing its own.
// It is the one error envelope (README, schemas/error.schema.json):
// command, status "error", error, message, fix, exit_code; a command may add
// fields (run: trace_id, hints; scan: the reference's tool).
type jsonErrorDoc struct {
	Command  string `json:"command"`
	Status   string `json:"status"`
	Error    string `json:"error"`
	Message  string `json:"message"`
	Fix      string `json:"fix,omitempty"`
	ExitCode int    `json:"exit_code"`
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
