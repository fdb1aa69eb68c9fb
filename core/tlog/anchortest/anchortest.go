// Package anchortest anchors a pack in a real local transparency log for the
// tests of the packages that read anchors (bundle, the MCP tools). It lives
// apart from tlogtest, which core/tlog's own tests import.
package anchortest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/tlog"
)

// Anchor appends the pack in packDir to the log in logDir (created with
// origin if new), writes the pack's _unsigned/anchor.json and returns the
// log's vkey.
func Anchor(t testing.TB, packDir, logDir, origin string) string {
	t.Helper()
	ctx := context.Background()
	leaf, err := tlog.PackLeaf(packDir)
	if err != nil {
		t.Fatal(err)
	}
	a, err := tlog.OpenAppender(ctx, logDir, tlog.AppendOptions{Origin: origin})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := a.Append(ctx, [][]byte{leaf.Bytes()})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tlog.WriteAnchor(packDir, tlog.NewAnchor(ps[0], time.Now())); err != nil {
		t.Fatal(err)
	}
	vkey, err := os.ReadFile(filepath.Join(logDir, tlog.FileLogVKey))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(vkey))
}
