package scan

import "github.com/assay-dev/assay/core/exit"

func exitpkgCode(err error) int { return exit.Code(err) }
