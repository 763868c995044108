// Command demo starts a small regtest Lightning network on this machine: a
// btcd and three xlnd nodes (alice, bob, carol) in a temporary directory,
// each funded from mined coins, connected in a triangle (alice to bob, bob
// to carol, carol to alice), each opening a channel to the next; alice pays
// carol across bob. It prints the payment, each node's getinfo and the
// xlncli command lines that reach each node, make more payments, list its
// channels and close them, then runs until Ctrl-C (or -exit-after), stops
// everything and removes the directory.
//
// Run it with make demo, which builds bin/xlnd, bin/xlncli and bin/btcd
// first.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"google.golang.org/protobuf/encoding/protojson"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
)

// fundAmount is what each node gets from the miner, in satoshis.
const fundAmount = 100_000_000

// The demo's channels: capacity and push, in satoshis.
const (
	chanAmount = 5_000_000
	chanPush   = 1_000_000
)

func main() {
	exitAfter := flag.Duration("exit-after", 0,
		"stop by itself this long after the network is up (0: run until Ctrl-C)")
	keep := flag.Bool("keep", false, "keep the directory (logs, data) after stopping")
	debugLevel := flag.String("debuglevel", "info", "the nodes' --debuglevel")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Stdout, os.Stderr, *exitAfter, *keep, *debugLevel))
}

func run(ctx context.Context, out, errOut io.Writer, exitAfter time.Duration, keep bool, debugLevel string) int {
	logf := func(format string, args ...any) {
		fmt.Fprintf(errOut, time.Now().Format("15:04:05 ")+format+"\n", args...)
	}
	dir, err := os.MkdirTemp("", "xlnd-demo-")
	if err != nil {
		logf("demo: %v", err)
		return 1
	}
	fmt.Fprintf(out, "xlnd demo: files in %s\n", dir)

	nw, err := harness.NewNetwork(harness.Config{Dir: dir, DebugLevel: debugLevel, Logf: logf})
	if err != nil {
		logf("demo: %v", err)
		logf("demo: files kept in %s", dir)
		return 1
	}
	err = setUp(ctx, nw, out, logf)
	if err == nil {
		err = wait(ctx, exitAfter, logf)
	}

	if errors.Is(err, context.Canceled) {
		err = nil // Ctrl-C while starting up
	}
	// A second Ctrl-C kills the demo at once; the kernel then kills the
	// nodes and btcd (they die with their parent).
	signal.Reset(os.Interrupt, syscall.SIGTERM)
	logf("demo: stopping (Ctrl-C again to kill everything at once)")
	if stopErr := nw.StopNodes(); stopErr != nil {
		err = errors.Join(err, stopErr)
	}
	if stopErr := nw.StopBtcd(); stopErr != nil {
		// Ctrl-C in a terminal reaches every process of the foreground
		// group, btcd too, which then stops by itself before we ask.
		if ctx.Err() == nil {
			err = errors.Join(err, stopErr)
		} else {
			logf("demo: btcd: %v", stopErr)
		}
	}
	if err != nil {
		logf("demo: %v", err)
		for _, n := range nw.Nodes() {
			logf("demo: last lines of %s's output %s (log file %s):\n%s",
				n.Name(), n.OutputPath(), n.LogPath(), n.LogTail(30))
		}
		logf("demo: files kept in %s", dir)
		return 1
	}
	if keep {
		logf("demo: files kept in %s", dir)
		return 0
	}
	if err := os.RemoveAll(dir); err != nil {
		logf("demo: %v", err)
		return 1
	}
	logf("demo: removed %s", dir)
	return 0
}

// wait returns at Ctrl-C, SIGTERM or after exitAfter (if not zero).
func wait(ctx context.Context, exitAfter time.Duration, logf func(string, ...any)) error {
	var timeout <-chan time.Time
	if exitAfter > 0 {
		timeout = time.After(exitAfter)
		logf("demo: running; stopping by itself in %v", exitAfter)
	} else {
		logf("demo: running; press Ctrl-C to stop everything")
	}
	select {
	case <-ctx.Done():
	case <-timeout:
	}
	return nil
}

// setUp starts, funds and connects the three nodes and prints how to reach
// them.
func setUp(ctx context.Context, nw *harness.Network, out io.Writer, logf func(string, ...any)) error {
	names := []string{"alice", "bob", "carol"}
	var nodes []*harness.Node
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return err
		}
		// Every node takes keysend payments, so that the printed
		// sendpayment --keysend lines work.
		n, err := nw.NewNode(name, "--accept-keysend")
		if err != nil {
			return err
		}
		logf("demo: %s is up: %s", name, n.URI())
		nodes = append(nodes, n)
	}
	for _, n := range nodes {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := nw.Fund(n, fundAmount); err != nil {
			return err
		}
		logf("demo: %s funded with %d sat", n.Name(), fundAmount)
	}
	alice, bob, carol := nodes[0], nodes[1], nodes[2]
	pairs := [][2]*harness.Node{{alice, bob}, {bob, carol}, {carol, alice}}
	for _, pair := range pairs {
		if err := nw.ConnectNodes(pair[0], pair[1], true); err != nil {
			return err
		}
		logf("demo: %s connected to %s (persistent)", pair[0].Name(), pair[1].Name())
	}
	points, err := openChannels(ctx, nw, pairs, logf)
	if err != nil {
		return err
	}

	ab, err := chanID(ctx, alice, points[0])
	if err != nil {
		return err
	}
	bc, err := chanID(ctx, carol, points[1])
	if err != nil {
		return err
	}
	pay, err := payCarol(ctx, alice, bob, carol, ab, bc, out, logf)
	if err != nil {
		return err
	}

	// lncli's layout: protojson's field names, re-indented (protojson
	// itself varies its whitespace on purpose).
	marshal := protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}
	for _, n := range nodes {
		info, err := n.Info()
		if err != nil {
			return err
		}
		js, err := marshal.Marshal(info)
		if err != nil {
			return err
		}
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, js, "", "    "); err != nil {
			return err
		}
		fmt.Fprintf(out, "\n=== %s getinfo ===\n%s\n", n.Name(), pretty.Bytes())
	}

	cwd, _ := os.Getwd()
	rel := func(p string) string {
		if r, err := filepath.Rel(cwd, p); err == nil && !strings.HasPrefix(r, "..") {
			return r
		}
		return p
	}
	// What an operator tries first on each node; the payment and close
	// lines follow.
	operatorCommands := []string{"getinfo", "listpeers", "walletbalance", "newaddress p2wkh",
		"listchannels", "pendingchannels", "channelbalance", "closedchannels"}
	fmt.Fprintf(out, "\n=== talk to the nodes ===\n")
	cliOf := func(n *harness.Node) string {
		return rel(n.CLIPath()) + " " + strings.Join(n.CLIArgs(), " ")
	}
	for _, n := range nodes {
		fmt.Fprintf(out, "# %s\n", n.Name())
		for _, cmd := range operatorCommands {
			fmt.Fprintf(out, "%s %s\n", cliOf(n), cmd)
		}
	}
	aliceCLI, carolCLI := cliOf(alice), cliOf(carol)
	fmt.Fprintf(out, "\n# payments: alice pays carol's invoice across bob, keysends to bob, lists\n")
	fmt.Fprintf(out, "%s payinvoice --force %s\n", aliceCLI, pay.carolInvoice)
	fmt.Fprintf(out, "%s sendpayment --dest %s --amt 100 --keysend\n", aliceCLI, bob.PubKey())
	fmt.Fprintf(out, "%s listpayments\n", aliceCLI)
	fmt.Fprintf(out, "%s listinvoices\n", carolCLI)

	// Each channel closed cooperatively by its opener; the closes are
	// final three blocks (the btcctl line below) later.
	fmt.Fprintf(out, "\n# close the channels\n")
	for i, pair := range pairs {
		fmt.Fprintf(out, "%s closechannel --chan_point %s\n", cliOf(pair[0]), points[i])
	}
	// btcctl reads ~/.btcctl/btcctl.conf and, missing it, complains about
	// btcd's; a config file of its own keeps the line short and quiet.
	b := nw.Btcd()
	conf := filepath.Join(nw.Dir(), "btcctl.conf")
	confText := fmt.Sprintf("regtest=1\nrpcserver=%s\nrpcuser=%s\nrpcpass=%s\nrpccert=%s\n",
		b.RPCHost(), b.RPCUser(), b.RPCPass(), b.RPCCertPath())
	if err := os.WriteFile(conf, []byte(confText), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(out, "\n# mine a block\n%s --configfile=%s generate 1\n",
		rel(filepath.Join(nw.BinDir(), "btcctl")), conf)
	fmt.Fprintf(out, "\n# logs\n")
	for _, n := range nodes {
		fmt.Fprintf(out, "%s: %s\n", n.Name(), n.LogPath())
	}
	fmt.Fprintln(out)
	return nil
}

// openChannels opens a channel from the first node of each pair to the
// second, mines the blocks that confirm them, and waits until every
// channel is active on both sides. It returns the channel points.
func openChannels(ctx context.Context, nw *harness.Network, pairs [][2]*harness.Node,
	logf func(string, ...any)) ([]string, error) {

	var points []string
	for _, pair := range pairs {
		from, to := pair[0], pair[1]
		pub, err := hexDecode(to.PubKey())
		if err != nil {
			return nil, err
		}
		cp, err := from.RPC.OpenChannelSync(ctx, &lnrpc.OpenChannelRequest{
			NodePubkey: pub, LocalFundingAmount: chanAmount, PushSat: chanPush})
		if err != nil {
			return nil, fmt.Errorf("%s opens to %s: %w", from.Name(), to.Name(), err)
		}
		txid, err := chainhash.NewHash(cp.GetFundingTxidBytes())
		if err != nil {
			return nil, err
		}
		if _, err := nw.WaitTx(txid.String()); err != nil {
			return nil, err
		}
		points = append(points, fmt.Sprintf("%s:%d", txid, cp.OutputIndex))
		logf("demo: %s opened a channel to %s: %s", from.Name(), to.Name(), points[len(points)-1])
	}
	if _, err := nw.Mine(6); err != nil {
		return nil, err
	}
	for _, pair := range pairs {
		for _, n := range pair {
			err := harness.WaitFor(func() error {
				resp, err := n.RPC.ListChannels(ctx, &lnrpc.ListChannelsRequest{ActiveOnly: true})
				if err != nil {
					return err
				}
				if len(resp.Channels) != 2 {
					return fmt.Errorf("%s: %d active channels", n.Name(), len(resp.Channels))
				}
				return nil
			}, harness.SyncTimeout)
			if err != nil {
				return nil, err
			}
		}
	}
	logf("demo: the channels are active")
	return points, nil
}

func hexDecode(s string) ([]byte, error) {
	b := make([]byte, len(s)/2)
	_, err := fmt.Sscanf(s, "%x", &b)
	return b, err
}
