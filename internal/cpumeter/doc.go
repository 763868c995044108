// Package cpumeter measures the process's CPU time (user + system) for
// benchmarks. On a machine shared with other work, wall-clock ns/op
// includes time spent waiting for a core; CPU time does not, so the
// benchmarks of the curve arithmetic, the onion and the wallet report it
// beside ns/op as cpu-ns/op.
package cpumeter
