// Command benchpay measures payment throughput the way an app makes
// payments: through the REST API, POST /v1/invoices on the payee, then
// POST /v2/router/send on the payer, streamed until the payment is final.
// It starts a btcd on regtest and three nodes (alice, bob, carol), opens
// alice→bob and bob→carol, and makes -n payments with -c concurrent
// payers over one hop (alice pays bob) and two hops (alice pays carol,
// bob forwarding). It prints payments per second (failures count against
// it), the p50 and p99 latency of the payments (send to final status)
// and the failures.
//
// It measures xlnd (bin/xlnd) and, if $LND names an lnd binary the
// operator built, lnd in the same run on the same btcd, so that the
// figures sit side by side. Nothing of lnd is in this repository.
//
// With -payer-db=etcd, xlnd's alice (the payer of both shapes) keeps her
// databases in an etcd the tool starts in its own process (fsync on), as
// a node of a cluster does: --db.backend=etcd.
//
// Run it with make bench-pay (BENCHFLAGS="-n 5000 -c 100").
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/btcsuite/btcd/btcutil"

	"lnd.xprv/itest/harness"
)

// chanAmt is each channel's capacity: room for every payment of a run.
const chanAmt btcutil.Amount = 10_000_000

type config struct {
	n, c    int
	amt     int64
	timeout time.Duration
	impls   []string
	shapes  []string
	lnd     string
	keep    bool
	payerDB string
	prof    *profiler
}

func main() {
	var cfg config
	var impls, shapes string
	flag.IntVar(&cfg.n, "n", 2000, "payments per shape")
	flag.IntVar(&cfg.c, "c", 100, "concurrent payers")
	flag.Int64Var(&cfg.amt, "amt", 10, "satoshis per payment")
	flag.DurationVar(&cfg.timeout, "timeout", 60*time.Second, "each payment's timeout_seconds")
	flag.StringVar(&impls, "impl", "xlnd,lnd", "implementations to measure (lnd only if $LND is set)")
	flag.StringVar(&shapes, "shapes", "1hop,2hop", "shapes to measure")
	flag.BoolVar(&cfg.keep, "keep", false, "keep the directory (logs, data)")
	flag.StringVar(&cfg.payerDB, "payer-db", "bolt", "xlnd alice's database: bolt, or etcd (started by the tool)")
	profDir := flag.String("profile", "", "write the nodes' CPU, block and mutex profiles of each load to this directory")
	profSecs := flag.Int("profile-seconds", 10, "length of each CPU profile, from the start of the load")
	// One P: the tool's payers mostly wait on the network, and with two
	// its idle P spun in the scheduler on every wake-up, on the cores the
	// nodes under test use (docs/benchmarks.md, branch restpath).
	procs := flag.Int("procs", 1, "the tool's own GOMAXPROCS (0: Go's default); the nodes' are not affected")
	flag.Parse()
	if *procs > 0 {
		runtime.GOMAXPROCS(*procs)
	}
	cfg.impls, cfg.shapes = strings.Split(impls, ","), strings.Split(shapes, ",")
	cfg.lnd = os.Getenv("LND")
	if *profDir != "" {
		if err := os.MkdirAll(*profDir, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		cfg.prof = &profiler{dir: *profDir, seconds: *profSecs}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, cfg, os.Stdout, os.Stderr))
}

func run(ctx context.Context, cfg config, out, errOut io.Writer) int {
	logf := func(format string, args ...any) {
		fmt.Fprintf(errOut, time.Now().Format("15:04:05 ")+format+"\n", args...)
	}
	dir, err := os.MkdirTemp("", "xlnd-benchpay-")
	if err != nil {
		logf("benchpay: %v", err)
		return 1
	}
	nw, err := harness.NewNetwork(harness.Config{Dir: dir, DebugLevel: "info"})
	if err != nil {
		logf("benchpay: %v", err)
		return 1
	}
	c := &chain{btcd: nw.Btcd()}
	var nets []*trio
	var stops []func() error
	stopEtcd := func() {}
	defer func() {
		for _, s := range stops {
			_ = s()
		}
		_ = nw.Stop()
		stopEtcd() // after alice: she stops if etcd goes first
		if cfg.keep {
			logf("benchpay: files kept in %s", dir)
		} else {
			os.RemoveAll(dir)
		}
	}()
	for _, impl := range cfg.impls {
		var n *trio
		switch impl {
		case "xlnd":
			var payerArgs []string
			payerArgs, stopEtcd, err = payerDBArgs(cfg.payerDB, filepath.Join(dir, "etcd"))
			if err == nil {
				n, err = startXlnd(nw, cfg.c, cfg.prof != nil, payerArgs)
			}
		case "lnd":
			if cfg.lnd == "" {
				logf("benchpay: $LND not set: lnd not measured")
				continue
			}
			n, err = startLnds(ctx, cfg.lnd, filepath.Join(dir, "lnd"), c, cfg.c,
				cfg.prof != nil)
			if n != nil {
				for _, node := range n.nodes() {
					stops = append(stops, node.stopped)
				}
			}
		default:
			err = fmt.Errorf("unknown implementation %q", impl)
		}
		if err == nil {
			logf("benchpay: %s: opening channels", impl)
			err = c.build(ctx, n, chanAmt, logf)
		}
		if err != nil {
			logf("benchpay: %s: %v", impl, err)
			return 1
		}
		nets = append(nets, n)
	}

	var results []*result
	for _, n := range nets {
		for _, name := range cfg.shapes {
			err := canPay(ctx, n.alice)
			var s shape
			if err == nil {
				s, err = shapeOf(n, name, cfg.amt)
			}
			if err == nil {
				err = warmUp(ctx, s, cfg.c, cfg.timeout)
			}
			if err != nil {
				logf("benchpay: %s %s: not measured: %v", n.impl, name, err)
				results = append(results, &result{impl: n.impl, shape: name,
					n: cfg.n, c: cfg.c, firstErr: err})
				continue
			}
			logf("benchpay: %s %s: %d payments, %d payers", n.impl, name, cfg.n, cfg.c)
			var r *result
			var cpu []nodeCPU
			files := cfg.prof.during(ctx, n.impl, name, n.nodes(), func() {
				m := startCPU(n.nodes())
				r = runLoad(ctx, n.impl, s, cfg.n, cfg.c, cfg.timeout)
				cpu = m.stop()
			})
			r.cpu = cpu
			for _, f := range files {
				logf("benchpay: profile %s (go tool pprof -top %s)", f, f)
			}
			if len(files) > 0 {
				w := time.Duration(cfg.prof.seconds) * time.Second
				logf("benchpay: %s %s: %d payments succeeded in the CPU profiles' %v "+
					"(CPU per payment: a profile's samples over this)", n.impl, name, r.settledWithin(w), w)
			}
			results = append(results, r)
			if r.firstErr != nil {
				logf("benchpay: %s %s: first failure: %v", n.impl, name, r.firstErr)
			}
		}
	}
	report(out, results)
	if ctx.Err() != nil {
		return 1
	}
	return 0
}

// shapeOf is a named shape of n; in the two-hop one carol's invoices
// carry her private channel from bob as a route hint.
func shapeOf(n *trio, name string, amt int64) (shape, error) {
	switch name {
	case "1hop":
		return shape{name: name, payer: n.alice, payee: n.bob, amtSat: amt}, nil
	case "2hop":
		return shape{name: name, payer: n.alice, payee: n.carol, amtSat: amt,
			hints: true}, nil
	}
	return shape{}, fmt.Errorf("unknown shape %q", name)
}

// canPay reports an error if the node does not serve POST
// /v2/router/send at all (HTTP 404 or 501): asked with no payment
// request, a node that pays refuses the request instead.
func canPay(ctx context.Context, n *restNode) error {
	err := n.stream(ctx, "POST", "/v2/router/send", map[string]any{},
		func([]byte) (bool, error) { return true, nil })
	if err != nil && (strings.Contains(err.Error(), "HTTP 404") ||
		strings.Contains(err.Error(), "HTTP 501")) {

		return fmt.Errorf("SendPaymentV2 not served: %w", err)
	}
	return nil
}

// warmUp makes one payment, retried for a minute: a node may call a
// channel active a moment before it routes over it. A node that cannot
// pay at all (the call not implemented) says so once, instead of n
// times.
func warmUp(ctx context.Context, s shape, conns int, timeout time.Duration) error {
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := payOne(ctx, s, timeout)
		switch {
		case err == nil:
			// An app's connections are open before it pays: the
			// load measures payments, not TLS handshakes.
			s.payer.openConns(ctx, conns)
			s.payee.openConns(ctx, conns)
			return nil
		case strings.Contains(err.Error(), "HTTP 404"),
			strings.Contains(err.Error(), "HTTP 501"),
			time.Now().After(deadline), ctx.Err() != nil:
			return err
		}
		time.Sleep(time.Second)
	}
}

func report(out io.Writer, results []*result) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "impl\tshape\tpayments\tpayers\tpayments/s\tp50\tp99\tfailures\telapsed\t")
	for _, r := range results {
		if r.ok == 0 && r.failed == 0 {
			fmt.Fprintf(w, "%s\t%s\t%d\t%d\tnot measured\t\t\t\t\t\n", r.impl, r.shape, r.n, r.c)
			continue
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%.1f\t%.3fs\t%.3fs\t%d\t%.1fs\t\n", r.impl,
			r.shape, r.n, r.c, r.perSecond(), r.quantile(0.5).Seconds(),
			r.quantile(0.99).Seconds(), r.failed, r.elapsed.Seconds())
	}
	w.Flush()

	// CPU per payment: each process's CPU time over the load (user and
	// system, from rusage and /proc) over the payments that succeeded.
	fmt.Fprintln(out)
	w = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "CPU ms/payment\tshape\tbenchpay\talice\tbob\tcarol\t")
	for _, r := range results {
		if r.ok == 0 || len(r.cpu) == 0 {
			continue
		}
		fmt.Fprintf(w, "%s\t%s\t", r.impl, r.shape)
		for _, c := range r.cpu {
			fmt.Fprintf(w, "%.3f\t", float64(c.cpu.Microseconds())/1000/float64(r.ok))
		}
		fmt.Fprintln(w)
	}
	w.Flush()

	// The nodes' resident size (VmRSS) at the end of each load.
	fmt.Fprintln(out)
	w = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "RSS MiB after\tshape\talice\tbob\tcarol\t")
	for _, r := range results {
		if len(r.cpu) < 2 {
			continue
		}
		fmt.Fprintf(w, "%s\t%s\t", r.impl, r.shape)
		for _, c := range r.cpu[1:] {
			fmt.Fprintf(w, "%.1f\t", float64(c.rss)/(1<<20))
		}
		fmt.Fprintln(w)
	}
	w.Flush()
	for _, r := range results {
		if r.ok == 0 && r.failed == 0 && r.firstErr != nil {
			fmt.Fprintf(out, "%s %s not measured: %v\n", r.impl, r.shape, r.firstErr)
		}
	}
}

// startXlnd starts alice, bob and carol as xlnd processes.
func startXlnd(nw *harness.Network, conns int, profile bool, payerArgs []string) (*trio, error) {
	n := &trio{impl: "xlnd"}
	if len(payerArgs) > 0 {
		n.impl = "xlnd (alice on etcd)"
	}
	for _, p := range []**restNode{&n.alice, &n.bob, &n.carol} {
		name := [...]string{"alice", "bob", "carol"}[len(nw.Nodes())]
		var args []string
		if name == "alice" {
			args = append(args, payerArgs...)
		}
		var prof string
		if profile {
			var err error
			if prof, err = freePort(); err != nil {
				return nil, err
			}
			args = append(args, profileArgs(prof)...)
		}
		node, err := nw.NewNode(name, args...)
		if err != nil {
			return nil, err
		}
		*p, err = newRESTNode("xlnd-"+name, node.RESTAddr(), node.P2PAddr(),
			node.TLSCertPath(), node.AdminMacaroonPath(), conns)
		if err != nil {
			return nil, err
		}
		(*p).pprof = prof
		(*p).pid = node.PID()
	}
	return n, nil
}

// startLnds starts alice, bob and carol as lnd processes.
func startLnds(ctx context.Context, bin, dir string, c *chain, conns int,
	profile bool) (*trio, error) {
	n := &trio{impl: "lnd"}
	var errs []error
	for i, p := range []**restNode{&n.alice, &n.bob, &n.carol} {
		name := [...]string{"alice", "bob", "carol"}[i]
		node, err := startLnd(ctx, bin, filepath.Join(dir, name), name, c.btcd,
			conns, profile)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		*p = node
	}
	if len(errs) > 0 {
		for _, node := range n.nodes() {
			if node != nil {
				_ = node.stopped()
			}
		}
		return nil, errors.Join(errs...)
	}
	return n, nil
}

// payerDBArgs returns alice's options for her database db and how to
// stop what it started: nothing for the default bbolt files; for etcd, an
// etcd with its data in dir.
func payerDBArgs(db, dir string) ([]string, func(), error) {
	switch db {
	case "bolt", "":
		return nil, func() {}, nil
	case "etcd":
		endpoint, stop, err := startEtcd(dir)
		if err != nil {
			return nil, func() {}, err
		}
		return []string{"--db.backend=etcd", "--db.etcd.host=" + endpoint,
			"--db.etcd.disabletls", "--db.etcd.namespace=benchpay"}, stop, nil
	}
	return nil, func() {}, fmt.Errorf("unknown -payer-db %q (bolt or etcd)", db)
}
