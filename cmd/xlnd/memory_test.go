package main

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
)

func TestGCPercentFor(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, 100},
		{1 << 10, 10_000},
		{4 << 20, 800},
		{8 << 20, 400},
		{16 << 20, 200},
		{32 << 20, 100},
		{1 << 30, 100},
	} {
		if got := gcPercentFor(c.live); got != c.want {
			t.Errorf("live %d: GOGC %d, want %d", c.live, got, c.want)
		}
	}
}

// TestGCTunerFollowsCollections: after a collection the tuner has set the
// percent for the live heap it left.
func TestGCTunerFollowsCollections(t *testing.T) {
	old := debug.SetGCPercent(100)
	defer debug.SetGCPercent(old)
	tuner := &gcTuner{percent: 100}
	tuner.sample = append(tuner.sample, metrics.Sample{Name: "/gc/heap/live:bytes"})
	tuner.arm()
	for range 3 {
		runtime.GC()
		runtime.Gosched()
	}
	// The finalizer runs on its own goroutine: wait for the setting.
	gogc := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	for range 1000 {
		metrics.Read(gogc)
		if p := gogc[0].Value.Uint64(); p != 100 {
			if p < 200 {
				t.Fatalf("GOGC %d for a test's heap of a few MB", p)
			}
			return
		}
		runtime.GC()
	}
	t.Fatal("GC percent never set")
}
