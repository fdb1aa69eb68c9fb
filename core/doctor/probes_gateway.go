package doctor

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/assay-dev/assay/core/capture/gateway"
	"github.com/assay-dev/assay/core/pack"
)

// Probes of the recording gateway's environment wiring (DOCTOR_GATEWAY).

// ---- DOCTOR_GATEWAY_001

// GatewayEnv lists the base-URL variables the official SDKs read; the
// recording gateway works by pointing them at itself (gateway.Env).
var GatewayEnv = func() []string {
	var out []string
	for _, r := range gateway.Routes {
		out = append(out, gateway.BaseURLEnv[r])
	}
	return out
}()

// EnvGateway names the variable that says the assay gateway is expected
// (its address, host:port or URL). When set, every base URL must point at it.
const EnvGateway = "ASSAY_GATEWAY"

func probeGatewayEnv(e *env) Probe {
	expect := strings.TrimSpace(e.o.Getenv(EnvGateway))
	var expectHost string
	if expect != "" {
		expectHost = hostPort(expect)
	}
	var problems, fixes, fine []string
	seen := false
	for _, name := range GatewayEnv {
		v := strings.TrimSpace(e.o.Getenv(name))
		if v == "" {
			continue
		}
		seen = true
		u, err := url.Parse(v)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			problems = append(problems, fmt.Sprintf("%s=%q is not an http(s) URL", name, v))
			fixes = append(fixes, "unset "+name)
			continue
		}
		hp := hostPort(v)
		loop := isLoopback(u.Hostname())
		switch {
		case expectHost != "" && hp != expectHost:
			problems = append(problems, fmt.Sprintf("%s points to %s, not the assay gateway at %s: those calls bypass the recorder", name, u.Host, expectHost))
			fixes = append(fixes, "export "+name+"="+gatewayURL(name, expect))
		case loop:
			if err := e.o.Dial(hp); err != nil {
				problems = append(problems, fmt.Sprintf("%s points to %s but nothing is listening there", name, hp))
				problems[len(problems)-1] += " (start the gateway there, or unset " + name + ")"
				fixes = append(fixes, "assay gateway --addr "+hp)
				continue
			}
			fine = append(fine, name+" → "+hp+" (listening)")
		default:
			fine = append(fine, name+" → "+u.Host+" (direct; recorded only if the program is instrumented)")
		}
	}
	if len(problems) > 0 {
		return Probe{Status: Fail, Severity: High, Message: strings.Join(problems, "; "), Fix: strings.Join(fixes, " && ")}
	}
	if !seen {
		if expect != "" {
			return Probe{Status: Fail, Severity: High, Message: EnvGateway + " is set but no SDK base-URL variable points at it; SDK calls go to the vendors unrecorded",
				Fix: "export" + exportAll(expect)}
		}
		return Probe{Status: Skip, Severity: Info, Message: "no SDK base-URL variables set (" + strings.Join(GatewayEnv, ", ") + ")"}
	}
	return Probe{Status: Pass, Severity: Info, Message: strings.Join(fine, "; ")}
}

func hostPort(v string) string {
	if !strings.Contains(v, "://") {
		v = "http://" + v
	}
	u, err := url.Parse(v)
	if err != nil {
		return v
	}
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "https" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

// gatewayURL is what the gateway itself exports for the variable name:
// http://<addr>/<route>.
func gatewayURL(name, expect string) string {
	base := "http://" + hostPort(expect)
	for _, r := range gateway.Routes {
		if gateway.BaseURLEnv[r] == name {
			return base + "/" + r
		}
	}
	return base
}

// exportAll lists NAME=URL for every SDK variable, pointing at the gateway.
func exportAll(expect string) string {
	var b strings.Builder
	for _, name := range GatewayEnv {
		b.WriteString(" " + name + "=" + gatewayURL(name, expect))
	}
	return b.String()
}

// runIDOf reads the run id (the trace) from a pack's manifest, for the
// proof-pack rebuild command; TRACE_ID when it cannot.
func runIDOf(dir string) string {
	if p, err := pack.OpenDir(dir); err == nil {
		defer p.Close()
		if id := p.Attestation().RunID; id != "" {
			return shq(id)
		}
	}
	return "TRACE_ID"
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
