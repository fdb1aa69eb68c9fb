package main

import (
	"os/exec"
	"strings"
	"testing"
)

// Every start of assay pays the package init and the pages of everything
// it links, whatever the command. Google's storage client brings gRPC, xDS
// and Cloud Monitoring (about 27 ms of start-up, scripts/bench/startup.sh),
// so gs:// goes through core/blob/gcs, a JSON-API driver on net/http.
func TestNoHeavyStartupDeps(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	forbidden := []string{
		"cloud.google.com/go/storage",
		"gocloud.dev/blob/gcsblob",
		"google.golang.org/grpc/xds",
		"github.com/envoyproxy/",
		"cloud.google.com/go/monitoring",
	}
	for _, p := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if p == f || strings.HasPrefix(p, f) {
				t.Errorf("assay links %s", p)
			}
		}
	}
}
