//go:build !unix

package routing

func cpuNow() (int64, bool) { return 0, false }
