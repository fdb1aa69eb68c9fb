package blob_test

import (
	"os"
	"testing"

	"github.com/assay-dev/assay/core/blob/blobtest"
)

// TestMain shares one Azurite process among this package's tests (each
// gets its own container): its start-up is the expensive part.
func TestMain(m *testing.M) {
	stop := blobtest.ShareAzurite()
	code := m.Run()
	stop()
	os.Exit(code)
}
