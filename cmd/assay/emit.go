package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/ops"
	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/core/recorder/client"
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
				traceID := envOf(cmd).Getenv(store.EnvTrace)
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
				// Under a recorder (assay run, assay recorder serve) the
				// receipt goes to it and is sealed before emit returns; the
				// recorder numbers seq. Otherwise it is appended to the
				// store, as the reference's emitters do.
				if addr := client.Addr(envOf(cmd).Getenv); addr != "" {
					return emitToRecorder(cmd, addr, traceID, typ, data, parent, seq, cmd.Flags().Changed("seq"), asJSON)
				}
				st, err := envOf(cmd).OpenStore()
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
		c.Flags().BoolVar(&asJSON, "json", false, "print the stored receipt as JSON (schema: schemas/emit-result.schema.json)")
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

// mustCanon renders a decoded value for an error message.
func mustCanon(v any) []byte {
	b, err := canon.Marshal(v)
	if err != nil {
		return []byte(fmt.Sprint(v))
	}
	return b
}

// emitToRecorder sends the receipt to the recorder at addr and prints what
// it stored.
func emitToRecorder(cmd *cobra.Command, addr, traceID, typ string, data *canon.Object, parent string, seq int64, seqSet, asJSON bool) error {
	if v, ok := data.Get("receipt_id"); ok {
		if id, isStr := v.(string); !isStr || strings.TrimSpace(id) == "" {
			return exit.Bad("give a non-empty string, or drop receipt_id and let emit make one", "receipt_id must be a non-empty string")
		}
	}
	if v, ok := data.Get("timestamp"); ok {
		ts, isStr := v.(string)
		if _, valid := receipt.ParseTimestamp(ts); !isStr || !valid {
			return exit.Bad("use an ISO 8601 time like 2026-01-15T11:59:00.123456+00:00, or drop timestamp and let emit stamp it", "timestamp %s is not a valid time", strings.TrimSpace(string(mustCanon(v))))
		}
	}
	if _, ok := data.Get("seq"); !ok && seqSet {
		data.Set("seq", seq)
	}
	c, err := client.Dial(addr)
	if err != nil {
		return exit.Wrap(exit.HonestFail, err, "the recorder of this run is gone (killed?); the receipt was not recorded")
	}
	defer c.Close()
	r, err := c.Emit(traceID, typ, data, store.EmitOptions{ParentReceiptID: parent})
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if asJSON {
		// The same document as an emit appended to the store.
		res := ops.EmitResult{ReceiptID: r.String("receipt_id"), Type: typ, Timestamp: r.String("timestamp"), TraceID: traceID, Receipt: r}
		if v, ok := r.Get("seq"); ok {
			res.Seq, _ = strconv.ParseInt(fmt.Sprint(v), 10, 64)
		}
		return writeJSON(out, res)
	}
	fmt.Fprintln(out, r.String("receipt_id"))
	return nil
}
