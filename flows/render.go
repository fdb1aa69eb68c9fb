package flows

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// RenderPlanText writes a dry run: each step's title, why, command and
// status, then how to apply it.
func RenderPlanText(w io.Writer, p *Plan) {
	fmt.Fprintf(w, "%s -- plan (nothing has run)\n", commandName(p.Flow))
	fmt.Fprintf(w, "  in %s\n", p.Dir)
	if len(p.Params) > 0 {
		keys := make([]string, 0, len(p.Params))
		for k := range p.Params {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var kv []string
		for _, k := range keys {
			if p.Params[k] != "" {
				kv = append(kv, k+"="+quoteArg(p.Params[k]))
			}
		}
		if len(kv) > 0 {
			fmt.Fprintf(w, "  params: %s\n", strings.Join(kv, " "))
		}
	}
	fmt.Fprintln(w)
	for _, s := range p.Steps {
		fmt.Fprintf(w, "%d. %s\n", s.Number, s.Title)
		if s.Why != "" {
			fmt.Fprintf(w, "   why: %s\n", s.Why)
		}
		fmt.Fprintf(w, "   $ %s\n", s.Command)
		if len(s.OKCodes) != 1 || s.OKCodes[0] != 0 {
			fmt.Fprintf(w, "   accepted exit codes: %s\n", ints(s.OKCodes))
		}
		switch s.Status {
		case StatusSkipped:
			fmt.Fprintf(w, "   (will be skipped: %s)\n", s.SkipReason)
		case StatusPrintOnly:
			fmt.Fprintln(w, "   (shown only; apply never runs it)")
		default:
			if s.SkipRule != "" {
				fmt.Fprintf(w, "   (skipped if %s)\n", s.SkipRule)
			}
		}
	}
	if p.Blocked != "" {
		fmt.Fprintf(w, "\n%s is a placeholder: %s.\nFirst %s; then: %s --param pack=DIR\n", PackPlaceholder, p.Blocked, p.BlockedFix, applyHint(p))
		return
	}
	fmt.Fprintf(w, "\nTo execute: %s\n", applyHint(p))
}

func applyHint(p *Plan) string {
	s := "assay flow " + p.Flow + " --apply"
	f, err := Get(p.Flow)
	if err != nil {
		return s
	}
	for _, prm := range f.Params {
		if v := p.Params[prm.Name]; v != prm.Default && v != "" && v != PackPlaceholder {
			s += " --param " + quoteArg(prm.Name+"="+v)
		}
	}
	return s
}

// RenderOutcomeText writes an applied flow: the verdict, one line per
// step, and for a failure its exit code, command and output tail.
func RenderOutcomeText(w io.Writer, o *Outcome) {
	verdict := "OK"
	if o.Status == StatusFailed {
		verdict = "FAILED"
	}
	fmt.Fprintf(w, "%s -- %s\n", commandName(o.Flow), verdict)
	for _, s := range o.Steps {
		label := map[string]string{StatusOK: "PASS", StatusSkipped: "SKIP", StatusPrintOnly: "INFO", StatusFailed: "FAIL", StatusNotRun: "----"}[s.Status]
		line := fmt.Sprintf("  %s  %s", label, s.Title)
		switch s.Status {
		case StatusOK:
			line += fmt.Sprintf(" (%s, exit %d)", dur(s.DurationMS), *s.ExitCode)
		case StatusSkipped:
			line += " (" + s.SkipReason + ")"
		case StatusPrintOnly:
			line += ": $ " + s.Command
		}
		fmt.Fprintln(w, line)
		if s.Status == StatusFailed {
			fmt.Fprintf(w, "        exit code %d, accepted %s\n", *s.ExitCode, ints(s.OKCodes))
			fmt.Fprintf(w, "        $ %s\n", s.Command)
			if s.Error != "" {
				fmt.Fprintf(w, "        %s\n", s.Error)
			}
			if t := lastLines(s.StderrTail, 5); t != "" {
				fmt.Fprintf(w, "        stderr:\n%s", indent(t, "          "))
			} else if t := lastLines(s.StdoutTail, 5); t != "" {
				fmt.Fprintf(w, "        stdout:\n%s", indent(t, "          "))
			}
		}
	}
	if o.FailedStep != 0 {
		fmt.Fprintf(w, "Flow stopped at step %d.\n", o.FailedStep)
	}
	if o.Blocked != "" {
		fmt.Fprintf(w, "Nothing ran: %s.\n", o.Blocked)
	}
}

// commandName is how a user starts the flow: "assay flow NAME" for
// registered flows, "assay NAME" for command bodies such as quickstart.
func commandName(flow string) string {
	if _, ok := registry[flow]; ok {
		return "assay flow " + flow
	}
	return "assay " + flow
}

func dur(ms float64) string {
	if ms >= 1000 {
		return fmt.Sprintf("%.1fs", ms/1000)
	}
	return fmt.Sprintf("%.0fms", ms)
}

func ints(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, " or ")
}

func lastLines(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n") + "\n"
}

func indent(s, pre string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" {
			b.WriteString(pre + l)
		}
	}
	return b.String()
}
