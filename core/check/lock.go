package check

import (
	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/verify"
)

type lockGate struct{ path string }

func newLockGate(path string) (*lockGate, error) {
	return nil, exit.Bad("", "--lock is not available yet")
}

func (g *lockGate) Name() string { return "lock" }

func (g *lockGate) Run(r *verify.Result, man *canon.Object) []verify.Error { return nil }
