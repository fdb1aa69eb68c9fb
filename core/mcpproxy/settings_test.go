package mcpproxy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/store"
)

func ptr[T any](v T) *T { return &v }

// TestResolveSettings is the merge: an explicit flag wins, then the policy
// file, then the default; the environment only joins a trace.
func TestResolveSettings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	policy := filepath.Join(dir, "assay.mcp-policy.yaml")
	if err := os.WriteFile(policy, []byte("mode: enforce\nserver_id: files\nstore_args: true\nstore_results: true\nauto_pack: false\naudit_dir: pol/audit\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	audit := filepath.Join(dir, "audit")
	base := func() SettingsRequest {
		return SettingsRequest{Argv: []string{"python3", "-u", "srv.py"}, Grace: DefaultGrace, MaxMessage: DefaultMaxMessage, MaxServerMessage: DefaultMaxServerMessage}
	}
	cases := []struct {
		name string
		edit func(*SettingsRequest)
		want Settings
	}{
		{"defaults", func(*SettingsRequest) {},
			Settings{AuditDir: DefaultAuditDir, ServerID: "srv.py", AutoPack: true, Mode: "shadow"}},
		{"policy fills what no flag gave", func(r *SettingsRequest) { r.PolicyPath = &policy },
			Settings{AuditDir: "pol/audit", ServerID: "files", StoreArgs: true, StoreResults: true, AutoPack: false, Mode: "enforced"}},
		{"explicit flags beat the policy", func(r *SettingsRequest) {
			r.PolicyPath = &policy
			r.AuditDir, r.ServerID = &audit, "mine"
			r.StoreArgs, r.StoreResults, r.NoAutoPack = ptr(false), ptr(false), ptr(false)
		}, Settings{AuditDir: audit, ServerID: "mine", AutoPack: true, Mode: "enforced"}},
		{"flags without a policy", func(r *SettingsRequest) {
			r.StoreArgs, r.NoAutoPack = ptr(true), ptr(true)
		}, Settings{AuditDir: DefaultAuditDir, ServerID: "srv.py", StoreArgs: true, Mode: "shadow"}},
		{"an HTTP upstream is named by its host, never its credentials", func(r *SettingsRequest) {
			r.Argv, r.UpstreamURL = nil, "https://user:secret@mcp.example:8443/mcp?x=1"
		}, Settings{AuditDir: DefaultAuditDir, ServerID: "mcp.example:8443", AutoPack: true, Mode: "shadow"}},
		{"a trace in the environment is joined", func(r *SettingsRequest) {
			r.Getenv = func(k string) string {
				if k == store.EnvTrace {
					return "trace_20250101T000000_abcdef12"
				}
				return ""
			}
		}, Settings{AuditDir: DefaultAuditDir, ServerID: "srv.py", AutoPack: true, Mode: "shadow", JoinTrace: "trace_20250101T000000_abcdef12"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := base()
			tc.edit(&r)
			got, err := ResolveSettings(r)
			if err != nil {
				t.Fatal(err)
			}
			w := tc.want
			if got.AuditDir != w.AuditDir || got.ServerID != w.ServerID || got.StoreArgs != w.StoreArgs ||
				got.StoreResults != w.StoreResults || got.AutoPack != w.AutoPack || got.Mode != w.Mode || got.JoinTrace != w.JoinTrace {
				t.Fatalf("got %+v\nwant %+v", got, w)
			}
			if got.NeedsSigner() != (w.AutoPack && w.JoinTrace == "") {
				t.Fatalf("NeedsSigner = %v", got.NeedsSigner())
			}
		})
	}
}

// TestResolveSettingsRefuses: each bad input is exit 3 naming the flag, and
// a malformed header's text (it may be a credential) is never echoed.
func TestResolveSettingsRefuses(t *testing.T) {
	t.Parallel()
	empty := ""
	cases := []struct {
		name string
		edit func(*SettingsRequest)
		want string
	}{
		{"no server", func(r *SettingsRequest) { r.Argv = nil }, "no MCP server to proxy"},
		{"both servers", func(r *SettingsRequest) { r.UpstreamURL = "http://127.0.0.1:1/mcp" }, "both --upstream-url"},
		{"negative timeout", func(r *SettingsRequest) { r.CallTimeout = -time.Second }, "--call-timeout"},
		{"no grace", func(r *SettingsRequest) { r.Grace = 0 }, "--shutdown-grace"},
		{"tiny client frames", func(r *SettingsRequest) { r.MaxMessage = 10 }, "--max-message-bytes"},
		{"tiny server frames", func(r *SettingsRequest) { r.MaxServerMessage = 10 }, "--max-server-message-bytes"},
		{"empty policy path", func(r *SettingsRequest) { r.PolicyPath = &empty }, "--policy is empty"},
		{"missing policy", func(r *SettingsRequest) { p := "/nonexistent/p.yaml"; r.PolicyPath = &p }, "does not exist"},
		{"header without a URL", func(r *SettingsRequest) { r.Headers = []string{"Authorization: Bearer x"} }, "without --upstream-url"},
		{"malformed header", func(r *SettingsRequest) {
			r.Argv, r.UpstreamURL, r.Headers = nil, "http://127.0.0.1:1/mcp", []string{"Bearer sk-secret-value"}
		}, "number 1 is not a header"},
		{"empty audit dir", func(r *SettingsRequest) { r.AuditDir = &empty }, "--audit-dir is empty"},
		{"bad trace in the environment", func(r *SettingsRequest) {
			r.Getenv = func(string) string { return "../../etc" }
		}, store.EnvTrace},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := SettingsRequest{Argv: []string{"srv"}, Grace: DefaultGrace, MaxMessage: DefaultMaxMessage, MaxServerMessage: DefaultMaxServerMessage}
			tc.edit(&r)
			_, err := ResolveSettings(r)
			if err == nil || exit.Code(err) != exit.BadInput || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v (code %d), want exit 3 naming %q", err, exit.Code(err), tc.want)
			}
			if strings.Contains(err.Error(), "sk-secret") {
				t.Fatalf("the header's text leaked into the error: %v", err)
			}
		})
	}
}
