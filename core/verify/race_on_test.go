//go:build race

package verify

// rssBound is the peak resident memory the bounded-memory tests allow the
// verifying child. Under the race detector the child is instrumented too,
// and its shadow memory roughly doubles what it holds; the plain build's
// bound (100 MiB) is the one that matters and CI's go test enforces it.
const rssBound = 256 << 20
