package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"

	"github.com/btcsuite/btcd/btcec/v2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"lnd.xprv/itest/harness"
	"lnd.xprv/itest/internal/lndproc"
	"lnd.xprv/rpc/cert"
	"lnd.xprv/rpc/lnrpc"
)

// target is one running node being measured, xlnd or lnd: both speak
// lnd's gRPC API and serve pprof on --pprof.profile.
type target struct {
	name   string
	pid    func() int
	pprof  string // host:port of its profiler
	p2p    string // host:port of its peer listener
	pubKey *btcec.PublicKey
	rpc    func() lnrpc.LightningClient // the running process's
}

// countPeers is how many peers the node lists.
func (t *target) countPeers(ctx context.Context) (int, error) {
	resp, err := t.rpc().ListPeers(ctx, &lnrpc.ListPeersRequest{})
	if err != nil {
		return 0, err
	}
	return len(resp.Peers), nil
}

// xlndTarget is a harness node started with its profiler on pprof.
func xlndTarget(node *harness.Node, pprof string) (*target, error) {
	key, err := parseKey(node.PubKey())
	if err != nil {
		return nil, err
	}
	return &target{name: "xlnd", pid: node.PID, pprof: pprof, p2p: node.P2PAddr(),
		pubKey: key,
		rpc:    func() lnrpc.LightningClient { return node.RPC }}, nil
}

func parseKey(s string) (*btcec.PublicKey, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("node key %q: %w", s, err)
	}
	return btcec.ParsePubKey(b)
}

// macaroon sends a macaroon file's contents with every call, as lnd's
// clients do.
type macaroon string

func (m macaroon) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"macaroon": string(m)}, nil
}

func (macaroon) RequireTransportSecurity() bool { return true }

// dialRPC connects to a node's gRPC API with its TLS certificate and
// admin macaroon.
func dialRPC(addr, certPath, macPath string) (*grpc.ClientConn, error) {
	tlsCfg, err := cert.ClientConfig(certPath)
	if err != nil {
		return nil, err
	}
	mac, err := os.ReadFile(macPath)
	if err != nil {
		return nil, err
	}
	return grpc.NewClient(addr,
		grpc.WithTransportCredentials(credentials.NewTLS(tlsCfg)),
		grpc.WithPerRPCCredentials(macaroon(hex.EncodeToString(mac))))
}

// freePort is a loopback host:port free now.
func freePort() (string, error) { return lndproc.FreePort() }
