// Command benchmem measures the memory of a running node: its resident
// size (VmRSS and its peak VmHWM, from /proc), its live heap after a
// collection and its goroutines (from the node's pprof handlers,
// --pprof.profile), idle, with -peers peers connected, and (xlnd) after
// a restart with -channels open channels.
//
// It starts a btcd on regtest and a node, samples it idle, then opens
// -peers BOLT 8 connections to it from this process (itest/swarm: each
// peer with its own key, init exchanged, pings answered), waits until
// the node lists them all, lets it settle and samples it again. For the
// channels it starts a second xlnd, samples it idle, stops it, writes
// -channels open channels of its own wallet into its channel.db (the
// fixture of funding's BenchmarkStartupLoad, each with -states revoked
// states), starts it again and samples it once it settled. The
// channels' peer never connects: they are loaded into the switch as at
// any start and stay inactive.
//
// With $LND naming an lnd binary the operator built (nothing of lnd is in
// this repository), lnd is measured idle and with the peers in the same
// run, on the same btcd.
//
// Run it with make bench-mem (BENCHFLAGS="-peers 500 -channels 1000").
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"lnd.xprv/itest/harness"
)

type config struct {
	peers, channels, states int
	parallel                int
	settle                  time.Duration
	impls                   []string
	lnd                     string
	profDir                 string
	keep                    bool
}

func main() {
	var cfg config
	var impls string
	flag.IntVar(&cfg.peers, "peers", 500, "peers to connect (0: skip)")
	flag.IntVar(&cfg.channels, "channels", 1000, "open channels to start xlnd with (0: skip)")
	flag.IntVar(&cfg.states, "states", 1000, "revoked states in each channel's revocation log")
	flag.IntVar(&cfg.parallel, "parallel", 8, "peer handshakes in flight at once")
	flag.DurationVar(&cfg.settle, "settle", 15*time.Second, "wait before each sample")
	flag.StringVar(&impls, "impl", "xlnd,lnd", "implementations to measure with peers (lnd only if $LND is set)")
	flag.StringVar(&cfg.profDir, "profile", "", "write each sample's heap and goroutine profiles to this directory")
	flag.BoolVar(&cfg.keep, "keep", false, "keep the directory (logs, data)")
	flag.Parse()
	cfg.impls = strings.Split(impls, ",")
	cfg.lnd = os.Getenv("LND")
	if cfg.profDir != "" {
		if err := os.MkdirAll(cfg.profDir, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, cfg, os.Stdout, os.Stderr))
}

func run(ctx context.Context, cfg config, out, errOut io.Writer) int {
	logf := func(format string, args ...any) {
		fmt.Fprintf(errOut, time.Now().Format("15:04:05 ")+format+"\n", args...)
	}
	dir, err := os.MkdirTemp("", "xlnd-benchmem-")
	if err != nil {
		logf("benchmem: %v", err)
		return 1
	}
	nw, err := harness.NewNetwork(harness.Config{Dir: dir, DebugLevel: "info"})
	if err != nil {
		logf("benchmem: %v", err)
		return 1
	}
	var stops []func() error
	defer func() {
		for _, s := range stops {
			_ = s()
		}
		_ = nw.Stop()
		if cfg.keep {
			logf("benchmem: files kept in %s", dir)
		} else {
			os.RemoveAll(dir)
		}
	}()
	load := loadAverage()
	var peers []*peersResult
	if cfg.peers > 0 {
		for _, impl := range cfg.impls {
			var t *target
			var stop func() error
			switch impl {
			case "xlnd":
				t, stop, err = startXlnd(nw, cfg.peers)
			case "lnd":
				if cfg.lnd == "" {
					logf("benchmem: $LND not set: lnd not measured")
					continue
				}
				t, stop, err = startLnd(ctx, cfg.lnd, filepath.Join(dir, "lnd"), nw, cfg.peers)
			default:
				err = fmt.Errorf("unknown implementation %q", impl)
			}
			if err != nil {
				logf("benchmem: %s: %v", impl, err)
				return 1
			}
			stops = append(stops, stop)
			r := measurePeers(ctx, cfg, t, logf)
			// Each node is measured alone on the machine.
			_ = stop()
			if r.err != nil {
				logf("benchmem: %s with peers: %v", impl, r.err)
			}
			peers = append(peers, r)
		}
	}
	var chans *chansResult
	if cfg.channels > 0 {
		chans = measureChannels(ctx, cfg, nw, logf)
		if chans.err != nil {
			logf("benchmem: channels: %v", chans.err)
		}
	}
	report(out, peers, chans, load, loadAverage())
	if ctx.Err() != nil {
		return 1
	}
	for _, r := range peers {
		if r.err != nil {
			return 1
		}
	}
	if chans != nil && chans.err != nil {
		return 1
	}
	return 0
}

// startXlnd starts an xlnd that takes room for peers inbound peers, with
// its profiler on.
func startXlnd(nw *harness.Network, peers int) (*target, func() error, error) {
	pprof, err := freePort()
	if err != nil {
		return nil, nil, err
	}
	node, err := nw.NewNode("peers", "--pprof.profile="+pprof,
		fmt.Sprintf("--maxinboundpeers=%d", peers+10))
	if err != nil {
		return nil, nil, err
	}
	t, err := xlndTarget(node, pprof)
	if err != nil {
		return nil, nil, err
	}
	return t, node.Stop, nil
}

// loadAverage is /proc/loadavg's first three fields.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func report(out io.Writer, peers []*peersResult, chans *chansResult, loadStart, loadEnd string) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "impl\tstate\tRSS\tanon\tfile\tpeak RSS\tlive heap\theap in use\tstacks\truntime\tgoroutines\t")
	row := func(impl, state string, s sample) {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t\n", impl, state,
			mib(s.rss), mib(s.rssAnon), mib(s.rssFile), mib(s.hwm), mib(s.heapAlloc),
			mib(s.heapInuse), mib(s.stack), mib(s.runtime), s.goroutines)
	}
	// per is the cost of one of n (peers, channels): loaded less idle.
	per := func(impl, what string, n int, idle, loaded sample) {
		kib := func(a, b int64) string {
			return fmt.Sprintf("%.1f KiB", float64(b-a)/float64(n)/1024)
		}
		fmt.Fprintf(w, "%s\tper %s\t%s\t%s\t%s\t\t%s\t%s\t%s\t\t%.1f\t\n", impl, what,
			kib(idle.rss, loaded.rss), kib(idle.rssAnon, loaded.rssAnon),
			kib(idle.rssFile, loaded.rssFile), kib(idle.heapAlloc, loaded.heapAlloc),
			kib(idle.heapInuse, loaded.heapInuse), kib(idle.stack, loaded.stack),
			float64(loaded.goroutines-idle.goroutines)/float64(n))
	}
	for _, r := range peers {
		if r.err != nil {
			fmt.Fprintf(w, "%s\t%d peers\tnot measured\t\t\t\t\t\t\t\t\t\n", r.impl, r.n)
			continue
		}
		row(r.impl, "idle", r.idle)
		row(r.impl, fmt.Sprintf("%d peers", r.n), r.loaded)
		per(r.impl, "peer", r.n, r.idle, r.loaded)
	}
	if chans != nil {
		if chans.err != nil {
			fmt.Fprintf(w, "xlnd\t%d channels\tnot measured\t\t\t\t\t\t\t\t\t\n", chans.n)
		} else {
			row("xlnd", "idle (channel node)", chans.idle)
			row("xlnd", fmt.Sprintf("%d channels", chans.n), chans.loaded)
			per("xlnd", "channel", chans.n, chans.idle, chans.loaded)
		}
	}
	w.Flush()
	for _, r := range peers {
		if r.err == nil {
			fmt.Fprintf(out, "%s: %d peers connected and listed in %.1fs\n", r.impl, r.n,
				r.connected.Seconds())
		} else {
			fmt.Fprintf(out, "%s with %d peers not measured: %v\n", r.impl, r.n, r.err)
		}
	}
	if chans != nil {
		if chans.err == nil {
			fmt.Fprintf(out, "xlnd: start to active with %d channels (%d revoked states each, "+
				"channel.db %s): %.2fs; with none: %.2fs\n", chans.n, chans.states,
				mib(chans.fileSize), chans.startup.Seconds(), chans.emptyUp.Seconds())
		} else {
			fmt.Fprintf(out, "xlnd with %d channels not measured: %v\n", chans.n, chans.err)
		}
	}
	fmt.Fprintf(out, "load average at start %s, at end %s\n", loadStart, loadEnd)
}
