package group

// The group states, spelled as DescribeGroups and ListGroups report them.
const (
	StateEmpty               = "Empty"
	StatePreparingRebalance  = "PreparingRebalance"
	StateCompletingRebalance = "CompletingRebalance"
	StateStable              = "Stable"
	// StateDead is never held by a live group: the coordinator removes a
	// group on Delete. It is what DescribeGroups reports for unknown groups.
	StateDead = "Dead"
)
