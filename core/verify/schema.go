package verify

import (
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/internal/lazyre"
)

// The manifest and attestation are closed objects (pack_manifest.schema.json,
// attestation.schema.json, additionalProperties false). These rules are a
// hand-written transcription of those schemas: they only decide pass or
// fail, with a message naming the field; messages are not jsonschema's.

var (
	hex64   = lazyre.New(`^[a-f0-9]{64}$`)
	hex40   = lazyre.New(`^[a-f0-9]{40}$`)
	idChars = lazyre.New(`^[A-Za-z0-9._-]+$`)
	semver  = lazyre.New(`^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$`)
	rfc3339 = lazyre.New(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$`)
)

type rule func(v any) string // "" when valid, else what is wrong

func str(extra func(string) string) rule {
	return func(v any) string {
		s, ok := v.(string)
		if !ok {
			return fmt.Sprintf("%s is not of type 'string'", show(v))
		}
		if extra != nil {
			return extra(s)
		}
		return ""
	}
}

func nonEmpty(s string) string {
	if s == "" {
		return "'' should be non-empty"
	}
	return ""
}

func pattern(lazy func() *regexp.Regexp) func(string) string {
	return func(s string) string {
		if re := lazy(); !re.MatchString(s) {
			return fmt.Sprintf("%q does not match %q", s, re.String())
		}
		return ""
	}
}

func enum(vals ...string) func(string) string {
	return func(s string) string {
		for _, v := range vals {
			if s == v {
				return ""
			}
		}
		return fmt.Sprintf("%q is not one of %v", s, vals)
	}
}

func integer(min int64) rule {
	return func(v any) string {
		n, ok := v.(canon.Number)
		if !ok {
			return fmt.Sprintf("%s is not of type 'integer'", show(v))
		}
		f, _, err := big.ParseFloat(string(n), 10, 256, big.ToNearestEven)
		if err != nil || !f.IsInt() {
			return fmt.Sprintf("%s is not of type 'integer'", n)
		}
		if f.Cmp(big.NewFloat(float64(min))) < 0 {
			return fmt.Sprintf("%s is less than the minimum of %d", n, min)
		}
		return ""
	}
}

func nullable(r rule) rule {
	return func(v any) string {
		if v == nil {
			return ""
		}
		return r(v)
	}
}

func show(v any) string {
	b, err := canon.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	if len(b) > 60 {
		return string(b[:60]) + "..."
	}
	return string(b)
}

type objectSchema struct {
	props    map[string]rule
	required []string
	// nested members are validated with their own schema, their errors
	// listed after this object's own.
	nested map[string]objectSchema
}

func (s objectSchema) validate(path string, v any) []string {
	obj, ok := v.(*canon.Object)
	if !ok {
		return []string{fmt.Sprintf("%s: %s is not of type 'object'", path, show(v))}
	}
	var errs []string
	for _, k := range s.required {
		if _, ok := obj.Get(k); !ok {
			errs = append(errs, fmt.Sprintf("%s: '%s' is a required property", path, k))
		}
	}
	var extra, inner []string
	for _, m := range obj.Members {
		if ns, ok := s.nested[m.Key]; ok {
			inner = append(inner, ns.validate(path+"."+m.Key, m.Value)...)
		}
		r, ok := s.props[m.Key]
		if !ok {
			extra = append(extra, m.Key)
			continue
		}
		if msg := r(m.Value); msg != "" {
			errs = append(errs, fmt.Sprintf("%s.%s: %s", path, m.Key, msg))
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		errs = append(errs, fmt.Sprintf("%s: Additional properties are not allowed ('%s' %s unexpected)", path, strings.Join(extra, "', '"), map[bool]string{true: "was", false: "were"}[len(extra) == 1]))
	}
	return append(errs, inner...)
}

func object(s objectSchema) rule {
	return func(v any) string {
		if errs := s.validate("", v); len(errs) > 0 {
			return strings.TrimPrefix(errs[0], ": ")
		}
		return ""
	}
}

// maxListed bounds files and expected_files. The format needs three and
// five entries; the reference sets no maximum, but every listed name costs
// a file-system lookup, so a signed manifest listing 100,000 names is
// refused at the schema stage instead of being walked.
const maxListed = 64

func array(minItems, maxItems int, item rule) rule {
	return func(v any) string {
		arr, ok := v.([]any)
		if !ok {
			return fmt.Sprintf("%s is not of type 'array'", show(v))
		}
		if len(arr) < minItems {
			return fmt.Sprintf("%s should have at least %d items", show(v), minItems)
		}
		if len(arr) > maxItems {
			return fmt.Sprintf("has %d items, more than the %d a pack may list", len(arr), maxItems)
		}
		for i, e := range arr {
			if msg := item(e); msg != "" {
				return fmt.Sprintf("[%d]: %s", i, msg)
			}
		}
		return ""
	}
}

var ciBindingSchema = objectSchema{
	props: map[string]rule{
		"provider":     str(enum("github_actions", "gitlab_ci", "circleci", "jenkins", "local")),
		"commit_sha":   str(pattern(hex40)),
		"repo":         str(nil),
		"ref":          str(nil),
		"run_id":       str(nil),
		"run_attempt":  str(nil),
		"workflow_ref": str(nil),
		"actor":        str(nil),
	},
	required: []string{"provider", "commit_sha"},
}

var attestationSchema = objectSchema{
	props: map[string]rule{
		"pack_format_version":     str(pattern(semver)),
		"fingerprint_version":     integer(1),
		"pack_id":                 str(nonEmpty),
		"run_id":                  str(nonEmpty),
		"suite_id":                str(nonEmpty),
		"suite_hash":              str(pattern(hex64)),
		"verifier_version":        str(pattern(idChars)),
		"canon_version":           str(pattern(idChars)),
		"canon_impl":              str(nil),
		"canon_impl_version":      str(nil),
		"policy_hash":             str(pattern(hex64)),
		"claim_set_id":            str(nonEmpty),
		"claim_set_hash":          str(pattern(hex64)),
		"receipt_integrity":       str(enum("PASS", "FAIL")),
		"claim_check":             str(enum("PASS", "FAIL", "N/A")),
		"discrepancy_fingerprint": nullable(str(pattern(hex64))),
		"assurance_level":         str(enum("L0", "L1", "L2", "L3")),
		"proof_tier":              str(enum("hash-only", "signed-pack", "signed-receipts")),
		"mode":                    str(enum("shadow", "enforced", "breakglass")),
		"head_hash":               str(pattern(hex64)),
		"head_hash_algorithm":     str(nil),
		"time_authority":          str(nil),
		"n_receipts":              integer(0),
		"timestamp_start":         str(dateTime),
		"timestamp_end":           str(dateTime),
		"ci_binding":              nullable(object(ciBindingSchema)),
		"valid_until":             nullable(str(dateTime)),
		"superseded_by":           nullable(str(nil)),
	},
	required: []string{
		"pack_format_version", "pack_id", "run_id", "suite_id", "suite_hash", "verifier_version",
		"canon_version", "policy_hash", "claim_set_id", "claim_set_hash", "receipt_integrity",
		"claim_check", "assurance_level", "proof_tier", "mode", "head_hash", "n_receipts",
		"timestamp_start", "timestamp_end",
	},
}

var fileEntrySchema = objectSchema{
	props:    map[string]rule{"path": str(nonEmpty), "sha256": str(pattern(hex64)), "bytes": integer(0)},
	required: []string{"path", "sha256", "bytes"},
}

var manifestSchema = objectSchema{
	props: map[string]rule{
		"pack_id":                 str(nonEmpty),
		"pack_version":            str(pattern(idChars)),
		"manifest_version":        str(pattern(idChars)),
		"hash_alg":                str(enum("sha256")),
		"attestation":             func(v any) string { return "" }, // validated with its own schema below
		"attestation_sha256":      str(pattern(hex64)),
		"suite_hash":              str(pattern(hex64)),
		"claim_set_id":            str(nonEmpty),
		"claim_set_hash":          str(pattern(hex64)),
		"redaction_policy_sha256": str(pattern(hex64)),
		"receipt_count_expected":  integer(0),
		"files":                   array(3, maxListed, object(fileEntrySchema)),
		"expected_files":          array(5, maxListed, str(nil)),
		"signer_id":               str(nonEmpty),
		"signer_pubkey":           str(nil),
		"signer_pubkey_sha256":    str(pattern(hex64)),
		"signature_alg":           str(enum("ed25519")),
		"signature_scope":         str(enum("JCS(pack_manifest_excluding_signature_and_pack_root_sha256)", "JCS(pack_manifest_without_signature)")),
		"signature":               str(nonEmpty),
		"pack_root_sha256":        str(pattern(hex64)),
	},
	required: []string{
		"pack_id", "pack_version", "manifest_version", "hash_alg", "attestation", "attestation_sha256",
		"suite_hash", "claim_set_id", "claim_set_hash", "receipt_count_expected", "files", "expected_files",
		"signer_id", "signer_pubkey", "signer_pubkey_sha256", "signature_alg", "signature_scope",
		"signature", "pack_root_sha256",
	},
	// The attestation is validated with its own schema ("$.attestation").
	nested: map[string]objectSchema{"attestation": attestationSchema},
}

// validateManifest returns every schema violation of the manifest.
func validateManifest(m *canon.Object) []string {
	return manifestSchema.validate("$", m)
}

// dateTime is the schema's RFC 3339 pattern plus the date-time format
// check the reference's validator applies: the fields must also name a real
// instant (no month 13, no February 30, no hour 24, offsets within a day).
func dateTime(s string) string {
	if msg := pattern(rfc3339)(s); msg != "" {
		return msg
	}
	if !realDateTime(s) {
		return fmt.Sprintf("%q is not a 'date-time'", s)
	}
	return ""
}

func realDateTime(s string) bool {
	// The pattern fixed the layout: YYYY-MM-DDTHH:MM:SS[.f](Z|±HH:MM).
	y, _ := strconv.Atoi(s[0:4])
	mo, _ := strconv.Atoi(s[5:7])
	d, _ := strconv.Atoi(s[8:10])
	hh, _ := strconv.Atoi(s[11:13])
	mm, _ := strconv.Atoi(s[14:16])
	ss, _ := strconv.Atoi(s[17:19])
	if mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || hh > 23 || mm > 59 || ss > 59 {
		return false
	}
	if z := s[len(s)-1]; z != 'Z' {
		oh, _ := strconv.Atoi(s[len(s)-5 : len(s)-3])
		om, _ := strconv.Atoi(s[len(s)-2:])
		if oh > 23 || om > 59 {
			return false
		}
	}
	return true
}
