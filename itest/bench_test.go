package itest

import (
	"context"
	"net/http"
	"testing"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
)

// End-to-end figures against a real xlnd process (loopback, TLS,
// macaroon checked on every call). They measure the whole path a client
// sees, so they move with the machine's load.

func BenchmarkGetInfoGRPC(b *testing.B) {
	nw := harness.New(b)
	node, err := nw.NewNode("alice")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := node.RPC.GetInfo(ctx, &lnrpc.GetInfoRequest{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetInfoREST opens a new HTTPS connection per call (Node.REST
// makes a fresh client), as a one-shot curl would.
func BenchmarkGetInfoREST(b *testing.B) {
	nw := harness.New(b)
	node, err := nw.NewNode("alice")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		code, body, err := node.REST(http.MethodGet, "/v1/getinfo", nil, node.AdminMacaroonPath())
		if err != nil || code != http.StatusOK {
			b.Fatalf("HTTP %d %s: %v", code, body, err)
		}
	}
}

func BenchmarkNewAddress(b *testing.B) {
	nw := harness.New(b)
	node, err := nw.NewNode("alice")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		if _, err := node.RPC.NewAddress(ctx, &lnrpc.NewAddressRequest{Type: lnrpc.AddressType_TAPROOT_PUBKEY}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSendCoins is one payment from SendCoins to btcd's mempool.
func BenchmarkSendCoins(b *testing.B) {
	nw := harness.New(b)
	node, err := nw.NewNode("alice")
	if err != nil {
		b.Fatal(err)
	}
	if err := nw.Fund(node, 1_000_000_000); err != nil {
		b.Fatal(err)
	}
	dest := nw.Btcd().MinerAddress().EncodeAddress()
	ctx := context.Background()
	for b.Loop() {
		resp, err := node.RPC.SendCoins(ctx, &lnrpc.SendCoinsRequest{
			Addr: dest, Amount: 10_000, SatPerVbyte: 2, MinConfs: 0, SpendUnconfirmed: true,
		})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := nw.WaitTx(resp.Txid); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRestart is StopDaemon, process exit, start, and SERVER_ACTIVE
// again on an existing data directory.
func BenchmarkRestart(b *testing.B) {
	nw := harness.New(b)
	node, err := nw.NewNode("alice")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := node.Restart(); err != nil {
			b.Fatal(err)
		}
	}
}
