package cli

import (
	"fmt"
	"io"
)

// subcommands maps a subcommand's name to the function that runs it.
type subcommands map[string]func(args []string, stdout, stderr io.Writer) int

// dispatch runs the subcommand named by args[0] of the command name. Like
// Main, no subcommand at all is a request for help rather than a mistake.
func dispatch(name, usageText string, subs subcommands, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usageText)
		return 0
	}
	run, ok := subs[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "sluice %s: unknown subcommand %q\n\n", name, args[0])
		fmt.Fprint(stderr, usageText)
		return 2
	}
	return run(args[1:], stdout, stderr)
}
