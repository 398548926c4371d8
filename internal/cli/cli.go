// Package cli is what users type: the sluice subcommands, their flags and
// their output. main stays a one-liner over Main.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
)

// command is one subcommand: run, or runIn for one that reads stdin.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
	runIn   func(args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

var commands = map[string]command{
	"serve":  {"run a broker", runServe, nil},
	"group":  {"list, describe, delete consumer groups and reset their offsets", runGroup, nil},
	"topic":  {"create, list, describe, alter and delete topics", runTopic, nil},
	"txn":    {"list and describe transactions, abort one that hangs", runTxn, nil},
	"acl":    {"create, list and delete ACLs (who may do what to which resource)", runACL, nil},
	"user":   {"set, list and delete users' SCRAM credentials", nil, runUser},
	"bench":  {"measure produce and consume speed against Sluice and an in-memory peer", runBench, nil},
	"verify": {"run workloads under faults and check them for lost, duplicated and misordered records", runVerify, nil},

	// Producing and consuming with a chosen delivery guarantee.
	"produce": {"write records from lines of files or stdin, with a chosen delivery guarantee", runProduce, nil},
	"consume": {"print a topic's records or copy them exactly once, with a chosen delivery guarantee", runConsume, nil},
}

// Main runs the subcommand named by args[0] and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	return Run(args, os.Stdin, stdout, stderr)
}

// Run is Main with stdin given, for tests that run commands in-process.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "sluice: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	if cmd.runIn != nil {
		return cmd.runIn(args[1:], stdin, stdout, stderr)
	}
	return cmd.run(args[1:], stdout, stderr)
}

// parseExit is the exit code for a flag parse error: 0 when the user asked
// for help (-h), 2 for a bad command line.
func parseExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Sluice: a Kafka-compatible message broker.\n\nUsage: sluice <command> [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'sluice <command> -h' for a command's flags.")
}
