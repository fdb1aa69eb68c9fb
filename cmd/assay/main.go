// Command assay builds, verifies and explains signed proof packs of AI
// agent runs. See README.md for the tour.
package main

import "os"

func main() {
	// The environment is read here, once; nothing below reads the process's.
	os.Exit(runIn(processEnv(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
