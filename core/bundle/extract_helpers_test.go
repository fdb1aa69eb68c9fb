package bundle

import "github.com/assay-dev/assay/core/pack"

// The extractor lives in core/pack (the only one); these short names keep
// the bundle tests reading as they did.

type Limits = pack.BundleLimits

func Extract(tgzPath, destDir string) error {
	return pack.ExtractBundle(tgzPath, destDir, pack.DefaultBundleLimits)
}

func ExtractWithLimits(tgzPath, destDir string, lim Limits) error {
	return pack.ExtractBundle(tgzPath, destDir, lim)
}

func IsBundle(p string) bool { return pack.IsBundle(p) }
