package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"strings"
	"time"
)

// pprofConfig is lnd's pprof group: the same flags, the same meaning.
type pprofConfig struct {
	Profile         string `long:"profile" description:"serve Go's HTTP profiling (pprof) on this port or host:port (a bare port listens on localhost only)"`
	BlockingProfile int    `long:"blockingprofile" description:"sample one blocking event per this many nanoseconds blocked, for the profiler's block profile (0: off)"`
	MutexProfile    int    `long:"mutexprofile" description:"sample one mutex contention event in this many, for the profiler's mutex profile (0: off)"`
}

// startProfiler serves Go's pprof handlers on --pprof.profile and sets
// the block and mutex sampling rates. It returns the function that stops
// the server; with no --pprof.profile it does nothing.
func startProfiler(cfg *config, log *slog.Logger) (func(), error) {
	runtime.SetBlockProfileRate(cfg.Pprof.BlockingProfile)
	runtime.SetMutexProfileFraction(cfg.Pprof.MutexProfile)
	if cfg.Pprof.Profile == "" {
		return func() {}, nil
	}
	addr := cfg.Pprof.Profile
	if !strings.Contains(addr, ":") {
		addr = net.JoinHostPort("localhost", addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--pprof.profile: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("Profiler stopped", "err", err)
		}
	}()
	log.Info("Profiler listening", "addr", l.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}
