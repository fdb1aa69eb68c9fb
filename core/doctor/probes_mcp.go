package doctor

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/assay-dev/assay/core/ciinit"
	"github.com/assay-dev/assay/core/mcppolicy"
)

// Probes of MCP client configs and the MCP policy (DOCTOR_MCP).

// ---- DOCTOR_MCP_001

func probeMCPConfig(e *env) Probe {
	var problems, fixes, fine, found []string
	for _, c := range ciinit.Clients {
		path := filepath.Join(e.dir, c.ConfigPath())
		if _, err := os.Stat(path); err != nil {
			continue
		}
		found = append(found, c.ConfigPath())
		rewrite := "assay start mcp --write --client " + string(c) + " --root . --force"
		s, err := ciinit.ReadMCPConfig(path, c)
		if err != nil {
			problems = append(problems, c.ConfigPath()+": "+err.Error())
			fixes = append(fixes, "mv "+c.ConfigPath()+" "+c.ConfigPath()+".bak && "+rewrite)
			continue
		}
		if s == nil {
			continue // another tool's config; nothing of ours to check
		}
		if !e.commandResolves(s.Command, filepath.Dir(path)) {
			problems = append(problems, fmt.Sprintf("%s: server command %q is not installed", c.ConfigPath(), s.Command))
			fixes = append(fixes, "go install github.com/assay-dev/assay/cmd/assay-mcp@latest")
			continue
		}
		roots := s.Roots()
		if len(roots) == 0 {
			problems = append(problems, c.ConfigPath()+": the assay server has no --root, so it serves whatever directory the client starts it in")
			fixes = append(fixes, rewrite)
			continue
		}
		bad := false
		for _, r := range roots {
			rp := r
			if !filepath.IsAbs(rp) {
				rp = filepath.Join(e.dir, rp)
			}
			if st, err := os.Stat(rp); err != nil || !st.IsDir() {
				problems = append(problems, fmt.Sprintf("%s: root %s does not exist", c.ConfigPath(), r))
				fixes = append(fixes, rewrite)
				bad = true
				break
			}
		}
		if bad {
			continue
		}
		note := fmt.Sprintf("%s: %s confined to %s", c.ConfigPath(), s.Command, strings.Join(roots, ", "))
		if s.AllowExec() {
			note += " (agents may run commands: --allow-exec)"
		}
		fine = append(fine, note)
	}
	switch {
	case len(problems) > 0:
		return Probe{Status: Fail, Severity: High, Message: strings.Join(problems, "; "), Fix: strings.Join(fixes, " && ")}
	case len(fine) > 0:
		return Probe{Status: Pass, Severity: Info, Message: strings.Join(fine, "; ")}
	case len(found) > 0:
		return Probe{Status: Warn, Severity: Low, Message: strings.Join(found, ", ") + " lists no assay server",
			Fix: "assay start mcp --write --client claude --root ."}
	}
	return Probe{Status: Skip, Severity: Info, Message: "no MCP client config here (.mcp.json, .cursor/mcp.json, .vscode/mcp.json)"}
}

// ---- DOCTOR_MCP_002

// probeMCPPolicy loads the project's MCP proxy policy, when there is one:
// the proxy refuses to start on a policy it cannot load, so an agent's MCP
// server would not start at all.
func probeMCPPolicy(e *env) Probe {
	path := filepath.Join(e.dir, mcppolicy.DefaultFile)
	if _, err := os.Stat(path); err != nil {
		return Probe{Status: Skip, Severity: Info, Message: "no " + mcppolicy.DefaultFile + " here (the MCP proxy runs without a policy)"}
	}
	p, err := mcppolicy.Load(path)
	if err != nil {
		return Probe{Status: Fail, Severity: High, Message: err.Error() + " (assay mcp-proxy --policy refuses to start with it)",
			Fix: "assay mcp policy validate " + mcppolicy.DefaultFile}
	}
	sum := p.Summary()
	msg := fmt.Sprintf("%s: mode %s, default %s, %d deny and %d allow rule(s), %d constraint(s)", mcppolicy.DefaultFile, sum.Mode, sum.Default, sum.DenyRules, sum.AllowRules, sum.Constraints)
	if len(sum.Warnings) > 0 {
		return Probe{Status: Warn, Severity: Low, Message: msg + "; " + strings.Join(sum.Warnings, "; "), Fix: "assay mcp policy validate " + mcppolicy.DefaultFile}
	}
	return Probe{Status: Pass, Severity: Info, Message: msg}
}

func (e *env) commandResolves(cmd, base string) bool {
	if strings.ContainsRune(cmd, filepath.Separator) {
		p := cmd
		if !filepath.IsAbs(p) {
			p = filepath.Join(base, p)
		}
		st, err := os.Stat(p)
		return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
	}
	_, err := e.o.LookPath(cmd)
	return err == nil
}
