package main

import (
	"os/exec"
	"strings"
	"testing"
)

// Every start of assay pays the package init and the pages of everything
// it links, whatever the command. Google's storage client brings gRPC, xDS
// and Cloud Monitoring (about 27 ms of start-up, scripts/bench/startup.sh),
// Azure's storage SDK with gocloud's azureblob about 3 ms more (Arrow, and
// Google's API client for a user-agent helper), so gs:// and azblob:// go
// through core/blob/gcs and core/blob/azure, REST drivers on net/http.
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
		"gocloud.dev/blob/azureblob",
		"github.com/Azure/azure-sdk-for-go/sdk/storage/",
		"github.com/apache/arrow-go/",
		"google.golang.org/api/option",
		"google.golang.org/api/transport",
		"github.com/google/s2a-go",
	}
	for _, p := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if p == f || strings.HasPrefix(p, f) {
				t.Errorf("assay links %s", p)
			}
		}
	}
}
