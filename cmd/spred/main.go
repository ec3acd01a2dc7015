// Command spred trains, inspects and compresses neural networks with spred.
// Run `spred --help` for the commands.
package main

import "os"

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}
