package tests

import (
	"sync"

	"sluice/internal/vfs"
)

// syncCloner is a file system that, while armed, takes a crash clone of
// its MemFS before every fsync of a file or a directory: what a power
// loss at each of those moments would leave.
type syncCloner struct {
	mem *vfs.MemFS
	FS  vfs.FS // give this one to the broker

	mu     sync.Mutex
	armed  bool
	clones []*vfs.MemFS
}

func newSyncCloner() *syncCloner {
	s := &syncCloner{mem: vfs.NewMem()}
	s.FS = vfs.NewErrorFS(s.mem, func(op, _ string) error {
		if op == vfs.OpSync || op == vfs.OpSyncDir {
			s.mu.Lock()
			if s.armed {
				s.clones = append(s.clones, s.mem.CrashClone())
			}
			s.mu.Unlock()
		}
		return nil
	})
	return s
}

// arm starts or stops the cloning.
func (s *syncCloner) arm(on bool) {
	s.mu.Lock()
	s.armed = on
	s.mu.Unlock()
}

// taken returns how many clones were taken so far.
func (s *syncCloner) taken() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clones)
}

// all stops the cloning and returns the clones taken, then one of now:
// after the last fsync.
func (s *syncCloner) all() []*vfs.MemFS {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.armed = false
	return append(s.clones, s.mem.CrashClone())
}
