// Command assay builds, verifies and explains signed proof packs of AI
// agent runs. See README.md for the tour.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
