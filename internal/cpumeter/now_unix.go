//go:build unix

package cpumeter

import "syscall"

// Now is the process's CPU time (user + system) so far; ok is false
// where it cannot be read.
func Now() (ns int64, ok bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return ru.Utime.Nano() + ru.Stime.Nano(), true
}
