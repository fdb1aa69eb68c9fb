package mcppolicy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v4"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/fnmatch"
	"github.com/assay-dev/assay/internal/lazyre"
)

// The keys each mapping accepts, in the order the template shows them.
var (
	rootKeys       = []string{"version", "server_id", "mode", "store_args", "store_results", "auto_pack", "audit_dir", "tools", "budget"}
	toolsKeys      = []string{"default", "deny", "allow", "constraints"}
	constraintKeys = []string{"max_calls", "deny_patterns"}
	budgetKeys     = []string{"max_tool_calls", "max_wall_time_sec"}
)

// parser walks the YAML node tree itself (rather than decoding into a
// struct) so that every error can name the key path and its line.
type parser struct {
	path string
	p    *Policy
}

// fail builds the one-line load error for node n.
func (ps *parser) fail(n *yaml.Node, fix, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if n != nil && n.Line > 0 {
		return exit.Bad(fix, "%s:%d: %s", ps.path, n.Line, msg)
	}
	return exit.Bad(fix, "%s: %s", ps.path, msg)
}

// yamlLine matches the position prefix of the YAML library's errors.
var yamlLine = lazyre.New(`^yaml: line (\d+): `)

func (ps *parser) syntaxError(err error) error {
	msg := err.Error()
	if m := yamlLine().FindStringSubmatch(msg); m != nil {
		return exit.Bad("fix the YAML syntax on that line", "%s:%s: invalid YAML: %s", ps.path, m[1], msg[len(m[0]):])
	}
	return exit.Bad("fix the YAML syntax", "%s: invalid YAML: %s", ps.path, strings.TrimPrefix(msg, "yaml: "))
}

func (ps *parser) parse(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return ps.empty()
		}
		return ps.syntaxError(err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return ps.syntaxError(err)
	default:
		return ps.fail(&extra, "keep one policy per file", "the file holds more than one YAML document ('---')")
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return ps.empty()
	}
	root := doc.Content[0]
	if isNull(root) {
		return ps.empty()
	}
	if a := findAlias(root); a != nil {
		return ps.fail(a, "write the value out in full", "YAML aliases (*%s) are not supported in a policy file", a.Value)
	}
	if root.Kind != yaml.MappingNode {
		return ps.fail(root, "start from 'assay mcp policy init'", "the policy must be a YAML mapping of keys (version, mode, tools, ...), got %s", kindName(root))
	}
	return ps.root(root)
}

func (ps *parser) empty() error {
	return ps.fail(nil, "write one with 'assay mcp policy init'", "the policy file is empty; it must be a YAML mapping")
}

func (ps *parser) root(n *yaml.Node) error {
	fields, err := ps.mapping(n, "", rootKeys)
	if err != nil {
		return err
	}
	p := ps.p
	for _, f := range fields {
		switch f.name {
		case "version":
			// `version: 1` (an int) and `version: "1"` both mean version 1.
			if f.val.Kind != yaml.ScalarNode || (f.val.ShortTag() != "!!str" && f.val.ShortTag() != "!!int") || f.val.Value != "1" {
				return ps.fail(f.val, `write version: "1" (the only policy version)`, "unsupported version %s", describe(f.val))
			}
		case "server_id":
			if p.ServerID, err = ps.str(f); err != nil {
				return err
			}
		case "mode":
			s, err := ps.str(f)
			if err != nil {
				return err
			}
			if s != ModeAudit && s != ModeEnforce {
				return ps.fail(f.val, "use audit (record what would be denied) or enforce (refuse it)", "mode must be audit or enforce, got %q", s)
			}
			p.Mode = s
		case "store_args":
			p.StoreArgs, err = ps.boolean(f)
		case "store_results":
			p.StoreResults, err = ps.boolean(f)
		case "auto_pack":
			p.AutoPack, err = ps.boolean(f)
		case "audit_dir":
			p.AuditDir, err = ps.str(f)
		case "tools":
			err = ps.tools(f)
		case "budget":
			err = ps.budget(f)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (ps *parser) tools(f field) error {
	fields, err := ps.mapping(f.val, "tools", toolsKeys)
	if err != nil {
		return err
	}
	t := &ps.p.Tools
	for _, f := range fields {
		switch f.name {
		case "default":
			s, err := ps.str(f)
			if err != nil {
				return err
			}
			if s != Allow && s != Deny {
				return ps.fail(f.val, "use allow (run anything not denied) or deny (run only what tools.allow lists)", "tools.default must be allow or deny, got %q", s)
			}
			t.Default = s
		case "deny", "allow":
			globs, nodes, err := ps.strings(f)
			if err != nil {
				return err
			}
			res := make([]*regexp.Regexp, len(globs))
			for i, g := range globs {
				if res[i], err = ps.glob(nodes[i], fmt.Sprintf("%s[%d]", f.path, i), g); err != nil {
					return err
				}
			}
			if f.name == "deny" {
				t.Deny, ps.p.deny = globs, res
			} else {
				t.Allow, ps.p.allow = globs, res
			}
		case "constraints":
			if err := ps.constraints(f); err != nil {
				return err
			}
		}
	}
	return nil
}

func (ps *parser) glob(n *yaml.Node, path, g string) (*regexp.Regexp, error) {
	switch {
	case g == "":
		return nil, ps.fail(n, "remove it, or write a tool name or glob such as delete_*", "%s is empty", path)
	case strings.TrimSpace(g) != g:
		return nil, ps.fail(n, "remove the spaces; tool names have none", "%s %q starts or ends with whitespace", path, g)
	}
	re, info, err := fnmatch.Compile(g)
	switch {
	case err != nil: // the translator emits only valid RE2; kept as a guard
		return nil, ps.fail(n, "simplify the glob", "%s %q cannot be compiled: %v", path, g, err)
	case info.Unclosed:
		return nil, ps.fail(n, "close the set with ']', or write [[] for a literal '['", "%s %q has a '[' without a closing ']'", path, g)
	case info.EmptySet:
		return nil, ps.fail(n, "write ranges low to high, e.g. [a-z]", "%s %q holds a set that matches no character", path, g)
	}
	return re, nil
}

func (ps *parser) constraints(f field) error {
	if f.val.Kind != yaml.MappingNode {
		return ps.fail(f.val, "map exact tool names to their limits, e.g. write_file: {max_calls: 10}", "tools.constraints must be a mapping of tool names, got %s", kindName(f.val))
	}
	tools, err := ps.mapping(f.val, "tools.constraints", nil)
	if err != nil {
		return err
	}
	for _, tf := range tools {
		name := tf.name
		if name == "" {
			return ps.fail(tf.key, "name the tool", "tools.constraints has an empty tool name")
		}
		if strings.ContainsAny(name, "*?[") {
			return ps.fail(tf.key, "constraints take exact tool names; list each tool separately (globs belong in tools.deny and tools.allow)", "%s is a glob, which would never match a tool", tf.path)
		}
		fields, err := ps.mapping(tf.val, tf.path, constraintKeys)
		if err != nil {
			return err
		}
		var c Constraint
		var res []*regexp.Regexp
		for _, cf := range fields {
			switch cf.name {
			case "max_calls":
				if c.MaxCalls, err = ps.limit(cf); err != nil {
					return err
				}
			case "deny_patterns":
				pats, nodes, err := ps.strings(cf)
				if err != nil {
					return err
				}
				for i, pat := range pats {
					path := fmt.Sprintf("%s[%d]", cf.path, i)
					if pat == "" {
						return ps.fail(nodes[i], "remove it; to block the tool outright, add it to tools.deny", "%s is empty, which would match every call", path)
					}
					re, err := regexp.Compile("(?i)" + pat)
					if err != nil {
						return ps.fail(nodes[i], "patterns are Go RE2 regexps: no lookahead, lookbehind or backreferences", "%s %q is not a valid regexp: %s", path, pat, reError(err))
					}
					res = append(res, re)
				}
				c.DenyPatterns = pats
			}
		}
		ps.p.Tools.Constraints[name] = c
		ps.p.patterns[name] = res
	}
	return nil
}

// reError drops the "error parsing regexp: " prefix every error carries.
func reError(err error) string {
	return strings.TrimPrefix(err.Error(), "error parsing regexp: ")
}

func (ps *parser) budget(f field) error {
	fields, err := ps.mapping(f.val, "budget", budgetKeys)
	if err != nil {
		return err
	}
	for _, f := range fields {
		v, err := ps.limit(f)
		if err != nil {
			return err
		}
		if f.name == "max_tool_calls" {
			ps.p.Budget.MaxToolCalls = v
		} else {
			ps.p.Budget.MaxWallTimeSec = v
		}
	}
	return nil
}

// field is one key of a mapping with its value; path is its dotted key path.
type field struct {
	name, path string
	key, val   *yaml.Node
}

// mapping returns the keys of n in order. It refuses non-mappings,
// non-string and duplicate keys, and (when known is not nil) keys not in
// known. Keys with a null value are dropped: empty means absent.
func (ps *parser) mapping(n *yaml.Node, where string, known []string) ([]field, error) {
	if n.Kind != yaml.MappingNode {
		return nil, ps.fail(n, "see 'assay mcp policy init' for the layout", "%s must be a mapping, got %s", where, kindName(n))
	}
	var out []field
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" {
			return nil, ps.fail(k, "use plain key: value lines", "%s has a key that is not a plain name (%s)", orRoot(where), kindName(k))
		}
		path := joinPath(where, k.Value)
		if seen[k.Value] {
			return nil, ps.fail(k, "keep one of them", "%s appears twice", path)
		}
		seen[k.Value] = true
		if known != nil && !contains(known, k.Value) {
			fix := fmt.Sprintf("the keys %s are %s; a misspelt key would silently switch a rule off", underWhat(where), strings.Join(known, ", "))
			if s := suggest(k.Value, known); s != "" {
				fix = fmt.Sprintf("did you mean %q? ", s) + fix
			}
			return nil, ps.fail(k, fix, "unknown key %s", path)
		}
		if isNull(v) {
			continue
		}
		out = append(out, field{name: k.Value, path: path, key: k, val: v})
	}
	return out, nil
}

func (ps *parser) str(f field) (string, error) {
	if f.val.Kind != yaml.ScalarNode || f.val.ShortTag() != "!!str" {
		return "", ps.fail(f.val, "quote it", "%s must be a string, got %s", f.path, describe(f.val))
	}
	return f.val.Value, nil
}

func (ps *parser) boolean(f field) (*bool, error) {
	var b bool
	if f.val.Kind != yaml.ScalarNode || f.val.ShortTag() != "!!bool" || f.val.Decode(&b) != nil {
		return nil, ps.fail(f.val, "write true or false without quotes", "%s must be true or false, got %s", f.path, describe(f.val))
	}
	return &b, nil
}

// limit reads a whole number from 1 to maxLimit.
func (ps *parser) limit(f field) (int, error) {
	var v int64
	if f.val.Kind != yaml.ScalarNode || f.val.ShortTag() != "!!int" || f.val.Decode(&v) != nil || v < 1 || v > maxLimit {
		return 0, ps.fail(f.val, "write a whole number from 1 to 1000000000, or remove the key for no limit", "%s must be a whole number of at least 1, got %s", f.path, describe(f.val))
	}
	return int(v), nil
}

// strings reads a list of strings, with each item's node for errors.
func (ps *parser) strings(f field) ([]string, []*yaml.Node, error) {
	if f.val.Kind != yaml.SequenceNode {
		return nil, nil, ps.fail(f.val, fmt.Sprintf("write a list, e.g. %s: [\"...\"]", f.name), "%s must be a list of strings, got %s", f.path, describe(f.val))
	}
	out := make([]string, 0, len(f.val.Content))
	for i, it := range f.val.Content {
		if it.Kind != yaml.ScalarNode || it.ShortTag() != "!!str" {
			return nil, nil, ps.fail(it, "quote it", "%s[%d] must be a string, got %s", f.path, i, describe(it))
		}
		out = append(out, it.Value)
	}
	return out, f.val.Content, nil
}

// findAlias returns the first alias node in the tree, if any. Walking the
// tree without following aliases keeps hostile files linear.
func findAlias(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode {
		return n
	}
	for _, c := range n.Content {
		if a := findAlias(c); a != nil {
			return a
		}
	}
	return nil
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		return "a scalar"
	}
	return "nothing"
}

// describe names a value for an error: its kind and, for scalars, a
// quoted (and shortened) text.
func describe(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode {
		return kindName(n)
	}
	v := n.Value
	if len(v) > 40 {
		v = v[:40] + "..."
	}
	what := map[string]string{"!!str": "the string", "!!int": "the number", "!!float": "the number", "!!bool": "the boolean", "!!null": "null"}[n.ShortTag()]
	if what == "" {
		what = "the " + n.ShortTag() + " value"
	}
	if what == "null" {
		return what
	}
	return what + " " + strconv.Quote(v)
}

// joinPath appends key to a dotted path; keys that are not plain names
// (tool names may hold dots or slashes) are bracketed and quoted.
func joinPath(where, key string) string {
	if plainKey().MatchString(key) {
		if where == "" {
			return key
		}
		return where + "." + key
	}
	return where + "[" + strconv.Quote(key) + "]"
}

var plainKey = lazyre.New(`^[A-Za-z0-9_-]+$`)

func orRoot(where string) string {
	if where == "" {
		return "the policy"
	}
	return where
}

func underWhat(where string) string {
	if where == "" {
		return "at the top level"
	}
	return "under " + where
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// suggest returns the known key closest to k (case-insensitive equal, or
// within two edits), or "".
func suggest(k string, known []string) string {
	best, bestD := "", 3
	for _, c := range known {
		if strings.EqualFold(c, k) {
			return c
		}
		if d := editDistance(strings.ToLower(k), c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
