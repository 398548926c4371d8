//go:build !unix

package bench

import "time"

// cpuTime is not measured off Unix: the bench reports 0 cores.
func cpuTime() time.Duration { return 0 }
