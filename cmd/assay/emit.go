package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/ops"
	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/core/store"
)

func init() {
	commands = append(commands, func() *cobra.Command {
		var (
			dataJSON string
			parent   string
			seq      int64
			asJSON   bool
		)
		c := &cobra.Command{
			Use:   "emit TYPE [key=value ...]",
			Short: "Append a receipt to the current trace (for shell scripts and other languages)",
			Long: `Append a receipt to the trace named by ASSAY_TRACE_ID, which 'assay run'
sets for the program it runs. Use it from shell scripts or any language to
record guardian verdicts, decisions and tool uses next to the model calls.

Fields come from --data (a JSON object) and then key=value words, which win.
A value that parses as JSON (numbers, true, false, null, objects, arrays,
quoted strings) is kept as JSON; anything else is a string. A value shaped
like an API key or bearer token is refused: receipts never carry secrets.

  assay emit guardian_verdict verdict=allow tool=web_search risk_score=0.12
  assay emit acme.decision --data '{"approved": true}' --parent r_1a2b3c4d5e6f

Prints the receipt id (--json: the stored receipt).`,
			GroupID: "capture",
			Args: func(_ *cobra.Command, args []string) error {
				if len(args) == 0 {
					return exit.Bad("give the type first, e.g. assay emit guardian_verdict verdict=allow", "no receipt type given")
				}
				return nil
			},
			RunE: func(cmd *cobra.Command, args []string) error {
				typ := args[0]
				if !receipt.TypeAllowed(typ) {
					return exit.Bad("use one of: "+receipt.AllowedForms(), "receipt type %q cannot go into a proof pack", typ)
				}
				traceID := os.Getenv(store.EnvTrace)
				if traceID == "" {
					return exit.Bad("run the program under 'assay run -- CMD', or export ASSAY_TRACE_ID=<trace id>", "ASSAY_TRACE_ID is not set, so there is no current trace")
				}
				if err := store.ValidTraceID(traceID); err != nil {
					return exit.Bad("ASSAY_TRACE_ID must look like trace_20260115T115900_1a2b3c4d", "ASSAY_TRACE_ID=%q is not a valid trace id", traceID)
				}
				data, err := emitData(dataJSON, args[1:])
				if err != nil {
					return err
				}
				st, err := store.OpenDefault()
				if err != nil {
					return err
				}
				// The same request type and rules as the MCP emit-receipt tool.
				req := ops.EmitRequest{TraceID: traceID, Type: typ, Data: data, ParentReceiptID: parent}
				if cmd.Flags().Changed("seq") {
					req.Seq = &seq
				}
				res, err := ops.Emit(st, req)
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				if asJSON {
					return writeJSON(out, res)
				}
				r := res.Receipt
				fmt.Fprintln(out, r.String("receipt_id"))
				return nil
			},
		}
		c.Flags().StringVar(&dataJSON, "data", "", "receipt fields as a JSON object")
		c.Flags().StringVar(&parent, "parent", "", "parent_receipt_id (the receipt this one follows from)")
		c.Flags().Int64Var(&seq, "seq", 0, "seq field (default: one past the trace's highest seq)")
		c.Flags().BoolVar(&asJSON, "json", false, "print the stored receipt as JSON")
		return c
	})
}

// emitData merges --data and key=value words into one object. Keys must be
// ASCII (the pack's canonical form refuses others) and must not be store
// stamps.
func emitData(dataJSON string, kvs []string) (*canon.Object, error) {
	data := &canon.Object{}
	if strings.TrimSpace(dataJSON) != "" {
		v, err := canon.Decode([]byte(dataJSON))
		if err != nil {
			return nil, exit.Bad(`pass a JSON object, e.g. --data '{"verdict": "allow"}'`, "--data is not valid JSON: %v", err)
		}
		obj, ok := v.(*canon.Object)
		if !ok {
			return nil, exit.Bad(`pass a JSON object, e.g. --data '{"verdict": "allow"}'`, "--data must be a JSON object")
		}
		data = obj
	}
	for _, kv := range kvs {
		k, raw, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, exit.Bad("write fields as key=value, e.g. verdict=allow", "%q is not a key=value field", kv)
		}
		var val any = raw
		if v, err := canon.Decode([]byte(raw)); err == nil && raw != "" {
			val = v
		}
		data.Set(k, val)
	}
	// One set of rules for every emitter (ASCII keys, no store stamps, no
	// secrets, finite numbers), shared with the MCP emit-receipt tool.
	if err := receipt.CheckData(data); err != nil {
		return nil, err
	}
	return data, nil
}
