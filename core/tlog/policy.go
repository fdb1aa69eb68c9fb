package tlog

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	fnote "github.com/transparency-dev/formats/note"
	"github.com/transparency-dev/tessera"
	"golang.org/x/mod/sumdb/note"
)

// Policy is a parsed witness policy (C2SP tlog-policy): named witnesses,
// k-of-n groups over them, and the quorum that must cosign a checkpoint.
//
// It is our own parser because formats v0.1.1's ParsePolicy accepts a
// threshold of 0 and a member listed twice (either lets a checkpoint pass
// with fewer cosignatures than the policy reads as), rejects witnesses
// without a URL, and takes a log signing key (0x01) as a witness key.
type Policy struct {
	Witnesses map[string]*PolicyWitness
	Groups    map[string]*PolicyGroup
	// Quorum names a witness or group; "none" needs no cosignature.
	Quorum string
	// Logs are the vkeys of `log` lines (informational).
	Logs []string
	// order of definition, for stable rendering
	order []string
}

// PolicyWitness is one `witness` line.
type PolicyWitness struct {
	Name     string
	VKey     string
	URL      string // submission prefix; empty when the policy is only used to verify
	verifier note.Verifier
}

// PolicyGroup is one `group` line.
type PolicyGroup struct {
	Name    string
	K       int
	Members []string
}

// maxPolicyItems bounds a policy (the spec recommends supporting 32 of each).
const maxPolicyItems = 256

// ParsePolicy parses and validates a policy. Every error names the line.
func ParsePolicy(b []byte) (*Policy, error) {
	p := &Policy{Witnesses: map[string]*PolicyWitness{}, Groups: map[string]*PolicyGroup{}}
	keys := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(p.order) > 3*maxPolicyItems {
			return nil, fmt.Errorf("policy line %d: more than %d items", n, 3*maxPolicyItems)
		}
		defined := func(name string) error {
			if name == "none" || p.Witnesses[name] != nil || p.Groups[name] != nil {
				return fmt.Errorf("policy line %d: name %q is already defined", n, name)
			}
			if !validName(name) {
				return fmt.Errorf("policy line %d: %q is not a valid name", n, name)
			}
			return nil
		}
		switch f[0] {
		case "log":
			if len(f) < 2 || len(f) > 3 {
				return nil, fmt.Errorf("policy line %d: want `log <vkey> [<url>]`", n)
			}
			if _, err := note.NewVerifier(f[1]); err != nil {
				return nil, fmt.Errorf("policy line %d: bad log key: %v", n, err)
			}
			p.Logs = append(p.Logs, f[1])
		case "witness":
			if len(f) < 3 || len(f) > 4 {
				return nil, fmt.Errorf("policy line %d: want `witness <name> <vkey> [<url>]`", n)
			}
			if err := defined(f[1]); err != nil {
				return nil, err
			}
			v, err := witnessVerifier(f[2])
			if err != nil {
				return nil, fmt.Errorf("policy line %d: witness %s: %v", n, f[1], err)
			}
			if other, dup := keys[f[2]]; dup {
				return nil, fmt.Errorf("policy line %d: witness %s has the same key as witness %s", n, f[1], other)
			}
			keys[f[2]] = f[1]
			w := &PolicyWitness{Name: f[1], VKey: f[2], verifier: v}
			if len(f) == 4 {
				u, err := url.Parse(f[3])
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					return nil, fmt.Errorf("policy line %d: witness %s: %q is not an http(s) URL", n, f[1], f[3])
				}
				w.URL = f[3]
			}
			p.Witnesses[f[1]] = w
			p.order = append(p.order, f[1])
		case "group":
			if len(f) < 4 {
				return nil, fmt.Errorf("policy line %d: want `group <name> <k>|any|all <member>...`", n)
			}
			if err := defined(f[1]); err != nil {
				return nil, err
			}
			members := f[3:]
			seen := map[string]bool{}
			for _, m := range members {
				if seen[m] {
					return nil, fmt.Errorf("policy line %d: group %s lists %s twice (one cosignature would count twice)", n, f[1], m)
				}
				seen[m] = true
				if p.Witnesses[m] == nil && p.Groups[m] == nil {
					return nil, fmt.Errorf("policy line %d: group %s: %s is not defined above", n, f[1], m)
				}
			}
			var k int
			switch f[2] {
			case "any":
				k = 1
			case "all":
				k = len(members)
			default:
				v, err := strconv.Atoi(f[2])
				if err != nil {
					return nil, fmt.Errorf("policy line %d: group %s: threshold %q is not a number, any or all", n, f[1], f[2])
				}
				k = v
			}
			if k < 1 || k > len(members) {
				return nil, fmt.Errorf("policy line %d: group %s: threshold %d must be between 1 and its %d members", n, f[1], k, len(members))
			}
			p.Groups[f[1]] = &PolicyGroup{Name: f[1], K: k, Members: members}
			p.order = append(p.order, f[1])
		case "quorum":
			if len(f) != 2 {
				return nil, fmt.Errorf("policy line %d: want `quorum <name>|none`", n)
			}
			if p.Quorum != "" {
				return nil, fmt.Errorf("policy line %d: a second quorum line", n)
			}
			if f[1] != "none" && p.Witnesses[f[1]] == nil && p.Groups[f[1]] == nil {
				return nil, fmt.Errorf("policy line %d: quorum %s is not defined above", n, f[1])
			}
			p.Quorum = f[1]
		default:
			return nil, fmt.Errorf("policy line %d: unknown keyword %q (want log, witness, group or quorum)", n, f[0])
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	if p.Quorum == "" {
		return nil, fmt.Errorf("policy has no quorum line")
	}
	return p, nil
}

func validName(n string) bool {
	switch n {
	case "log", "witness", "group", "quorum", "any", "all", "none":
		return false
	}
	return n != "" && !strings.ContainsAny(n, "+#")
}

// witnessVerifier accepts only cosignature keys (tlog-cosignature: Ed25519
// 0x04 or ML-DSA-44 0x06); a log's own 0x01 key signs a different message.
func witnessVerifier(vkey string) (note.Verifier, error) {
	parts := strings.SplitN(vkey, "+", 3) // base64 may hold "+"
	if len(parts) != 3 {
		return nil, fmt.Errorf("%q is not a vkey (name+id+key)", vkey)
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) == 0 {
		return nil, fmt.Errorf("vkey key part is not base64")
	}
	if raw[0] != 0x04 && raw[0] != 0x06 {
		return nil, fmt.Errorf("key type 0x%02x is not a cosignature key (0x04 or 0x06)", raw[0])
	}
	return fnote.NewVerifierForCosignatureV1(vkey)
}

// Verifiers returns the cosignature verifiers of every witness.
func (p *Policy) Verifiers() []note.Verifier {
	var vs []note.Verifier
	for _, name := range p.order {
		if w := p.Witnesses[name]; w != nil {
			vs = append(vs, w.verifier)
		}
	}
	return vs
}

// Cosigners returns the policy names of the witnesses whose cosignature is
// among sigs (signatures note.Open verified).
func (p *Policy) Cosigners(sigs []note.Signature) []string {
	var out []string
	for _, name := range p.order {
		w := p.Witnesses[name]
		if w == nil {
			continue
		}
		for _, s := range sigs {
			if s.Name == w.verifier.Name() && s.Hash == w.verifier.KeyHash() {
				out = append(out, name)
				break
			}
		}
	}
	return out
}

// Satisfied reports whether the witnesses named in cosigned meet the quorum.
func (p *Policy) Satisfied(cosigned []string) bool {
	if p.Quorum == "none" {
		return true
	}
	have := map[string]bool{}
	for _, c := range cosigned {
		have[c] = true
	}
	var sat func(string) bool
	sat = func(name string) bool {
		if p.Witnesses[name] != nil {
			return have[name]
		}
		g := p.Groups[name]
		n := 0
		for _, m := range g.Members {
			if sat(m) {
				n++
			}
		}
		return n >= g.K
	}
	return sat(p.Quorum)
}

// Describe renders the quorum as text, e.g. "2 of (w1, w2, w3)".
func (p *Policy) Describe() string {
	var d func(string) string
	d = func(name string) string {
		if name == "none" || p.Witnesses[name] != nil {
			return name
		}
		g := p.Groups[name]
		parts := make([]string, len(g.Members))
		for i, m := range g.Members {
			parts[i] = d(m)
		}
		return fmt.Sprintf("%d of (%s)", g.K, strings.Join(parts, ", "))
	}
	return d(p.Quorum)
}

// tesseraGroup turns the quorum into tessera's witness group, so the log
// asks the witnesses to cosign each checkpoint it publishes. It renders the
// validated policy back to text for tessera's parser: what reaches it has
// passed the checks that parser lacks.
func (p *Policy) tesseraGroup() (tessera.WitnessGroup, error) {
	if p.Quorum == "none" {
		return tessera.WitnessGroup{}, fmt.Errorf("the policy's quorum is none: there is no witness to ask")
	}
	var b strings.Builder
	for _, name := range p.order {
		if w := p.Witnesses[name]; w != nil {
			if w.URL == "" {
				return tessera.WitnessGroup{}, fmt.Errorf("witness %s has no URL in the policy; the log cannot ask it to cosign", name)
			}
			fmt.Fprintf(&b, "witness %s %s %s\n", w.Name, w.VKey, w.URL)
			continue
		}
		g := p.Groups[name]
		fmt.Fprintf(&b, "group %s %d %s\n", g.Name, g.K, strings.Join(g.Members, " "))
	}
	fmt.Fprintf(&b, "quorum %s\n", p.Quorum)
	return tessera.NewWitnessGroupFromPolicy([]byte(b.String()))
}
