package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"lnd.xprv/internal/regtest"
)

// startLnd starts the lnd binary at bin (one the operator built; nothing
// of lnd is in this repository) on btcd, in dir, and returns its REST
// API once it answers. Its output goes to dir/lnd.out.
func startLnd(ctx context.Context, bin, dir, name string, btcd *regtest.Btcd,
	conns int, profile bool) (*restNode, error) {

	ports := make([]string, 4)
	for i := range ports {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		ports[i] = p
	}
	rpcAddr, restAddr, p2pAddr, profAddr := ports[0], ports[1], ports[2], ports[3]
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	out, err := os.Create(filepath.Join(dir, "lnd.out"))
	if err != nil {
		return nil, err
	}
	args := []string{"--lnddir=" + dir, "--bitcoin.regtest",
		"--bitcoin.node=btcd", "--btcd.rpchost=" + btcd.RPCHost(),
		"--btcd.rpcuser=" + btcd.RPCUser(), "--btcd.rpcpass=" + btcd.RPCPass(),
		"--btcd.rpccert=" + btcd.RPCCertPath(), "--noseedbackup",
		"--rpclisten=" + rpcAddr, "--restlisten=" + restAddr,
		"--listen=" + p2pAddr, "--alias=" + name, "--debuglevel=info",
		// Gossip at once, not every 90 s: the two-hop shape needs
		// alice to learn bob's channel to carol.
		"--trickledelay=50"}
	if profile {
		args = append(args, profileArgs(profAddr)...)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		out.Close()
		close(exited)
	}()
	stop := func() error {
		select {
		case <-exited:
			return nil
		default:
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		return nil
	}
	macPath := filepath.Join(dir, "data", "chain", "bitcoin", "regtest", "admin.macaroon")
	certPath := filepath.Join(dir, "tls.cert")
	var n *restNode
	err = poll(ctx, 2*time.Minute, func() error {
		select {
		case <-exited:
			return errors.New("lnd exited; see " + out.Name())
		default:
		}
		if _, err := os.Stat(macPath); err != nil {
			return err
		}
		var err error
		n, err = newRESTNode("lnd-"+name, restAddr, p2pAddr, certPath, macPath, conns)
		if err != nil {
			return err
		}
		return n.do(ctx, "GET", "/v1/getinfo", nil, nil)
	})
	if err != nil {
		stop()
		return nil, fmt.Errorf("lnd %s: %w", name, err)
	}
	n.stopped = stop
	if profile {
		n.pprof = profAddr
	}
	return n, nil
}

// freePort is a loopback host:port free now.
func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
