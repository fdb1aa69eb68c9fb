package claims

import (
	"encoding/json"
	"errors"
	"github.com/assay-dev/assay/core/suggest"
	"io/fs"
	"os"
	"strings"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
)

// Load returns the card named by a built-in id or, failing that, read from a
// card JSON file (pack-format.md §6.1). Unknown names and invalid files are
// bad input (exit 3).
func Load(idOrPath string) (*Card, error) {
	if c, ok := Builtin(idOrPath); ok {
		return c, nil
	}
	data, err := os.ReadFile(idOrPath)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && idOrPath == "") {
		return nil, exit.Bad(suggest.Hint(idOrPath, BuiltinIDs())+"use a built-in card ("+strings.Join(BuiltinIDs(), ", ")+") or the path of a card JSON file",
			"unknown card %q: not a built-in card and no such file", idOrPath)
	}
	if err != nil {
		return nil, exit.Bad("check the path and its permissions", "card file %s: %v", idOrPath, unwrapPath(err))
	}
	c, err := Parse(data)
	if err != nil {
		return nil, exit.Bad("fix the card file; see 'assay cards show receipt_completeness --json' for the format", "card file %s: %v", idOrPath, err)
	}
	return c, nil
}

// LoadAll loads every card in order (their claims are flattened in that
// order for claim_set_hash).
func LoadAll(args []string) ([]*Card, error) {
	cards := make([]*Card, 0, len(args))
	for _, a := range args {
		c, err := Load(a)
		if err != nil {
			return nil, err
		}
		cards = append(cards, c)
	}
	return cards, nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Parse reads a card JSON document. Besides the reference's format
// ({card_id, name, description?, claims: [{claim_id, check, description?,
// params?, severity?}], stochastic?, trials?}) it accepts
// {"extends": "<built-in id>", "params": {...}}: the built-in's claims with
// those params laid over each claim's (how model_allowlist and token_budget
// get their lists and limits). A falsifier is ignored, as the reference does.
func Parse(data []byte) (*Card, error) {
	v, err := canon.Decode(data)
	if err != nil {
		return nil, err
	}
	obj, ok := v.(*canon.Object)
	if !ok {
		return nil, errors.New("a card is a JSON object")
	}
	if st, ok := obj.Get("stochastic"); ok && st == true {
		if tv, ok := obj.Get("trials"); ok {
			if n, ok := numFloat(tv); ok && n > 1 {
				return nil, errors.New("stochastic cards with trials > 1 are not supported")
			}
		}
	}
	if ext, ok := obj.Get("extends"); ok {
		return parseExtends(obj, ext)
	}
	var c Card
	if c.CardID, err = reqString(obj, "card_id", ""); err != nil {
		return nil, err
	}
	if c.Name, err = reqString(obj, "name", ""); err != nil {
		return nil, err
	}
	if c.Description, err = optString(obj, "description", ""); err != nil {
		return nil, err
	}
	cv, ok := obj.Get("claims")
	if !ok {
		return nil, errors.New("missing \"claims\" (a list of claims)")
	}
	list, ok := cv.([]any)
	if !ok {
		return nil, errors.New("\"claims\" must be a list")
	}
	for i, e := range list {
		co, ok := e.(*canon.Object)
		if !ok {
			return nil, errorf("claims[%d] must be an object", i)
		}
		cl, err := parseClaim(co, i)
		if err != nil {
			return nil, err
		}
		c.Claims = append(c.Claims, cl)
	}
	if len(c.Claims) == 0 {
		return nil, errors.New("\"claims\" is empty")
	}
	return &c, nil
}

func parseExtends(obj *canon.Object, ext any) (*Card, error) {
	id, ok := ext.(string)
	base, found := Builtin(id)
	if !ok || !found {
		return nil, errorf("\"extends\" must name a built-in card (%s)", strings.Join(BuiltinIDs(), ", "))
	}
	if _, ok := obj.Get("claims"); ok {
		return nil, errors.New("a card with \"extends\" takes \"params\", not \"claims\"")
	}
	var err error
	if base.CardID, err = optString(obj, "card_id", base.CardID); err != nil {
		return nil, err
	}
	if base.Name, err = optString(obj, "name", base.Name); err != nil {
		return nil, err
	}
	if base.Description, err = optString(obj, "description", base.Description); err != nil {
		return nil, err
	}
	if pv, ok := obj.Get("params"); ok {
		po, ok := pv.(*canon.Object)
		if !ok {
			return nil, errors.New("\"params\" must be an object")
		}
		over := plain(po).(map[string]any)
		for i := range base.Claims {
			for k, v := range over {
				base.Claims[i].Params[k] = v
			}
			if err := validateClaim(base.Claims[i], i); err != nil {
				return nil, err
			}
		}
	}
	return base, nil
}

func parseClaim(o *canon.Object, i int) (Claim, error) {
	var cl Claim
	var err error
	where := errorf("claims[%d]", i).Error()
	if cl.ClaimID, err = reqString(o, "claim_id", where); err != nil {
		return cl, err
	}
	if cl.Check, err = reqString(o, "check", where); err != nil {
		return cl, err
	}
	if cl.Description, err = optString(o, "description", ""); err != nil {
		return cl, errorf("%s: %v", where, err)
	}
	if cl.Severity, err = optString(o, "severity", Critical); err != nil {
		return cl, errorf("%s: %v", where, err)
	}
	cl.Params = map[string]any{}
	if pv, ok := o.Get("params"); ok && pv != nil {
		po, ok := pv.(*canon.Object)
		if !ok {
			return cl, errorf("%s: \"params\" must be an object", where)
		}
		cl.Params = plain(po).(map[string]any)
	}
	return cl, validateClaim(cl, i)
}

// validateClaim refuses what would only ever evaluate to a failed claim: an
// unknown check, an unknown severity or a missing required param. (Evaluate
// still applies the reference's rules to such claims built in code.)
func validateClaim(cl Claim, i int) error {
	if _, ok := checks[cl.Check]; !ok {
		return errorf("claims[%d] (%s): unknown check %q; checks are %s", i, cl.ClaimID, cl.Check, strings.Join(CheckNames(), ", "))
	}
	if cl.Severity != Critical && cl.Severity != Warning {
		return errorf("claims[%d] (%s): severity %q must be critical or warning", i, cl.ClaimID, cl.Severity)
	}
	for _, k := range requiredParams[cl.Check] {
		if _, ok := cl.Params[k]; !ok {
			return errorf("claims[%d] (%s): check %s needs params.%s", i, cl.ClaimID, cl.Check, k)
		}
	}
	switch cl.Check {
	case "model_allowlist":
		l, ok := asList(cl.Params["models"])
		if !ok {
			return errorf("claims[%d] (%s): params.models must be a list of model names", i, cl.ClaimID)
		}
		for _, m := range l {
			if _, ok := m.(string); !ok {
				return errorf("claims[%d] (%s): params.models must hold strings, got %s", i, cl.ClaimID, pyRepr(m))
			}
		}
	case "token_budget":
		if f, ok := numFloat(cl.Params["max_total_tokens"]); !ok || f < 0 {
			return errorf("claims[%d] (%s): params.max_total_tokens must be a number >= 0", i, cl.ClaimID)
		}
	case "receipt_count_ge":
		if v, ok := cl.Params["min_count"]; ok {
			if _, ok := numFloat(v); !ok {
				return errorf("claims[%d] (%s): params.min_count must be a number", i, cl.ClaimID)
			}
		}
	case "coverage_contract":
		if v, ok := cl.Params["min_coverage"]; ok {
			if _, ok := numFloat(v); !ok {
				return errorf("claims[%d] (%s): params.min_coverage must be a number", i, cl.ClaimID)
			}
		}
	}
	return nil
}

func reqString(o *canon.Object, key, where string) (string, error) {
	v, ok := o.Get(key)
	if !ok {
		return "", errorf("%smissing %q", prefix(where), key)
	}
	s, ok := v.(string)
	if !ok || s == "" {
		return "", errorf("%s%q must be a non-empty string", prefix(where), key)
	}
	return s, nil
}

func optString(o *canon.Object, key, def string) (string, error) {
	v, ok := o.Get(key)
	if !ok || v == nil {
		return def, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", errorf("%q must be a string", key)
	}
	return s, nil
}

func prefix(where string) string {
	if where == "" {
		return ""
	}
	return where + ": "
}

// plain turns decoded canon values into ordinary Go data that both
// canon.Marshal and encoding/json print as the same JSON (numbers stay
// exact literals as json.Number).
func plain(v any) any {
	switch x := v.(type) {
	case *canon.Object:
		m := make(map[string]any, len(x.Members))
		for _, mem := range x.Members {
			m[mem.Key] = plain(mem.Value)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	case canon.Number:
		return json.Number(x)
	}
	return v
}
