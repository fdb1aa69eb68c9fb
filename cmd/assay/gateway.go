package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/capture/gateway"
	"github.com/assay-dev/assay/core/doctor"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/store"
)

// storeWritable creates the store directory if needed and checks a file
// can be created in it.
func storeWritable(home string) error {
	if err := os.MkdirAll(home, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(home, ".gateway-probe-*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

func init() {
	commands = append(commands, func() *cobra.Command {
		var addr, traceID, otlpEndpoint string
		var asJSON, content bool
		up := map[string]*string{}
		c := &cobra.Command{
			Use:   "gateway",
			Short: "Run the recording gateway: point LLM SDKs at it and every call becomes a receipt",
			Long: `Run the zero-code recording gateway, an HTTP reverse proxy on loopback, for
long-running services. Point the official OpenAI, Anthropic and Gemini SDKs
(Go, JS, Python) at it with the environment lines it prints (ASSAY_GATEWAY
among them, so 'assay doctor' can check the base URLs point at it); each model call
then becomes a model_call receipt in the trace, streams included, and is
forwarded untouched (API keys included, never recorded) to the real API.

Routes: /openai -> ASSAY_UPSTREAM_OPENAI (default https://api.openai.com/v1),
/anthropic -> ASSAY_UPSTREAM_ANTHROPIC (default https://api.anthropic.com),
/gemini -> ASSAY_UPSTREAM_GEMINI (default https://generativelanguage.googleapis.com).
The --upstream-* flags override those; an SDK base URL already in the
environment (e.g. OPENAI_BASE_URL to a LiteLLM proxy) becomes the upstream.

The trace is --trace, else ASSAY_TRACE_ID, else a new one. SIGINT, SIGTERM
and SIGHUP (a closed terminal) stop it gracefully: in-flight streams finish
and every receipt is written.
Build the pack afterwards with 'assay proof-pack <trace>'. For one command,
'assay run --gateway -- CMD' does all of this for you.`,
			Example: `  assay gateway --addr 127.0.0.1:8787
  assay gateway --upstream-openai http://127.0.0.1:4000/v1 --trace trace_20260115T115900_1a2b3c4d`,
			GroupID: "capture",
			Args:    cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
				defer stop()
				if traceID == "" {
					traceID = envOf(cmd).Getenv(store.EnvTrace)
				}
				if traceID == "" {
					traceID = store.NewTraceID()
				}
				if err := store.ValidTraceID(traceID); err != nil {
					return err
				}
				st, err := envOf(cmd).OpenStore()
				if err != nil {
					return err
				}
				// Refuse an unusable store before listening: otherwise every
				// call would be answered and its receipt lost.
				if err := storeWritable(st.Home); err != nil {
					return exit.Bad("point ASSAY_HOME at a writable directory", "the receipt store %s cannot be written: %v", st.Home, err)
				}
				ups := gateway.UpstreamsFromEnv(nil)
				for r, v := range up {
					if *v != "" {
						ups[r] = *v
					}
				}
				lg := *logOf(cmd)
				g, err := gateway.Start(ctx, gateway.Options{Addr: addr, Store: st, TraceID: traceID, Upstreams: ups, Logger: &lg, StoreContent: content})
				if err != nil {
					return err
				}
				stopExport, err := startLiveExport(ctx, envOf(cmd).Getenv, st, otlpEndpoint, cmd.ErrOrStderr(), "assay gateway")
				if err != nil {
					_ = g.Close()
					return err
				}
				defer stopExport()
				out := cmd.OutOrStdout()
				// ASSAY_GATEWAY tells 'assay doctor' (DOCTOR_GATEWAY_001)
				// which gateway the base URLs must point at.
				env := append(g.Env(), doctor.EnvGateway+"="+g.URL())
				if asJSON {
					if err := writeJSON(out, map[string]any{"url": g.URL(), "trace_id": g.TraceID(), "store": st.Home, "env": env,
						"upstreams": map[string]string{"openai": g.Upstream("openai"), "anthropic": g.Upstream("anthropic"), "gemini": g.Upstream("gemini")}}); err != nil {
						return err
					}
				} else {
					for _, kv := range env {
						fmt.Fprintf(out, "export %s\n", kv)
					}
					fmt.Fprintf(out, "export %s=%s\n", store.EnvTrace, g.TraceID())
				}
				errw := cmd.ErrOrStderr()
				fmt.Fprintf(errw, "assay gateway: listening on %s, trace %s (store %s)\n", g.URL(), g.TraceID(), st.Home)
				for _, r := range gateway.Routes {
					fmt.Fprintf(errw, "assay gateway: /%s -> %s\n", r, g.Upstream(r))
				}
				fmt.Fprintln(errw, "assay gateway: press Ctrl-C to stop")
				<-ctx.Done()
				fmt.Fprintln(errw, "assay gateway: stopping; finishing in-flight calls")
				cerr := g.Close()
				s := g.Stats()
				fmt.Fprintf(errw, "assay gateway: %d requests, %d model calls, %d receipts written, %d lost (trace %s)\n",
					s.Requests, s.ModelCalls, s.ReceiptsWritten, s.ReceiptsLost, g.TraceID())
				if cerr != nil {
					return exit.New(exit.HonestFail, "check the store directory's permissions and free space", "%v", cerr)
				}
				if s.ReceiptsWritten > 0 {
					fmt.Fprintf(errw, "Next: assay proof-pack %s\n", g.TraceID())
				}
				return nil
			},
		}
		f := c.Flags()
		f.StringVar(&addr, "addr", "127.0.0.1:0", "listen address HOST:PORT (port 0 picks a free one)")
		f.StringVar(&traceID, "trace", "", "trace id to record into (default $ASSAY_TRACE_ID, else a new one)")
		f.BoolVar(&asJSON, "json", false, "print the URL, trace and environment as one JSON document")
		f.BoolVar(&content, "store-content", false, "also record prompts and answers in the receipts (default: hashes only; or ASSAY_STORE_CONTENT=1)")
		f.StringVar(&otlpEndpoint, "otlp-endpoint", "", otlpEndpointUsage)
		for _, r := range gateway.Routes {
			up[r] = f.String("upstream-"+r, "", "upstream base URL for /"+r+" (overrides "+gateway.UpstreamEnv[r]+")")
		}
		return c
	})
}
