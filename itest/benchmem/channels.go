package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"

	"lnd.xprv/channeldb"
	"lnd.xprv/funding"
	"lnd.xprv/internal/regtest"
	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/wallet"
)

// chansResult is a node's memory with no channels and after a restart
// with n open channels.
type chansResult struct {
	n, states int
	idle      sample
	loaded    sample
	startup   time.Duration // "xlnd starting" to "xlnd is active" in its log
	emptyUp   time.Duration // the same for a restart with no channel
	listed    int           // channels ListChannels shows after the restart
	fileSize  int64         // channel.db
	err       error
}

// measureChannels starts an xlnd, samples it idle, stops it, writes
// cfg.channels open channels of its own wallet into its channel.db (the
// fixture of funding's BenchmarkStartupLoad), starts it again on that
// file and samples it once it settled. The channels' peer is a key no
// process holds: the channels stay inactive, their links loaded in the
// switch as at any start, waiting for a peer that never comes.
func measureChannels(ctx context.Context, cfg config, nw *harness.Network,
	logf func(string, ...any)) *chansResult {

	r := &chansResult{n: cfg.channels, states: cfg.states}
	pprof, err := freePort()
	if err != nil {
		r.err = err
		return r
	}
	node, err := nw.AddNode(harness.NodeConfig{Name: "channels",
		ExtraArgs: []string{"--pprof.profile=" + pprof}})
	if err == nil {
		err = node.Start()
	}
	if err != nil {
		r.err = err
		return r
	}
	t, err := xlndTarget(node, pprof)
	if err != nil {
		r.err = err
		return r
	}
	// Measured after a restart, as the node with channels is: the first
	// start created the wallet.
	if r.err = node.Restart(); r.err != nil {
		return r
	}
	if r.emptyUp, r.err = startupTime(node); r.err != nil {
		return r
	}
	sleep(ctx, cfg.settle)
	if r.idle, r.err = measure(ctx, t.pid(), t.pprof); r.err != nil {
		return r
	}
	logf("benchmem: xlnd (channel node) idle: %s", r.idle)
	if r.err = node.Stop(); r.err != nil {
		return r
	}
	tip, err := nw.TipHeight()
	if err != nil {
		r.err = err
		return r
	}
	logf("benchmem: writing %d channels with %d revoked states each", cfg.channels, cfg.states)
	// The channels confirmed above the tip: the court's spend watch
	// then scans no block for them, as it scans none for a real
	// channel whose funding output btcd reports unspent.
	if r.fileSize, r.err = writeChannels(node, cfg.channels, cfg.states, uint32(tip)+1); r.err != nil {
		return r
	}
	logf("benchmem: channel.db is %s; restarting", mib(r.fileSize))
	if r.err = node.Start(); r.err != nil {
		return r
	}
	if r.startup, r.err = startupTime(node); r.err != nil {
		return r
	}
	if r.listed, r.err = listChannels(ctx, t.rpc()); r.err != nil {
		return r
	}
	if r.listed != cfg.channels {
		r.err = fmt.Errorf("node lists %d channels after the restart, want %d",
			r.listed, cfg.channels)
		return r
	}
	logf("benchmem: active %v after start with %d channels; settling %v",
		r.startup.Round(time.Millisecond), r.listed, cfg.settle)
	sleep(ctx, cfg.settle)
	if r.loaded, r.err = measure(ctx, t.pid(), t.pprof); r.err != nil {
		return r
	}
	logf("benchmem: xlnd with %d channels: %s", cfg.channels, r.loaded)
	if cfg.profDir != "" {
		r.err = saveProfiles(ctx, t.pprof, filepath.Join(cfg.profDir,
			fmt.Sprintf("xlnd-%dchannels", cfg.channels)))
	}
	return r
}

// writeChannels opens the stopped node's wallet and channel database
// and writes n channels of that wallet, each at commitment states; it
// returns the database file's size.
func writeChannels(node *harness.Node, n, states int, firstHeight uint32) (int64, error) {
	dataDir := filepath.Join(node.DataDir(), "data")
	w, err := wallet.Open(wallet.Config{
		DBPath: filepath.Join(dataDir, "chain", "bitcoin", regtest.Params.Name, "wallet.db"),
		Net:    regtest.Params})
	if err != nil {
		return 0, fmt.Errorf("node's wallet: %w", err)
	}
	defer w.Stop()
	// A --noseedbackup wallet opens with no password.
	if err := w.Unlock(nil); err != nil {
		return 0, fmt.Errorf("node's wallet: %w", err)
	}
	path := filepath.Join(dataDir, "graph", regtest.Params.Name, "channel.db")
	db, err := channeldb.Open(path, channeldb.WithNoSync())
	if err != nil {
		return 0, err
	}
	peer, err := btcec.NewPrivateKey()
	if err != nil {
		db.Close()
		return 0, err
	}
	err = funding.WriteScaleChannels(db, w, peer.PubKey(), n, states, firstHeight)
	// Unsynced writes reach the disk at close (bbolt syncs the file
	// there only if asked; the page cache holds them for the node).
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// startupTime is the time between the last start's first log line and
// the one saying the node is active: opening the databases, loading every
// channel into the switch, starting the subsystems and the RPC server.
func startupTime(node *harness.Node) (time.Duration, error) {
	at := func(msg string) (time.Time, error) {
		lines := node.LogLines(msg)
		if len(lines) == 0 {
			return time.Time{}, fmt.Errorf("no %q in %s's log", msg, node.Name())
		}
		line := lines[len(lines)-1]
		v, ok := strings.CutPrefix(line, "time=")
		if !ok {
			return time.Time{}, fmt.Errorf("log line without time: %q", line)
		}
		v, _, _ = strings.Cut(v, " ")
		return time.Parse(time.RFC3339Nano, v)
	}
	start, err := at(`msg="xlnd starting"`)
	if err != nil {
		return 0, err
	}
	active, err := at(`msg="xlnd is active"`)
	if err != nil {
		return 0, err
	}
	if active.Before(start) {
		return 0, errors.New("log: active before the last start")
	}
	return active.Sub(start), nil
}

// listChannels counts the channels the node lists, active or not.
func listChannels(ctx context.Context, rpc lnrpc.LightningClient) (int, error) {
	resp, err := rpc.ListChannels(ctx, &lnrpc.ListChannelsRequest{})
	if err != nil {
		return 0, err
	}
	return len(resp.Channels), nil
}
