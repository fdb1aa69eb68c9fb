package patch

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/store"
)

// The Node module and assay's Go store write one trace at the same time:
// the store lock (flock on <home>/.store_seq, taken by the module through
// flock(1)) keeps every _store_seq unique and each file's lines in order,
// and every line is a whole receipt.
func TestNodeModuleSharesStoreLock(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is required: %v", err)
	}
	dir, home := t.TempDir(), t.TempDir()
	mod := filepath.Join(dir, NodeModuleCJS)
	os.WriteFile(mod, renderNodeModule(nodeModuleCJS, dir, dir), 0o644)
	script := filepath.Join(dir, "emit.cjs")
	os.WriteFile(script, []byte("const m = require('./assay_capture.cjs');\nfor (let i = 0; i < 40; i++) m.emit({ provider: 'openai', model_id: 'm', i });\n"), 0o644)
	trace := store.NewTraceID()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(node, script)
			cmd.Env = append(os.Environ(), store.EnvHome+"="+home, store.EnvTrace+"="+trace)
			if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
				errs <- fmt.Errorf("node: %v %s", err, out)
			}
		}()
	}
	st := store.Open(home)
	for i := 0; i < 40; i++ {
		d := &canon.Object{}
		d.Set("i", int64(i))
		if _, err := st.Emit(trace, "model_call", d, store.EmitOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	rs, problems, err := st.Read(trace)
	if err != nil || len(problems) > 0 || len(rs) != 120 {
		t.Fatalf("read: %v, %d problems %v, %d receipts", err, len(problems), problems, len(rs))
	}
	seen := map[int64]bool{}
	last := int64(-1)
	for _, r := range rs {
		v, _ := r.Get("_store_seq")
		var seq int64
		n, ok := v.(canon.Number)
		if _, err := fmt.Sscan(string(n), &seq); !ok || !n.IsInt() || err != nil {
			t.Fatalf("_store_seq %T %v", v, v)
		}
		if seen[seq] || seq <= last {
			t.Fatalf("_store_seq %d repeated or out of order (after %d)", seq, last)
		}
		seen[seq], last = true, seq
	}
}
