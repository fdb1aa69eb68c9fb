package main

import "github.com/assay-dev/assay/core/exit"

func exitBadKey(id, dir string) error {
	return exit.Bad("list keys with 'assay key list' or create one with 'assay key generate "+id+"'", "no signing key %q in %s", id, dir)
}
