// Command sluice is a Kafka-compatible broker with embedded storage, and
// the tools that go with it. See `sluice help`.
package main

import (
	"os"

	"sluice/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
