package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// sample is a running node's memory at one moment.
type sample struct {
	// rss and hwm are the resident set now and its peak since the
	// process started (VmRSS and VmHWM of /proc/<pid>/status), bytes;
	// rssAnon and rssFile split rss into the process's own memory and
	// the pages of files it maps (bbolt maps its database files: pages
	// it read are resident but belong to the page cache, which the
	// kernel reclaims under pressure).
	rss, hwm, rssAnon, rssFile int64

	// heapAlloc is the live heap right after a collection (the heap
	// profile's HeapAlloc, asked for with gc=1); heapInuse the spans
	// holding it; stack the goroutine stacks in use; runtime what the
	// runtime holds from the OS less what it returned (Sys −
	// HeapReleased). Bytes.
	heapAlloc, heapInuse, stack, runtime int64

	goroutines int
}

// measure samples the process pid, whose pprof handlers are at
// pprofAddr. The resident figures are read first: the collection the
// heap profile asks for frees memory the runtime returns to the OS only
// later, so it does not change them.
func measure(ctx context.Context, pid int, pprofAddr string) (sample, error) {
	var s sample
	status, err := procStatus(pid)
	if err != nil {
		return s, err
	}
	s.rss, s.hwm = status["VmRSS"], status["VmHWM"]
	s.rssAnon, s.rssFile = status["RssAnon"], status["RssFile"]
	heap, err := get(ctx, "http://"+pprofAddr+"/debug/pprof/heap?gc=1&debug=1")
	if err != nil {
		return s, fmt.Errorf("heap profile: %w", err)
	}
	stats := memStats(heap)
	for name, dst := range map[string]*int64{"HeapAlloc": &s.heapAlloc,
		"HeapInuse": &s.heapInuse, "Stack": &s.stack} {

		v, ok := stats[name]
		if !ok {
			return s, fmt.Errorf("heap profile has no %s", name)
		}
		*dst = v
	}
	s.runtime = stats["Sys"] - stats["HeapReleased"]
	g, err := get(ctx, "http://"+pprofAddr+"/debug/pprof/goroutine?debug=1")
	if err != nil {
		return s, fmt.Errorf("goroutine profile: %w", err)
	}
	line, _, _ := bytes.Cut(g, []byte("\n"))
	n, ok := strings.CutPrefix(string(line), "goroutine profile: total ")
	if !ok {
		return s, fmt.Errorf("goroutine profile starts %q", line)
	}
	if s.goroutines, err = strconv.Atoi(strings.TrimSpace(n)); err != nil {
		return s, fmt.Errorf("goroutine profile: %w", err)
	}
	return s, nil
}

// procStatus reads the kB fields of /proc/<pid>/status, in bytes.
func procStatus(pid int) (map[string]int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64)
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		v, ok := strings.CutSuffix(strings.TrimSpace(rest), " kB")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("/proc/%d/status %s: %w", pid, name, err)
		}
		out[name] = kb << 10
	}
	if _, ok := out["VmRSS"]; !ok {
		return nil, fmt.Errorf("/proc/%d/status has no VmRSS", pid)
	}
	return out, nil
}

// memStats reads the runtime.MemStats lines ("# Name = value", "# Stack
// = inuse / sys") at the end of a debug=1 heap profile; for a pair the
// first value.
func memStats(profile []byte) map[string]int64 {
	out := make(map[string]int64)
	sc := bufio.NewScanner(bytes.NewReader(profile))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "# ")
		if !ok {
			continue
		}
		name, val, ok := strings.Cut(line, " = ")
		if !ok {
			continue
		}
		first, _, _ := strings.Cut(val, " ")
		if v, err := strconv.ParseInt(first, 10, 64); err == nil {
			out[name] = v
		}
	}
	return out
}

// saveProfiles writes the node's heap profile (after a collection) to
// <prefix>.heap.pprof, for go tool pprof, the same as text with the
// runtime's MemStats to <prefix>.heap.txt, and its goroutines grouped by
// stack to <prefix>.goroutines.txt.
func saveProfiles(ctx context.Context, pprofAddr, prefix string) error {
	for _, f := range []struct{ query, suffix string }{
		{"heap?gc=1", ".heap.pprof"},
		{"heap?debug=1", ".heap.txt"}, // ends with the runtime's MemStats
		{"goroutine?debug=1", ".goroutines.txt"},
	} {
		b, err := get(ctx, "http://"+pprofAddr+"/debug/pprof/"+f.query)
		if err != nil {
			return err
		}
		if err := os.WriteFile(prefix+f.suffix, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func get(ctx context.Context, url string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	return b, nil
}
