package diff

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"sort"
	"strings"

	"github.com/assay-dev/assay/core/exit"
)

// Price is what a model costs, in USD per million tokens.
type Price struct {
	Input  float64 `json:"input"`
	Output float64 `json:"output"`
}

// DefaultPrice is charged for models the table does not know: the reference's
// deliberately high $10 in / $30 out, so an unknown model never looks cheap.
var DefaultPrice = Price{Input: 10, Output: 30}

// builtinPrices are list prices (USD per 1M tokens, standard tier) of current
// OpenAI, Anthropic and Google models. Lookup is exact first, then the
// longest table key that prefixes the model name, so dated snapshots
// (gpt-4o-2024-08-06, claude-sonnet-4-20250514) find their family.
var builtinPrices = map[string]Price{
	// OpenAI
	"gpt-5":         {1.25, 10},
	"gpt-5-mini":    {0.25, 2},
	"gpt-5-nano":    {0.05, 0.40},
	"gpt-4.1":       {2, 8},
	"gpt-4.1-mini":  {0.40, 1.60},
	"gpt-4.1-nano":  {0.10, 0.40},
	"gpt-4o":        {2.50, 10},
	"gpt-4o-mini":   {0.15, 0.60},
	"gpt-4-turbo":   {10, 30},
	"gpt-4":         {30, 60},
	"gpt-3.5-turbo": {0.50, 1.50},
	"o1":            {15, 60},
	"o1-mini":       {1.10, 4.40},
	"o3":            {2, 8},
	"o3-mini":       {1.10, 4.40},
	"o4-mini":       {1.10, 4.40},
	// Anthropic
	"claude-opus-4-5":   {5, 25},
	"claude-opus-4-1":   {15, 75},
	"claude-opus-4":     {15, 75},
	"claude-sonnet-4-5": {3, 15},
	"claude-sonnet-4":   {3, 15},
	"claude-haiku-4-5":  {1, 5},
	"claude-3-7-sonnet": {3, 15},
	"claude-3-5-sonnet": {3, 15},
	"claude-3-5-haiku":  {0.80, 4},
	"claude-3-opus":     {15, 75},
	"claude-3-haiku":    {0.25, 1.25},
	// Google
	"gemini-3-pro":          {2, 12},
	"gemini-2.5-pro":        {1.25, 10},
	"gemini-2.5-flash":      {0.30, 2.50},
	"gemini-2.5-flash-lite": {0.10, 0.40},
	"gemini-2.0-flash":      {0.10, 0.40},
	"gemini-2.0-flash-lite": {0.075, 0.30},
	"gemini-1.5-pro":        {1.25, 5},
	"gemini-1.5-flash":      {0.075, 0.30},
}

// Prices is a price table plus the price of unknown models.
type Prices struct {
	Table   map[string]Price
	Default Price
}

// BuiltinPrices returns a copy of the built-in table.
func BuiltinPrices() Prices {
	t := make(map[string]Price, len(builtinPrices))
	for k, v := range builtinPrices {
		t[k] = v
	}
	return Prices{Table: t, Default: DefaultPrice}
}

// Lookup returns the price of model and the table key that matched ("" for
// the default price). A provider prefix such as "openai/" is ignored when
// the full name is not found.
func (p Prices) Lookup(model string) (Price, string) {
	m := strings.ToLower(strings.TrimSpace(model))
	if pr, ok := p.Table[m]; ok {
		return pr, m
	}
	best := ""
	for k := range p.Table {
		if strings.HasPrefix(m, k) && len(k) > len(best) {
			best = k
		}
	}
	if best != "" {
		return p.Table[best], best
	}
	if i := strings.LastIndexByte(m, '/'); i >= 0 && i < len(m)-1 {
		return p.Lookup(m[i+1:])
	}
	return p.Default, ""
}

// Keys returns the table keys, sorted.
func (p Prices) Keys() []string {
	ks := make([]string, 0, len(p.Table))
	for k := range p.Table {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// LoadPrices reads a JSON price file over the built-in table:
// {"model-name": {"input": USD_per_1M, "output": USD_per_1M}, ...}; the key
// "default" sets the price of unknown models. Any problem is bad input.
func LoadPrices(path string) (Prices, error) {
	p := BuiltinPrices()
	raw, err := os.ReadFile(path)
	if err != nil {
		fix := "give a readable JSON file of {\"model\": {\"input\": N, \"output\": N}}"
		if errors.Is(err, os.ErrNotExist) {
			return p, exit.Bad(fix, "price file not found: %s", path)
		}
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return p, exit.Bad(fix, "cannot read price file %s: %v", path, err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return p, exit.Bad("write {\"model\": {\"input\": N, \"output\": N}} in USD per 1M tokens", "price file %s is not a JSON object: %v", path, err)
	}
	for k, v := range m {
		var pr Price
		dec := json.NewDecoder(strings.NewReader(string(v)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&pr); err != nil {
			return p, exit.Bad("each entry is {\"input\": N, \"output\": N} in USD per 1M tokens", "price file %s: entry %q: %v", path, k, err)
		}
		if pr.Input < 0 || pr.Output < 0 || math.IsNaN(pr.Input) || math.IsNaN(pr.Output) {
			return p, exit.Bad("prices are non-negative USD per 1M tokens", "price file %s: entry %q has a negative price", path, k)
		}
		if strings.TrimSpace(k) == "" {
			return p, exit.Bad("name the model each price is for", "price file %s has an empty model name", path)
		}
		if k == "default" {
			p.Default = pr
			continue
		}
		p.Table[strings.ToLower(k)] = pr
	}
	return p, nil
}
