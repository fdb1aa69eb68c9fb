package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/tlog"
	"github.com/assay-dev/assay/core/tlog/tlogaws"
)

func init() { commands = append(commands, newLogCmd) }

func newLogCmd() *cobra.Command {
	c := &cobra.Command{
		Use:     "log",
		Short:   "Transparency log: check consistency, serve a team log",
		GroupID: "evidence",
	}
	c.AddCommand(newLogVerifyCmd(), newLogServeCmd())
	return c
}

func newLogVerifyCmd() *cobra.Command {
	var logArg, logKey string
	var asJSON bool
	c := &cobra.Command{
		Use:   "verify [PACK...]",
		Short: "Check the log only appended since each pack's anchor (no split view)",
		Long: `Read the log's current signed checkpoint and, for each pack, verify its anchor
and prove that the checkpoint stored in the pack is an earlier state of the
current one (an RFC 6962 consistency proof from the log's tiles).

Exit codes:
  0  every pack's checkpoint is consistent with the log
  1  a pack carries no anchor
  2  a split view (the same log key and origin, diverging histories, or a
     log behind a pack's checkpoint), or an anchor or checkpoint that does
     not verify; both checkpoints are named
  3  bad input`,
		Example: `  assay log verify --log ~/.assay/log pack1 pack2
  assay log verify --log https://log.example.com/ --log-key log.vkey pack`,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if logKey != "" {
				if logKey, err = tlog.LoadLogKey(logKey); err != nil {
					return err
				}
			}
			loc := logArg
			if !isURL(loc) {
				if loc, err = logDir(envOf(cmd), loc); err != nil {
					return err
				}
			}
			src, err := tlog.OpenSource(loc, &http.Client{Timeout: 30 * time.Second})
			if err != nil {
				return exit.Bad("give a log directory ('assay anchor' creates one) or a team log URL", "--log: %v", err)
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			rep, err := tlog.VerifyLog(ctx, src, logKey, args)
			var ie *tlog.InvalidError
			if errors.As(err, &ie) {
				return exit.New(exit.Tampered, "", "%v", err)
			}
			if err != nil {
				return exit.New(exit.HonestFail, "check the log location", "%v", err)
			}
			code := rep.ExitCode()
			if asJSON {
				if err := writeJSON(cmd.OutOrStdout(), rep); err != nil {
					return err
				}
				return exit.Silent{Code: code}
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "log %s\n  current checkpoint: %s\n", rep.Log, rep.Latest)
			for _, p := range rep.Packs {
				line := fmt.Sprintf("  %-14s %s", strings.ToUpper(strings.ReplaceAll(p.Status, "_", " ")), p.Pack)
				if p.Checkpoint != nil {
					line += fmt.Sprintf(" (entry %d, checkpoint size %d)", p.LeafIndex, p.Checkpoint.Size)
				}
				fmt.Fprintln(w, line)
				if p.Detail != "" {
					fmt.Fprintf(w, "      %s\n", p.Detail)
				}
			}
			if len(rep.SplitView) == 2 {
				fmt.Fprintf(w, "\nSPLIT VIEW: the log signed two checkpoints that cannot both be true:\n  %s\n  %s\n", rep.SplitView[0], rep.SplitView[1])
			}
			fmt.Fprintf(w, "\nexit %d\n", code)
			return exit.Silent{Code: code}
		},
	}
	f := c.Flags()
	f.StringVar(&logArg, "log", "", "log directory or team log URL (default $ASSAY_HOME/log)")
	f.StringVar(&logKey, "log-key", "", "pin the log's public key (vkey or file; default: the first pack's anchor, else the log's log.vkey)")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	return c
}

func newLogServeCmd() *cobra.Command {
	var logArg, addr, tokenFile, policyPath, origin, storage, db, s3Endpoint string
	c := &cobra.Command{
		Use:   "serve",
		Short: "Serve a log over HTTP (tlog-tiles) and accept appends with a bearer token",
		Long: `Serve the log in --log DIR as a team log:

  GET  /checkpoint, /tile/...   tlog-tiles (static), readable by any tiles client
  GET  /log.vkey                the log's public key
  POST /assay/v1/add            append a pack leaf ('assay anchor --log URL'),
                                with "Authorization: Bearer <token>"

The token comes from --token-file or $ASSAY_LOG_TOKEN (16 characters or
more).

For a log that outgrows one disk or process, --storage s3://BUCKET[/PREFIX]
with --db DSN (or $ASSAY_LOG_DB; a MySQL-compatible database) puts it on
tessera's AWS backend: tiles and checkpoint in the bucket (clients may read
the bucket directly), sequencing in the database; --log DIR then holds only
the log's keys. --s3-endpoint URL selects a non-AWS S3 server (path style,
credentials from $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY). Put TLS in front (a reverse proxy) when clients are not on this host.
Stops on SIGINT/SIGTERM.`,
		Example: `  ASSAY_LOG_TOKEN=$(openssl rand -hex 16) assay log serve --log /srv/assay-log --addr 127.0.0.1:8700`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := logDir(envOf(cmd), logArg)
			if err != nil {
				return err
			}
			tok, err := logToken(envOf(cmd), tokenFile)
			if err != nil {
				return err
			}
			if len(tok) < 16 {
				return exit.Bad("use a random token of 16 characters or more", "the append token is too short")
			}
			o := tlog.AppendOptions{Origin: origin}
			if policyPath != "" {
				if o.Witnesses, err = tlog.LoadPolicy(policyPath); err != nil {
					return err
				}
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return exit.Bad("pick a free address, e.g. 127.0.0.1:8700", "--addr: %v", err)
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			var s *tlog.Server
			if storage != "" {
				cfg, berr := awsConfig(envOf(cmd), storage, db, s3Endpoint)
				if berr != nil {
					ln.Close()
					return berr
				}
				s, err = tlogaws.NewServer(ctx, dir, tok, cfg, o)
			} else {
				s, err = tlog.NewServer(ctx, dir, tok, o)
			}
			if err != nil {
				ln.Close()
				return exit.New(exit.HonestFail, "check the log directory "+dir, "%v", err)
			}
			srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
			logOf(cmd).Info().Str("addr", ln.Addr().String()).Str("origin", s.Keys().Origin()).Msg("serving log")
			// The one line scripts wait for: where the log is and its key.
			fmt.Fprintf(cmd.OutOrStdout(), "serving %s on http://%s/ (vkey %s)\n", s.Keys().Origin(), ln.Addr(), s.Keys().VKey)
			errc := make(chan error, 1)
			go func() { errc <- srv.Serve(ln) }()
			select {
			case err = <-errc:
			case <-ctx.Done():
			}
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
			if cerr := s.Close(sctx); err == nil || errors.Is(err, http.ErrServerClosed) {
				err = cerr
			}
			return err
		},
	}
	f := c.Flags()
	f.StringVar(&logArg, "log", "", "log directory (default $ASSAY_HOME/log; created on first use)")
	f.StringVar(&addr, "addr", "127.0.0.1:8700", "listen address")
	f.StringVar(&tokenFile, "token-file", "", "file holding the append token (default $ASSAY_LOG_TOKEN)")
	f.StringVar(&policyPath, "witness-policy", "", "witness policy: every published checkpoint is cosigned by its quorum")
	f.StringVar(&origin, "origin", "", "origin of a log created by this command")
	f.StringVar(&storage, "storage", "", "s3://BUCKET[/PREFIX]: keep the log on tessera's AWS backend (needs --db)")
	f.StringVar(&db, "db", "", "MySQL DSN for --storage (default $ASSAY_LOG_DB), e.g. user:pass@tcp(host:3306)/tessera")
	f.StringVar(&s3Endpoint, "s3-endpoint", "", "non-AWS S3 endpoint URL for --storage")
	return c
}

// awsConfig reads the AWS backend flags; secrets come from the environment
// and never appear in errors.
func awsConfig(env *cliEnv, storage, db, endpoint string) (tlogaws.Config, error) {
	rest, ok := strings.CutPrefix(storage, "s3://")
	bucket, prefix, _ := strings.Cut(rest, "/")
	if !ok || bucket == "" {
		return tlogaws.Config{}, exit.Bad("give --storage s3://BUCKET[/PREFIX]", "--storage %q is not an s3:// location", storage)
	}
	if db == "" {
		db = env.Getenv("ASSAY_LOG_DB")
	}
	if db == "" {
		return tlogaws.Config{}, exit.Bad("pass --db DSN or set ASSAY_LOG_DB", "--storage needs a MySQL-compatible database")
	}
	c := tlogaws.Config{Bucket: bucket, Prefix: strings.TrimSuffix(prefix, "/"), DSN: db, Endpoint: endpoint}
	if endpoint != "" {
		c.AccessKey, c.SecretKey = env.Getenv("AWS_ACCESS_KEY_ID"), env.Getenv("AWS_SECRET_ACCESS_KEY")
	}
	return c, nil
}
