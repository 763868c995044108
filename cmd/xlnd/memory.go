package main

import (
	"log/slog"
	"runtime"
	"runtime/debug"
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
