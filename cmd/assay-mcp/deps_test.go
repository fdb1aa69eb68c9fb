package main

import (
	"os/exec"
	"strings"
	"testing"
)

// assay-mcp never reaches object storage (a storage URL would let a client
// spend the server's cloud credentials), so it must not link the cloud
// SDKs either: ~450 packages whose init, itabs and pages cost every start
// (scripts/bench/mcp-startup.sh). core/remote holds the CLI's storage
// paths for that reason.
func TestNoCloudStorageSDKs(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	forbidden := []string{
		"github.com/assay-dev/assay/core/blob",
		"github.com/assay-dev/assay/core/remote",
		"github.com/assay-dev/assay/core/tlog/tlogaws",
		"github.com/transparency-dev/tessera/storage/aws",
		"github.com/aws/aws-sdk-go-v2/",
		"gocloud.dev/",
		"cloud.google.com/go/storage",
		"github.com/Azure/azure-sdk-for-go/",
		"github.com/envoyproxy/",
	}
	for _, p := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if p == f || strings.HasPrefix(p, f) {
				t.Errorf("assay-mcp links %s", p)
			}
		}
	}
}
