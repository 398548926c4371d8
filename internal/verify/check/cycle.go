package check

import (
	"fmt"
	"slices"
	"strings"

	"sluice/internal/verify/history"
)

// wrEdge is a write-read dependency between transactions: a poll
// processed in one read a record the other wrote.
type wrEdge struct {
	write, read int
	rec         history.Record
}

// wrGraph links transactions that took effect, writer to reader. Only
// write-read edges: Kafka orders writes of concurrent transactions freely
// (write-write cycles are normal, as Jepsen notes), but at read_committed
// a transaction reads only what committed before it, so a cycle of reads
// means some transaction read a write that had not committed.
func (a *analysis) wrGraph() map[string]map[string]wrEdge {
	g := map[string]map[string]wrEdge{}
	for i, op := range a.ops {
		if op.Kind != history.Poll || op.Txn == "" || a.txns[op.Txn].status != committed {
			continue
		}
		for _, r := range op.Records {
			for _, w := range a.writersOf(r.TP(), r.Offset, r.Value) {
				from := a.ops[w].Txn
				if from == "" || from == op.Txn || a.txns[from].status != committed {
					continue
				}
				if g[from] == nil {
					g[from] = map[string]wrEdge{}
				}
				if _, ok := g[from][op.Txn]; !ok {
					g[from][op.Txn] = wrEdge{w, i, r}
				}
			}
		}
	}
	return g
}

// cycles finds G1c: one cycle (a shortest one through its first
// transaction) for every strongly connected group of transactions.
func (a *analysis) cycles() []Finding {
	g := a.wrGraph()
	var fs []Finding
	for _, comp := range components(g) {
		fs = append(fs, a.cycleFinding(g, shortestCycle(g, comp)))
	}
	return fs
}

func (a *analysis) cycleFinding(g map[string]map[string]wrEdge, cycle []string) Finding {
	f := Finding{Anomaly: G1c, Txns: cycle}
	for i, from := range cycle {
		to := cycle[(i+1)%len(cycle)]
		e := g[from][to]
		f.Evidence = append(f.Evidence,
			a.evidence(fmt.Sprintf("%s wrote %s", from, e.rec.Value), e.write, nil),
			a.evidence(fmt.Sprintf("%s read it", to), e.read, holding(e.rec.TP(), e.rec.Value)))
	}
	f.Summary = fmt.Sprintf("%s -> %s: each read what the one before it wrote", strings.Join(cycle, " -> "), cycle[0])
	return f
}

// components returns the strongly connected components of more than one
// transaction (Tarjan's algorithm), each sorted, in order of their first
// member.
func components(g map[string]map[string]wrEdge) [][]string {
	t := tarjan{g: g, index: map[string]int{}, low: map[string]int{}, on: map[string]bool{}}
	for _, v := range sortedKeys(g) {
		if _, seen := t.index[v]; !seen {
			t.visit(v)
		}
	}
	slices.SortFunc(t.comps, func(x, y []string) int { return strings.Compare(x[0], y[0]) })
	return t.comps
}

type tarjan struct {
	g     map[string]map[string]wrEdge
	index map[string]int
	low   map[string]int
	on    map[string]bool
	stack []string
	comps [][]string
}

func (t *tarjan) visit(v string) {
	t.index[v], t.low[v] = len(t.index), len(t.index)
	t.stack = append(t.stack, v)
	t.on[v] = true
	for _, w := range sortedKeys(t.g[v]) {
		if _, seen := t.index[w]; !seen {
			t.visit(w)
			t.low[v] = min(t.low[v], t.low[w])
		} else if t.on[w] {
			t.low[v] = min(t.low[v], t.index[w])
		}
	}
	if t.low[v] != t.index[v] {
		return
	}
	var comp []string
	for {
		w := t.stack[len(t.stack)-1]
		t.stack = t.stack[:len(t.stack)-1]
		t.on[w] = false
		comp = append(comp, w)
		if w == v {
			break
		}
	}
	if len(comp) > 1 {
		slices.Sort(comp)
		t.comps = append(t.comps, comp)
	}
}

// shortestCycle is a shortest cycle through the component's first
// transaction, found breadth-first inside the component.
func shortestCycle(g map[string]map[string]wrEdge, comp []string) []string {
	start := comp[0]
	parent := map[string]string{}
	queue := []string{start}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		for _, w := range sortedKeys(g[v]) {
			if w == start {
				return pathTo(parent, start, v)
			}
			if _, seen := parent[w]; !seen && slices.Contains(comp, w) {
				parent[w] = v
				queue = append(queue, w)
			}
		}
	}
	panic("check: a strongly connected component without a cycle")
}

// pathTo is the path from start to v along parent links.
func pathTo(parent map[string]string, start, v string) []string {
	path := []string{v}
	for v != start {
		v = parent[v]
		path = append(path, v)
	}
	slices.Reverse(path)
	return path
}
