package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync"
	"time"
)

// profileArgs are the flags that make a node (xlnd or lnd: the same
// names) serve pprof on addr and sample blocking and mutex contention.
func profileArgs(addr string) []string {
	return []string{"--pprof.profile=" + addr, "--pprof.blockingprofile=10000",
		"--pprof.mutexprofile=10"}
}

// profiler fetches the profiles of the nodes that serve pprof while a
// load runs: a CPU profile of the first seconds of the load, then the
// block and mutex profiles (cumulative since start) once it ends.
type profiler struct {
	dir     string
	seconds int
}

// during runs load while taking the CPU profile of every node with a
// pprof address, and writes <dir>/<node>-<shape>.{cpu,block,mutex}.pprof
// and <dir>/<node>-<shape>.{allocs-before,allocs}.pprof (heap allocations
// since start, before and after the load),
// and the load tool's own CPU profile of the whole load to
// <dir>/benchpay-<impl>-<shape>.cpu.pprof.
func (p *profiler) during(ctx context.Context, impl, shapeName string, nodes []*restNode,
	load func()) []string {

	if p == nil || p.dir == "" {
		load()
		return nil
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		files []string
	)
	save := func(n *restNode, kind, query string) {
		path := filepath.Join(p.dir, fmt.Sprintf("%s-%s.%s.pprof", n.name, shapeName, kind))
		if err := fetch(ctx, "http://"+n.pprof+"/debug/pprof/"+query, path); err != nil {
			fmt.Fprintf(os.Stderr, "benchpay: %s %s profile: %v\n", n.name, kind, err)
			return
		}
		mu.Lock()
		files = append(files, path)
		mu.Unlock()
	}
	for _, n := range nodes {
		if n.pprof == "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			save(n, "cpu", fmt.Sprintf("profile?seconds=%d", p.seconds))
		}()
	}
	// The allocation profile is cumulative since start: one before and
	// one after the load, diffed with pprof -base, give the load's own.
	for _, n := range nodes {
		if n.pprof != "" {
			save(n, "allocs-before", "allocs")
		}
	}
	tag := strings.NewReplacer(" ", "-", "(", "", ")", "").Replace(impl)
	self := filepath.Join(p.dir, fmt.Sprintf("benchpay-%s-%s.cpu.pprof", tag, shapeName))
	f, err := os.Create(self)
	if err == nil {
		err = pprof.StartCPUProfile(f)
		if err != nil {
			f.Close()
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "benchpay: own CPU profile: %v\n", err)
	}
	load()
	if err == nil {
		pprof.StopCPUProfile()
		if err := f.Close(); err == nil {
			files = append(files, self)
		}
	}
	wg.Wait()
	for _, n := range nodes {
		if n.pprof != "" {
			save(n, "allocs", "allocs")
			save(n, "block", "block")
			save(n, "mutex", "mutex")
		}
	}
	return files
}

func fetch(ctx context.Context, url, path string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
