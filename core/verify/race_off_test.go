//go:build !race

package verify

// rssBound is the peak resident memory the bounded-memory tests allow the
// verifying child (see race_on_test.go for the race build's).
const rssBound = 100 << 20
