//go:build unix

package vartime

import (
	"syscall"
	"testing"
)

// cpuMeter reports process CPU time (user+system) per operation as the
// cpu-ns/op metric. On a machine shared with other work, wall-clock ns/op
// includes time spent waiting for a core; CPU time does not.
type cpuMeter struct{ start int64 }

func cpuNow() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func startCPU() cpuMeter { return cpuMeter{start: cpuNow()} }

func (m cpuMeter) report(b *testing.B) {
	if b.N > 0 {
		b.ReportMetric(float64(cpuNow()-m.start)/float64(b.N), "cpu-ns/op")
	}
}
