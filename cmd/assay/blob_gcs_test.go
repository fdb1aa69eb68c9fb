package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/blob/blobtest"
)

// TestStorageCLIGCS: the storage round trip against a Cloud Storage
// emulator (fake-gcs-server, reached by Google's storage client through
// STORAGE_EMULATOR_HOST): proof-pack -o gs://, verify-pack gs://, audit
// bundle gs:// -o gs://...tar.gz, verify-pack of the bundle, packs list;
// then proof-pack killed while the emulator holds an upload (a receipt
// file; the manifest) leaves nothing verify-pack or packs list takes for
// a pack.
func TestStorageCLIGCS(t *testing.T) {
	t.Parallel()
	t.Run("round trip", func(t *testing.T) {
		t.Parallel()
		gcs := blobtest.StartGCS(t, "packs", blobtest.GCSOptions{})
		cli := newStoreCLI(t, gcs.Env())
		code, out, errs := cli.run("proof-pack", cli.trace(3), "-o", gcs.URL("runs/r1/"))
		if code != 0 || !strings.Contains(out, "Next: assay verify-pack '"+gcs.URL("runs/r1/")+"'") {
			t.Fatalf("proof-pack -o gs://: exit %d\n%s\n%s", code, out, errs)
		}
		code, out, errs = cli.run("verify-pack", "--json", gcs.URL("runs/r1/"))
		if code != 0 || !strings.Contains(out, `"verdict": "PASS"`) {
			t.Fatalf("verify-pack gs://: exit %d\n%s\n%s", code, out, errs)
		}
		if code, out, errs = cli.run("audit", "bundle", gcs.URL("runs/r1/"), "-o", gcs.URL("bundles/r1.tar.gz"), "--json"); code != 0 {
			t.Fatalf("audit bundle gs:// -o gs://: exit %d\n%s\n%s", code, out, errs)
		}
		if code, out, errs = cli.run("verify-pack", gcs.URL("bundles/r1.tar.gz")); code != 0 {
			t.Fatalf("verify-pack of the bundle: exit %d\n%s\n%s", code, out, errs)
		}
		code, out, errs = cli.run("packs", "list", "--json", gcs.URL("runs/"))
		var list struct {
			Packs []struct {
				Path      string `json:"path"`
				NReceipts int    `json:"n_receipts"`
			} `json:"packs"`
		}
		if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || len(list.Packs) != 1 || list.Packs[0].NReceipts != 3 || list.Packs[0].Path != gcs.URL("runs/r1/") {
			t.Fatalf("packs list gs://: exit %d %v\n%s\n%s", code, err, out, errs)
		}
		code, out, errs = cli.run("proof-pack", cli.trace(1), "-o", gcs.URL("runs/r1/"))
		if code != 3 || out != "" || !strings.Contains(errs, "a pack already exists at") {
			t.Fatalf("publish over a pack: exit %d\n%s\n%s", code, out, errs)
		}
	})
	for _, stallOn := range []string{"receipt_pack.jsonl", "pack_manifest.json"} {
		t.Run("killed on "+stallOn, func(t *testing.T) {
			t.Parallel()
			gcs := blobtest.StartGCS(t, "packs", blobtest.GCSOptions{Stall: func(name string) bool { return name == "killed/pack/"+stallOn }})
			cli := newStoreCLI(t, gcs.Env())
			cmd, _, _ := cli.cmd("proof-pack", cli.trace(20), "-o", gcs.URL("killed/pack/"))
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			<-gcs.Stalled
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			code, out, errs := cli.run("verify-pack", gcs.URL("killed/pack/"))
			if code != 3 || !strings.Contains(errs, "no pack_manifest.json at gs://packs/killed/pack/: not a pack") {
				t.Fatalf("verify-pack after a killed upload: exit %d\n%s\n%s", code, out, errs)
			}
			code, out, errs = cli.run("packs", "list", "--json", gcs.URL("killed/"))
			if code != 0 || !strings.Contains(out, `"packs": []`) {
				t.Fatalf("packs list after a killed upload: exit %d\n%s\n%s", code, out, errs)
			}
		})
	}
}
