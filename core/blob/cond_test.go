package blob_test

import (
	"context"
	"testing"

	"gocloud.dev/gcerrors"

	gcblob "gocloud.dev/blob"

	"github.com/assay-dev/assay/core/blob"
)

// TestManifestCommitIsConditional: every backend honours the condition
// Publish writes the manifest with (IfNotExist), so of two publishers
// racing to one prefix, both past the emptiness check, only one commits
// and the first manifest is never replaced.
func TestManifestCommitIsConditional(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			loc, err := blob.Open(ctx, b.url("race/pack"), b.opt)
			if err != nil {
				t.Fatal(err)
			}
			defer loc.Close()
			if err := loc.Bucket.WriteAll(ctx, "probe", []byte("1"), &gcblob.WriterOptions{IfNotExist: true}); err != nil {
				t.Fatal(err)
			}
			err = loc.Bucket.WriteAll(ctx, "probe", []byte("2"), &gcblob.WriterOptions{IfNotExist: true})
			if gcerrors.Code(err) != gcerrors.FailedPrecondition {
				t.Fatalf("%s: a second conditional write gave %v, want FailedPrecondition", b.name, err)
			}
			if got, _ := loc.Bucket.ReadAll(ctx, "probe"); string(got) != "1" {
				t.Fatalf("%s: the first object was replaced: %q", b.name, got)
			}

		})
	}
}
