package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"lnd.xprv/itest/harness"
	"lnd.xprv/itest/internal/lndproc"
	"lnd.xprv/rpc/lnrpc"
)

// startLnd starts the lnd binary at bin (one the operator built) on the
// network's btcd, in dir, with its profiler on and room for peers
// inbound peers without channels (lnd's --num-restricted-slots, 100 by
// default), and returns it once it answers GetInfo.
func startLnd(ctx context.Context, bin, dir string, nw *harness.Network,
	peers int) (*target, func() error, error) {

	pprof, err := freePort()
	if err != nil {
		return nil, nil, err
	}
	p, err := lndproc.Start(lndproc.Config{Bin: bin, Dir: dir, Name: "peers",
		Btcd: nw.Btcd(), Args: []string{"--pprof.profile=" + pprof,
			fmt.Sprintf("--num-restricted-slots=%d", peers+10)}})
	if err != nil {
		return nil, nil, err
	}
	var rpc lnrpc.LightningClient
	var info *lnrpc.GetInfoResponse
	deadline := time.Now().Add(2 * time.Minute)
	for {
		err = func() error {
			if p.Exited() {
				return errors.New("lnd exited; see " + p.Output)
			}
			if _, err := os.Stat(p.MacaroonPath); err != nil {
				return err
			}
			if rpc == nil {
				conn, err := dialRPC(p.RPCAddr, p.CertPath, p.MacaroonPath)
				if err != nil {
					return err
				}
				rpc = lnrpc.NewLightningClient(conn)
			}
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			info, err = rpc.GetInfo(ctx, &lnrpc.GetInfoRequest{})
			return err
		}()
		if err == nil || p.Exited() || time.Now().After(deadline) || !sleep(ctx, time.Second) {
			break
		}
	}
	if err != nil {
		p.Stop()
		return nil, nil, fmt.Errorf("lnd: %w", err)
	}
	key, err := parseKey(info.IdentityPubkey)
	if err != nil {
		p.Stop()
		return nil, nil, err
	}
	return &target{name: "lnd", pid: p.PID, pprof: pprof, p2p: p.P2PAddr, pubKey: key,
		rpc: func() lnrpc.LightningClient { return rpc }}, p.Stop, nil
}
