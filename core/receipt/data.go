package receipt

import (
	"fmt"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/internal/lazyre"
)

// SecretPattern matches strings that look like API keys or bearer tokens.
// Receipts never carry secrets: emitters refuse such values and the capture
// layer redacts them from upstream error texts.
var SecretPattern = lazyre.New(`\b(sk|pk|rk|sess)-[A-Za-z0-9_\-*.]{12,}|\bAIza[0-9A-Za-z_\-]{20,}|\bBearer\s+[A-Za-z0-9_\-.=]{8,}`)

// storeStamps are set by the store on every append.
var storeStamps = map[string]bool{"_trace_id": true, "_stored_at": true, "_store_seq": true}

// CheckData vets the fields an emitter (`assay emit`, the MCP emit-receipt
// tool) merges into a receipt, before anything is written: keys ASCII at
// every depth, no store stamps and no type override, no value shaped like a
// secret, and values the pack's canonical JSON can hold. Errors are bad
// input (exit 3) naming the field.
func CheckData(data *canon.Object) error {
	if data == nil {
		return nil
	}
	for _, m := range data.Members {
		switch {
		case storeStamps[m.Key]:
			return exit.Bad("drop the field; the store stamps it", "field %q is set by the store, not the emitter", m.Key)
		case m.Key == "type":
			return exit.Bad("give the receipt type separately", "field %q cannot be overridden", m.Key)
		}
	}
	return checkValue("", data)
}

func checkValue(path string, v any) error {
	switch x := v.(type) {
	case string:
		if SecretPattern().MatchString(x) {
			return exit.Bad("record a hash or a name instead of the secret", "field %q looks like an API key or token; receipts never carry secrets", path)
		}
	case *canon.Object:
		for _, m := range x.Members {
			if !isASCII(m.Key) {
				return exit.Bad("use ASCII field names", "field name %q is not ASCII; packs only carry ASCII keys", m.Key)
			}
			if err := checkValue(join(path, m.Key), m.Value); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range x {
			if err := checkValue(fmt.Sprintf("%s[%d]", path, i), e); err != nil {
				return err
			}
		}
	default:
		if _, err := canon.Marshal(v); err != nil {
			return exit.Bad("use finite numbers (quote the value to keep it as a string)", "field %q cannot go into a receipt: %v", path, err)
		}
	}
	return nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
