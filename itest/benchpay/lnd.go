package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"lnd.xprv/internal/regtest"
	"lnd.xprv/itest/internal/lndproc"
)

// startLnd starts the lnd binary at bin (one the operator built; nothing
// of lnd is in this repository) on btcd, in dir, and returns its REST
// API once it answers. Its output goes to dir/lnd.out.
func startLnd(ctx context.Context, bin, dir, name string, btcd *regtest.Btcd,
	conns int, profile bool) (*restNode, error) {

	profAddr, err := freePort()
	if err != nil {
		return nil, err
	}
	// Gossip at once, not every 90 s: the two-hop shape needs alice to
	// learn bob's channel to carol.
	args := []string{"--trickledelay=50"}
	if profile {
		args = append(args, profileArgs(profAddr)...)
	}
	p, err := lndproc.Start(lndproc.Config{Bin: bin, Dir: dir, Name: name,
		Btcd: btcd, Args: args})
	if err != nil {
		return nil, err
	}
	var n *restNode
	err = poll(ctx, 2*time.Minute, func() error {
		if p.Exited() {
			return errors.New("lnd exited; see " + p.Output)
		}
		if _, err := os.Stat(p.MacaroonPath); err != nil {
			return err
		}
		var err error
		n, err = newRESTNode("lnd-"+name, p.RESTAddr, p.P2PAddr, p.CertPath,
			p.MacaroonPath, conns)
		if err != nil {
			return err
		}
		return n.do(ctx, "GET", "/v1/getinfo", nil, nil)
	})
	if err != nil {
		p.Stop()
		return nil, fmt.Errorf("lnd %s: %w", name, err)
	}
	n.stopped = p.Stop
	n.pid = p.PID()
	if profile {
		n.pprof = profAddr
	}
	return n, nil
}

// freePort is a loopback host:port free now.
func freePort() (string, error) { return lndproc.FreePort() }
