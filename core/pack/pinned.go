package pack

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"

	"github.com/assay-dev/assay/core/exit"
)

// Pinned reads. A reader that uses a pack's files after core/verify has
// passed the pack (the same open Pack: its manifest is the one verified)
// reads them a second time; these reads check that the bytes are the ones
// the manifest's files entry pins (sha256), so a file swapped between the
// verification and the use is refused as tampered (exit 2), never used.
// Readers of verified content (incident replay, proofs) go through here.

// ReadPinned is ReadFile (at most limit bytes) for a file the manifest
// lists, checked against the manifest: an unlisted file or other bytes are
// a tampered error (exit 2).
func (p *Pack) ReadPinned(name string, limit int64) ([]byte, error) {
	pin := p.pin(name)
	b, err := p.ReadFile(name, limit)
	if err != nil {
		return nil, err
	}
	pin.h.Write(b)
	if err := pin.check(); err != nil {
		return nil, err
	}
	return b, nil
}

// PinnedReceipts is Receipts with the receipt file checked against the
// manifest as it is read: once the last line is read, Err reports a
// tampered error (exit 2) when the file's bytes are not the ones the
// manifest lists. Use the lines only after Err is nil.
func (p *Pack) PinnedReceipts() (*Receipts, error) {
	it, err := p.Receipts()
	if err != nil {
		return nil, err
	}
	it.pin = p.pin(FileReceipts)
	it.Tee(it.pin.h)
	return it, nil
}

// pinned hashes what was read of a file the manifest lists.
type pinned struct {
	name, want string // want: the manifest's sha256 ("" when not listed)
	h          hash.Hash
}

func (p *Pack) pin(name string) *pinned {
	pin := &pinned{name: name, h: sha256.New()}
	for _, f := range p.Files() {
		if f.Path == name {
			pin.want = f.SHA256
			break
		}
	}
	return pin
}

func (pin *pinned) check() error {
	if pin.want == "" {
		return exit.New(exit.Tampered, "verify the pack with 'assay verify-pack'", "%s is not listed in the pack's manifest", pin.name)
	}
	if hex.EncodeToString(pin.h.Sum(nil)) != pin.want {
		return exit.New(exit.Tampered, "verify it again; nothing may write to the pack while it is read", "%s changed after the pack was verified", pin.name)
	}
	return nil
}
