package bundle

import "github.com/assay-dev/assay/core/pack"

// Extraction lives in core/pack (one extractor for every reader); these
// names are the user-facing "extract a bundle into a directory" entry.

// Limits bound what Extract writes, against archive bombs.
type Limits = pack.BundleLimits

// DefaultLimits fit any pack we build and stop a gzip bomb long before the
// disk fills.
var DefaultLimits = pack.DefaultBundleLimits

// Extract unpacks the audit bundle tgzPath into destDir (created if missing;
// it must be empty) with DefaultLimits.
func Extract(tgzPath, destDir string) error {
	return pack.ExtractBundle(tgzPath, destDir, DefaultLimits)
}

// ExtractWithLimits unpacks a .tar.gz safely (pack.ExtractBundle).
func ExtractWithLimits(tgzPath, destDir string, lim Limits) error {
	return pack.ExtractBundle(tgzPath, destDir, lim)
}

// IsBundle reports whether path is a regular file that starts like a gzip
// stream.
func IsBundle(p string) bool { return pack.IsBundle(p) }
