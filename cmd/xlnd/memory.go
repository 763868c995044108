package main

import (
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// releaseStartupMemory hands back to the operating system what creating
// or unlocking the wallet took: the scrypt buffers that derive the
// wallet's and the macaroon store's keys (128 MiB at the wallet's default
// cost) are garbage as soon as the keys exist, but the runtime keeps the
// freed pages until load makes it collect, so an idle node would show
// them as resident memory. Called once, after unlock; it stops the world
// for one collection.
func releaseStartupMemory(log *slog.Logger) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	debug.FreeOSMemory()
	runtime.ReadMemStats(&after)
	const mib = 1 << 20
	log.Info("Start-up memory returned to the operating system",
		"heap_mib_before", before.HeapInuse/mib,
		"live_heap_mib", after.HeapAlloc/mib,
		"released_mib", (after.HeapReleased-min(before.HeapReleased, after.HeapReleased))/mib,
		"runtime_mib", (after.Sys-after.HeapReleased)/mib)
}

// gcHeapFloor is the least the heap may grow between two collections
// when the operator has not set GOGC. Go's default lets it grow by the
// live heap (GOGC=100), which for a node's live heap of 10-20 MB means a
// collection every few MB of allocation: under payment load the collector
// took ~9% of the payer's CPU. With the floor, a small heap grows by 32
// MiB before the next collection (GOGC ~200-300 at that size), and a heap
// above 32 MiB of live data keeps Go's default, so the extra memory is
// bounded (at most 32 MiB more than the default allows) rather than a
// multiple of a large node's heap, and no memory limit is needed that a
// large node could hit. 64 MiB saved a little more CPU but kept ~60 MiB
// more resident under load; 32 MiB takes most of the saving for half.
const gcHeapFloor = 32 << 20

// gcPercentFor is the GOGC that lets a heap of live bytes grow by
// max(live, gcHeapFloor).
func gcPercentFor(live uint64) int {
	if live == 0 || live >= gcHeapFloor {
		return 100
	}
	return int(min(gcHeapFloor*100/live, 10_000))
}

// gcTuner sets the GC percent after each collection from the live heap
// it left. It runs from a finalizer: the runtime has no other hook at
// the end of a cycle.
type gcTuner struct {
	sample  []metrics.Sample
	percent int
}

// gcSentinel is the object whose finalizer runs after each collection;
// big enough to stay out of the tiny allocator, whose blocks are freed
// (and their finalizers run) only with their neighbours.
type gcSentinel struct {
	tuner *gcTuner
	_     [16]byte
}

// startGCTuner applies gcHeapFloor for the life of the process, unless
// GOGC is set: then the operator's setting stands.
func startGCTuner() bool {
	if os.Getenv("GOGC") != "" {
		return false
	}
	t := &gcTuner{sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}, percent: 100}
	t.arm()
	return true
}

func (t *gcTuner) arm() {
	runtime.SetFinalizer(&gcSentinel{tuner: t}, func(s *gcSentinel) {
		s.tuner.adjust()
		s.tuner.arm()
	})
}

func (t *gcTuner) adjust() {
	metrics.Read(t.sample)
	if t.sample[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	p := gcPercentFor(t.sample[0].Value.Uint64())
	// Small changes of the live heap leave the setting alone.
	if p*10 < t.percent*9 || p*10 > t.percent*11 {
		debug.SetGCPercent(p)
		t.percent = p
	}
}
