// Package doctor runs the preflight probes of `assay doctor`: the
// reference's offline checks (runtime.md §4; no network probe) plus probes
// for the gateway's environment wiring and MCP client configs. Each probe is
// one entry in a table plus one function (probes_*.go, one file per group);
// each result names its id, status, what is wrong and the exact command that
// fixes it. Run computes a Report and never prints.
//
// In this code base "check" means a claim's check (core/claims); doctor's
// are probes. The user-facing words stay the reference's: the --json report
// lists them under "checks" and --check selects them by id.
package doctor

import (
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/version"
)

// Statuses.
const (
	Pass = "pass"
	Warn = "warn"
	Fail = "fail"
	Skip = "skip"
)

// Severities.
const (
	Info     = "info"
	Low      = "low"
	Medium   = "medium"
	High     = "high"
	Critical = "critical"
)

// Profiles.
const (
	ProfileLocal   = "local"
	ProfileCI      = "ci"
	ProfileRelease = "release"
)

// Profiles lists the known profiles.
var Profiles = []string{ProfileLocal, ProfileCI, ProfileRelease}

// Probe is one probe's result (an entry of the report's "checks").
type Probe struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
	Evidence string `json:"evidence,omitempty"`
	// Fix is the exact command (or edit) that fixes a warn or fail.
	Fix string `json:"fix,omitempty"`
	// Fixable says `assay doctor --fix` applies Fix itself.
	Fixable bool `json:"fixable,omitempty"`
}

// FixResult records one repair --fix attempted.
type FixResult struct {
	ID      string `json:"id"`
	Applied bool   `json:"applied"`
	Detail  string `json:"detail"`
}

// Report is the outcome of Run (the --json document).
type Report struct {
	Tool        string         `json:"tool"`
	Version     string         `json:"version"`
	Profile     string         `json:"profile"`
	Status      string         `json:"status"` // pass, warn or fail
	Summary     map[string]int `json:"summary"`
	Probes      []Probe        `json:"checks"`
	Fixed       []FixResult    `json:"fixed,omitempty"`
	NextCommand string         `json:"next_command"`
	// ExitCode: 0, or 1 when a probe failed (or warned, with Strict).
	ExitCode int `json:"exit_code"`
}

// Options select what runs and where.
type Options struct {
	Profile string // default local
	Dir     string // project directory (default: the working directory)
	Home    string // assay home (required)
	Pack    string // --pack; default the newest pack under Dir (core/packs)
	Lock    string // --lock; default Dir/assay.lock
	Strict  bool   // warnings fail too
	Fix     bool   // apply safe fixes, then check again
	// Only runs just these probe ids (whatever the profile).
	Only []string
	// Getenv reads the environment (default os.Getenv).
	Getenv func(string) string
	// Dial probes a loopback address (default a 300 ms TCP dial).
	Dial func(addr string) error
	// Version is the running assay's version (default version.Version).
	Version string
	// WriteLock writes a default lock file at path for the LOCK_001 fix
	// (default WritePinnedLock with Home).
	WriteLock func(path string) error
	// LookPath resolves a command name (default exec.LookPath).
	LookPath func(string) (string, error)
}

// def is one table entry: the probe, the profiles it runs in, and its
// safe fix (nil when a person must act).
type def struct {
	id       string
	profiles []string
	run      func(*env) Probe
	fix      func(*env) (string, error)
}

var all = []string{ProfileLocal, ProfileCI, ProfileRelease}

// table lists every probe in the order they run.
var table = []def{
	{id: "DOCTOR_CORE_001", profiles: all, run: probeCore},
	{id: "DOCTOR_FS_001", profiles: all, run: probeFS, fix: fixFS},
	{id: "DOCTOR_KEY_001", profiles: all, run: probeKey, fix: fixKey},
	{id: "DOCTOR_CARD_001", profiles: all, run: probeCards},
	{id: "DOCTOR_SCAN_001", profiles: []string{ProfileLocal, ProfileCI}, run: probeInstrumentation},
	{id: "DOCTOR_PACK_001", profiles: []string{ProfileLocal, ProfileCI}, run: probePackFiles},
	{id: "DOCTOR_PACK_002", profiles: []string{ProfileLocal, ProfileCI}, run: probePackVerify},
	{id: "DOCTOR_LOCK_001", profiles: []string{ProfileCI, ProfileRelease}, run: probeLockLoads, fix: fixLock},
	{id: "DOCTOR_LOCK_002", profiles: []string{ProfileCI, ProfileRelease}, run: probeLockHashes},
	{id: "DOCTOR_LOCK_003", profiles: []string{ProfileCI, ProfileRelease}, run: probeLockSigners},
	{id: "DOCTOR_CI_001", profiles: []string{ProfileCI}, run: probeCIWorkflow},
	{id: "DOCTOR_CI_002", profiles: []string{ProfileCI}, run: probeExitContract},
	{id: "DOCTOR_CI_003", profiles: []string{ProfileCI}, run: probeContinueOnError},
	{id: "DOCTOR_GATEWAY_001", profiles: []string{ProfileLocal, ProfileCI}, run: probeGatewayEnv},
	{id: "DOCTOR_MCP_001", profiles: []string{ProfileLocal}, run: probeMCPConfig},
	{id: "DOCTOR_MCP_002", profiles: []string{ProfileLocal, ProfileCI}, run: probeMCPPolicy},
}

// IDs returns every probe id in run order.
func IDs() []string {
	ids := make([]string, len(table))
	for i, d := range table {
		ids[i] = d.id
	}
	return ids
}

// Run runs the profile's probes (or Only), applies safe fixes when asked
// and probes again, and returns the report. The error is bad input only
// (unknown profile or check id: exit 3).
func Run(o Options) (*Report, error) {
	if o.Profile == "" {
		o.Profile = ProfileLocal
	}
	if !contains(Profiles, o.Profile) {
		return nil, exit.Bad("use one of: "+strings.Join(Profiles, ", "), "unknown profile %q", o.Profile)
	}
	for _, id := range o.Only {
		if !contains(IDs(), id) {
			return nil, exit.Bad("check ids: "+strings.Join(IDs(), ", "), "unknown check %q", id)
		}
	}
	if o.Home == "" {
		return nil, exit.Bad("set ASSAY_HOME", "no assay home directory given")
	}
	if o.Pack != "" {
		if st, err := os.Stat(o.Pack); err != nil || !st.IsDir() {
			return nil, exit.Bad("pass a pack directory", "--pack %s is not a directory", o.Pack)
		}
	}
	e, err := newEnv(o)
	if err != nil {
		return nil, err
	}
	var defs []def
	for _, d := range table {
		// A lock or pack named on the command line is checked whatever the
		// profile: silently ignoring what the user asked about reads as a pass.
		asked := o.Lock != "" && strings.HasPrefix(d.id, "DOCTOR_LOCK_") || o.Pack != "" && strings.HasPrefix(d.id, "DOCTOR_PACK_")
		if len(o.Only) > 0 && contains(o.Only, d.id) || len(o.Only) == 0 && (contains(d.profiles, o.Profile) || asked) {
			defs = append(defs, d)
		}
	}
	probes := runAll(e, defs)
	var fixed []FixResult
	if o.Fix {
		for i, d := range defs {
			if d.fix == nil || (probes[i].Status != Warn && probes[i].Status != Fail) || !probes[i].Fixable {
				continue
			}
			detail, err := d.fix(e)
			if err != nil {
				fixed = append(fixed, FixResult{ID: d.id, Detail: err.Error()})
				continue
			}
			fixed = append(fixed, FixResult{ID: d.id, Applied: true, Detail: detail})
		}
		if len(fixed) > 0 {
			e.reset()
			probes = runAll(e, defs)
		}
	}
	return report(o, probes, fixed), nil
}

func runAll(e *env, defs []def) []Probe {
	out := make([]Probe, len(defs))
	for i, d := range defs {
		c := safeRun(d, e)
		c.ID = d.id
		c.Fixable = c.Fixable && d.fix != nil && (c.Status == Warn || c.Status == Fail)
		out[i] = c
	}
	return out
}

// safeRun turns a panicking probe into a high-severity failure instead of
// a stack trace.
func safeRun(d def, e *env) (c Probe) {
	defer func() {
		if r := recover(); r != nil {
			c = Probe{Status: Fail, Severity: High, Message: fmt.Sprintf("check crashed: %v", r)}
		}
	}()
	return d.run(e)
}

func report(o Options, probes []Probe, fixed []FixResult) *Report {
	r := &Report{Tool: "assay-doctor", Version: o.Version, Profile: o.Profile, Probes: probes, Fixed: fixed,
		Summary: map[string]int{Pass: 0, Warn: 0, Fail: 0, Skip: 0}}
	if r.Version == "" {
		r.Version = version.Version
	}
	var firstFail, firstWarn string
	for _, c := range probes {
		r.Summary[c.Status]++
		if c.Status == Fail && firstFail == "" {
			firstFail = c.Fix
		}
		if c.Status == Warn && firstWarn == "" {
			firstWarn = c.Fix
		}
	}
	switch {
	case r.Summary[Fail] > 0:
		r.Status, r.ExitCode = Fail, exit.HonestFail
	case r.Summary[Warn] > 0:
		r.Status = Warn
		if o.Strict {
			r.ExitCode = exit.HonestFail
		}
	default:
		r.Status = Pass
	}
	switch {
	case firstFail != "":
		r.NextCommand = firstFail
	case firstWarn != "":
		r.NextCommand = firstWarn
	case o.Profile == ProfileLocal:
		r.NextCommand = "assay run -- python3 your_script.py"
	case o.Profile == ProfileCI:
		r.NextCommand = "assay verify-pack proof_pack_ci --lock assay.lock --require-claim-pass"
	}
	return r
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func defaultDial(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
	if err != nil {
		return err
	}
	return c.Close()
}
