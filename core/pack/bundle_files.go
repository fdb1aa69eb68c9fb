package pack

// The files an audit bundle (DECISIONS 16) adds at the pack root, beside
// the pack's own: written by core/bundle, recognised by the verifier, which
// reports them as one note instead of one warning each. They are not
// covered by the pack's signature.
const (
	BundleFileSignerInfo   = "SIGNER_INFO.json"
	BundleFileSummary      = "PACK_SUMMARY.md"
	BundleFileInstructions = "VERIFY_INSTRUCTIONS.md"
	BundleFileResult       = "VERIFY_RESULT.json"
)

// BundleAdded reports whether name is one of the files a bundle adds at the
// pack root.
func BundleAdded(name string) bool {
	switch name {
	case BundleFileSignerInfo, BundleFileSummary, BundleFileInstructions, BundleFileResult:
		return true
	}
	return false
}
