//go:build !linux

package runner

import "os/exec"

// setDeathSignal does nothing where the kernel cannot kill a child with
// its parent; the run still stops its children on every normal path.
func setDeathSignal(*exec.Cmd) {}
