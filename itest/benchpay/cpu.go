package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

// userHZ is the unit of the CPU times in /proc/<pid>/stat: USER_HZ, 100
// on every Linux ABI.
const userHZ = 100

// procCPU is the CPU time (user and system) a process has used so far,
// read from /proc; 0 where there is no /proc.
func procCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces: the fields
	// counted here start after its closing one (utime and stime are
	// fields 14 and 15 of the line, 12 and 13 after it).
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 13 {
		return 0
	}
	ut, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	st, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(ut+st) * time.Second / userHZ
}

// selfCPU is the CPU time this process (the load tool) has used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuMeter measures the CPU time of the tool and of the nodes over a
// load: the figure to compare on a machine other work shares, where rates
// vary with the neighbours but the CPU a payment costs does not much.
type cpuMeter struct {
	nodes []*restNode
	self  time.Duration
	start []time.Duration
}

func startCPU(nodes []*restNode) *cpuMeter {
	m := &cpuMeter{nodes: nodes, self: selfCPU()}
	for _, n := range nodes {
		m.start = append(m.start, procCPU(n.pid))
	}
	return m
}

// nodeCPU is one process's CPU time over a load, and its resident size
// at the end of it.
type nodeCPU struct {
	name string
	cpu  time.Duration
	rss  uint64
}

// stop returns the CPU time of the tool, then of each node with a
// known process, since start.
func (m *cpuMeter) stop() []nodeCPU {
	out := []nodeCPU{{"benchpay", selfCPU() - m.self, 0}}
	for i, n := range m.nodes {
		if n.pid > 0 {
			out = append(out, nodeCPU{n.name, procCPU(n.pid) - m.start[i], residentSize(n.pid)})
		}
	}
	return out
}

// residentSize is a process's resident size now (VmRSS), 0 if unknown.
// (Not the peak, VmHWM: a node's is the wallet's key derivation at
// start-up.)
func residentSize(pid int) uint64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if rest, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			f := bytes.Fields(rest)
			if len(f) == 2 && string(f[1]) == "kB" {
				kb, err := strconv.ParseUint(string(f[0]), 10, 64)
				if err == nil {
					return kb << 10
				}
			}
		}
	}
	return 0
}
