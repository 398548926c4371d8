package history

// Merge interleaves the histories of several processes (one file each)
// into one, by time. Each input keeps its own order even where its times
// go backwards (a wall-clock step): the checker reads a process's
// operations as one sequential story, and that story is the order the
// process wrote them in. Equal times go to the earlier input.
func Merge(inputs ...[]Op) []Op {
	total := 0
	for _, in := range inputs {
		total += len(in)
	}
	out := make([]Op, 0, total)
	next := make([]int, len(inputs))
	for len(out) < total {
		best := -1
		for i, in := range inputs {
			if next[i] == len(in) {
				continue
			}
			if best < 0 || in[next[i]].Time.Before(inputs[best][next[best]].Time) {
				best = i
			}
		}
		out = append(out, inputs[best][next[best]])
		next[best]++
	}
	return out
}
