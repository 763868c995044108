//go:build !unix

package cpumeter

// Now reports that CPU time cannot be read here.
func Now() (ns int64, ok bool) { return 0, false }
