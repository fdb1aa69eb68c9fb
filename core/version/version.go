// Package version names this build and the formats it writes.
package version

// Version is the assay version; it lands in attestations as verifier_version
// and must match [A-Za-z0-9._-]+. Release builds override it with -ldflags.
var Version = "0.1.0"

// PackFormat is the proof pack format version we write and read.
const PackFormat = "0.1.0"
