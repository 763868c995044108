//go:build unix

package routing

import "syscall"

// cpuNow is the process's CPU time (user+system) so far. On a machine
// shared with other work, wall-clock latency includes time spent waiting
// for a core; CPU time does not. ok is false where it cannot be read.
func cpuNow() (ns int64, ok bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return ru.Utime.Nano() + ru.Stime.Nano(), true
}
