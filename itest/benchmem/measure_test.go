package main

import (
	"os"
	"runtime"
	"testing"
)

// TestMemStats reads the MemStats lines a debug=1 heap profile ends with,
// including the "inuse / sys" pair of Stack.
func TestMemStats(t *testing.T) {
	profile := []byte(`heap profile: 1: 2 [3: 4] @ heap/1048576
1: 2 [3: 4] @ 0x1 0x2
#	0x1	main.f+0x1	/x.go:1


# runtime.MemStats
# Alloc = 27537912
# Sys = 187611432
# HeapAlloc = 27537912
# HeapInuse = 33325056
# HeapReleased = 127246336
# Stack = 8912896 / 9000000
# PauseNs = [341888 123060 0]
# GCCPUFraction = 0.004118005807828739
`)
	got := memStats(profile)
	want := map[string]int64{"Alloc": 27537912, "Sys": 187611432, "HeapAlloc": 27537912,
		"HeapInuse": 33325056, "HeapReleased": 127246336, "Stack": 8912896}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %d, want %d", k, got[k], v)
		}
	}
	for _, k := range []string{"PauseNs", "GCCPUFraction"} {
		if _, ok := got[k]; ok {
			t.Errorf("%s read as an integer: %d", k, got[k])
		}
	}
}

// TestProcStatus reads this process's own status: the fields the tool
// reports are there, in bytes.
func TestProcStatus(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc/<pid>/status is Linux's")
	}
	st, err := procStatus(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"VmRSS", "VmHWM", "RssAnon", "RssFile"} {
		if st[k] <= 0 {
			t.Errorf("%s = %d", k, st[k])
		}
	}
	if st["RssAnon"]+st["RssFile"] > st["VmRSS"] {
		t.Errorf("RssAnon %d + RssFile %d exceed VmRSS %d", st["RssAnon"], st["RssFile"], st["VmRSS"])
	}
	if st["VmRSS"]%1024 != 0 {
		t.Errorf("VmRSS %d is not whole kB", st["VmRSS"])
	}
	if _, err := procStatus(-1); err == nil {
		t.Error("status of pid -1 read without error")
	}
}
