package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
)

// profiler is a child broker's profiling (see ServeChild): CPU only in
// the windows the parent measures, so that creating and deleting topics
// between runs does not crowd the profile, and blocking and lock waits
// over the whole life. The zero dir profiles nothing.
type profiler struct {
	prefix string // <dir>/<kind>
	n      int    // windows begun
	cpu    *os.File
}

func newProfiler(dir string, k Kind) *profiler {
	if dir == "" {
		return &profiler{}
	}
	// A sample per 10 µs a goroutine blocks, and every contended lock.
	runtime.SetBlockProfileRate(10_000)
	runtime.SetMutexProfileFraction(1)
	return &profiler{prefix: filepath.Join(dir, string(k))}
}

func (p *profiler) begin() {
	if p.prefix == "" || p.cpu != nil {
		return
	}
	p.n++
	f, err := os.Create(fmt.Sprintf("%s.cpu.%d.pprof", p.prefix, p.n))
	if err != nil {
		return
	}
	if pprof.StartCPUProfile(f) != nil {
		f.Close()
		return
	}
	p.cpu = f
}

func (p *profiler) end() {
	if p.cpu == nil {
		return
	}
	pprof.StopCPUProfile()
	p.cpu.Close()
	p.cpu = nil
}

func (p *profiler) finish() {
	p.end()
	if p.prefix == "" {
		return
	}
	for _, name := range []string{"block", "mutex"} {
		if f, err := os.Create(p.prefix + "." + name + ".pprof"); err == nil {
			pprof.Lookup(name).WriteTo(f, 0)
			f.Close()
		}
	}
}
