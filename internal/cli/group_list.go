package cli

// `sluice group list`.

import (
	"fmt"
	"io"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
)

func runGroupList(args []string, stdout, stderr io.Writer) int {
	fs, c := newGroupFlags("list", "list [--state Stable,Empty,...]", stderr)
	stateFlag := fs.String("state", "", "only groups in these states, comma-separated: "+strings.Join(groupStates, ", "))
	pos, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return usageError(stderr, "list", "unexpected arguments %q", pos)
	}
	states, err := parseStates(*stateFlag)
	if err != nil {
		return usageError(stderr, "list", "--state: %v", err)
	}
	adm, ctx, done, err := c.admin()
	if err != nil {
		return failure(stderr, "list", err)
	}
	defer done()
	groups, err := adm.ListGroups(ctx, states...)
	if err != nil {
		return failure(stderr, "list", c.explain(ctx, err))
	}
	printGroupList(stdout, groups.Sorted())
	return 0
}

// parseStates reads --state; see parseChoices.
func parseStates(s string) ([]string, error) { return parseChoices(s, groupStates) }

func printGroupList(w io.Writer, groups []kadm.ListedGroup) {
	if len(groups) == 0 {
		fmt.Fprintln(w, "No groups.")
		return
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "GROUP\tSTATE\tPROTOCOL-TYPE")
	for _, g := range groups {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", g.Group, orDash(g.State), orDash(g.ProtocolType))
	}
	tw.Flush()
}
