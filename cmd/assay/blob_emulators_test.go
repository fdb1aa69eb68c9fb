package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/assay-dev/assay/core/blob/blobtest"
)

// emulator is a local stand-in for a cloud store, started per test.
type emulator struct {
	name  string
	start func(t *testing.T, stall func(name string) bool) (url func(string) string, env []string, stalled chan string)
}

var emulators = []emulator{
	{"gs", func(t *testing.T, stall func(string) bool) (func(string) string, []string, chan string) {
		g := blobtest.StartGCS(t, "packs", blobtest.GCSOptions{Stall: stall})
		return g.URL, g.Env(), g.Stalled
	}},
	{"azblob", func(t *testing.T, stall func(string) bool) (func(string) string, []string, chan string) {
		a := blobtest.StartAzurite(t, "packs", blobtest.AzureOptions{Stall: stall})
		return a.URL, a.Env(), a.Stalled
	}},
}

// TestStorageCLIEmulators: the storage round trip against a Cloud Storage
// emulator (fake-gcs-server, reached by assay's JSON-API driver through
// STORAGE_EMULATOR_HOST) and an Azure one (Azurite, through Azure's client
// with the development account): proof-pack -o URL, verify-pack URL, audit
// bundle URL -o URL...tar.gz, verify-pack of the bundle, packs list; then
// proof-pack killed while the emulator holds an upload (a receipt file;
// the manifest) leaves nothing verify-pack or packs list takes for a pack.
func TestStorageCLIEmulators(t *testing.T) {
	t.Parallel()
	for _, em := range emulators {
		t.Run(em.name, func(t *testing.T) {
			t.Parallel()
			storageEmulatorCLI(t, em)
		})
	}
}

func storageEmulatorCLI(t *testing.T, em emulator) {
	scheme := em.name + "://"
	var stallOn atomic.Value // the object an upload is held on; read by the server
	stallOn.Store("")
	u, env, stalled := em.start(t, func(name string) bool {
		on := stallOn.Load().(string)
		return on != "" && name == on
	})
	t.Run("round trip", func(t *testing.T) {
		cli := newStoreCLI(t, env)
		code, out, errs := cli.run("proof-pack", cli.trace(3), "-o", u("runs/r1/"))
		if code != 0 || !strings.Contains(out, "Next: assay verify-pack '"+u("runs/r1/")+"'") {
			t.Fatalf("proof-pack -o URL: exit %d\n%s\n%s", code, out, errs)
		}
		code, out, errs = cli.run("verify-pack", "--json", u("runs/r1/"))
		if code != 0 || !strings.Contains(out, `"verdict": "PASS"`) {
			t.Fatalf("verify-pack URL: exit %d\n%s\n%s", code, out, errs)
		}
		if code, out, errs = cli.run("audit", "bundle", u("runs/r1/"), "-o", u("bundles/r1.tar.gz"), "--json"); code != 0 {
			t.Fatalf("audit bundle gs:// -o URL: exit %d\n%s\n%s", code, out, errs)
		}
		if code, out, errs = cli.run("verify-pack", u("bundles/r1.tar.gz")); code != 0 {
			t.Fatalf("verify-pack of the bundle: exit %d\n%s\n%s", code, out, errs)
		}
		code, out, errs = cli.run("packs", "list", "--json", u("runs/"))
		var list struct {
			Packs []struct {
				Path      string `json:"path"`
				NReceipts int    `json:"n_receipts"`
			} `json:"packs"`
		}
		if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || len(list.Packs) != 1 || list.Packs[0].NReceipts != 3 || list.Packs[0].Path != u("runs/r1/") {
			t.Fatalf("packs list URL: exit %d %v\n%s\n%s", code, err, out, errs)
		}
		code, out, errs = cli.run("proof-pack", cli.trace(1), "-o", u("runs/r1/"))
		if code != 3 || out != "" || !strings.Contains(errs, "a pack already exists at") {
			t.Fatalf("publish over a pack: exit %d\n%s\n%s", code, out, errs)
		}
	})
	for i, on := range []string{"receipt_pack.jsonl", "pack_manifest.json"} {
		t.Run("killed on "+on, func(t *testing.T) {
			dir := fmt.Sprintf("killed%d/", i) // each its own prefix: a killed upload leaves objects
			stallOn.Store(dir + "pack/" + on)  // the subtests run one after the other
			cli := newStoreCLI(t, env)
			cmd, _, errb := cli.cmd("proof-pack", cli.trace(20), "-o", u(dir+"pack/"))
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			select {
			case <-stalled: // the upload is under way, held by the emulator
			case err := <-exited:
				t.Fatalf("proof-pack ended before its upload was held: %v\n%s", err, errb)
			}
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			<-exited
			code, out, errs := cli.run("verify-pack", u(dir+"pack/"))
			if code != 3 || !strings.Contains(errs, "no pack_manifest.json at "+scheme+"packs/"+dir+"pack/: not a pack") {
				t.Fatalf("verify-pack after a killed upload: exit %d\n%s\n%s", code, out, errs)
			}
			code, out, errs = cli.run("packs", "list", "--json", u(dir))
			if code != 0 || !strings.Contains(out, `"packs": []`) {
				t.Fatalf("packs list after a killed upload: exit %d\n%s\n%s", code, out, errs)
			}
		})
	}
}
