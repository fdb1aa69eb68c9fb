package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/recorder"
)

func init() {
	commands = append(commands, func() *cobra.Command {
		c := &cobra.Command{
			Use:     "recorder",
			Short:   "Run the recorder that seals receipts as they are recorded, as a long-lived service",
			GroupID: "capture",
		}
		c.AddCommand(newRecorderServeCmd())
		return c
	})
}

func newRecorderServeCmd() *cobra.Command {
	var socket, home, modeStr string
	var noGenerate bool
	c := &cobra.Command{
		Use:   "serve --socket PATH",
		Short: "Serve the recorder on a local socket until stopped (SIGTERM, SIGINT)",
		Long: `Run the recorder as a service. Programs send receipts to its socket; each
run ('assay run' with ASSAY_RECORDER set to the socket) gets its own trace,
its own run key (in memory only, certified by this recorder's signer) and
its own seal; when the run ends the recorder builds the pack from what it
sealed, signed with its own key, and 'assay run' copies it to -o.

Its store, seals, keys and packs live in --home (default ASSAY_HOME or
~/.assay of the user it runs as). Run it as a separate OS user (see
contrib/systemd/assay-recorder.service and docs/recorder.md) and an agent
running as another user can neither read its signing key nor change what
it stored; it can only send receipts.`,
		Example: `  assay recorder serve --socket /run/assay-recorder/recorder.sock --socket-mode 0666
  ASSAY_RECORDER=/run/assay-recorder/recorder.sock assay run -- python agent.py`,
		Args: exactArgs(0, "serve takes no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if socket == "" {
				return exit.Bad("pass --socket /path/to/recorder.sock", "no --socket given")
			}
			mode, err := strconv.ParseUint(modeStr, 8, 32)
			if err != nil || mode&^0o777 != 0 {
				return exit.Bad("give octal permission bits, e.g. --socket-mode 0660", "invalid --socket-mode %q", modeStr)
			}
			if home == "" {
				if home, err = envOf(cmd).Home(); err != nil {
					return err
				}
			}
			home, _ = filepath.Abs(envOf(cmd).Abs(home))
			// The store, the seals and the keys are this user's alone;
			// packs are made readable when they are built.
			syscall.Umask(0o077)
			if err := os.MkdirAll(home, 0o755); err != nil {
				return exit.Bad("point --home at a writable directory", "cannot create %s: %v", home, err)
			}
			signer, made, err := keys.Open(home).ActiveSigner(!noGenerate)
			if err != nil {
				return err
			}
			if made {
				fmt.Fprintf(cmd.ErrOrStderr(), "assay recorder: generated signing key '%s'\n", signer.ID)
			}
			srv, err := recorder.Serve(recorder.ServeOptions{Home: home, Signer: signer, Socket: socket, SocketMode: os.FileMode(mode)})
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			go func() {
				<-ctx.Done()
				_ = srv.Close()
			}()
			fmt.Fprintf(cmd.ErrOrStderr(), "assay recorder: listening on %s (home %s, signer %s %s…)\n", socket, home, signer.ID, keys.Fingerprint(signer.Public())[:16])
			if err := srv.Run(); err != nil {
				return err
			}
			fmt.Fprintln(cmd.ErrOrStderr(), "assay recorder: stopped")
			return nil
		},
	}
	c.Flags().StringVar(&socket, "socket", "", "path of the socket to listen on (required)")
	c.Flags().StringVar(&home, "home", "", "the recorder's home: store, seals, keys, packs (default ASSAY_HOME or ~/.assay)")
	c.Flags().StringVar(&modeStr, "socket-mode", "0600", "permission bits of the socket (0666: agents of other users may connect)")
	c.Flags().BoolVar(&noGenerate, "no-generate-key", false, "fail instead of generating a signing key when none exists")
	return c
}
