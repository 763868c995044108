package cpumeter

import "testing"

// Meter is a CPU time reading to measure from.
type Meter struct{ start int64 }

// Start reads the process's CPU time now.
func Start() Meter {
	ns, _ := Now()
	return Meter{start: ns}
}

// Report sets b's cpu-ns/op metric: the CPU time since m over b.N. It
// reports nothing where CPU time cannot be read.
func (m Meter) Report(b *testing.B) {
	ns, ok := Now()
	if ok && b.N > 0 {
		b.ReportMetric(float64(ns-m.start)/float64(b.N), "cpu-ns/op")
	}
}
