package rpc

import (
	"context"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"lnd.xprv/internal/netparams"
	"lnd.xprv/rpc/lnrpc"
)

// fuzzService is a Lightning service over the fakes, called directly
// (no network), for feeding it arbitrary requests.
func fuzzService(f *testing.F) (*lightningService, *fakeNode) {
	network, err := netparams.ByName("regtest")
	if err != nil {
		f.Fatal(err)
	}
	srv, err := New(Config{
		Network: network, TLSCertPath: "x", TLSKeyPath: "y",
		RPCListen: []string{"127.0.0.1:0"}, NoMacaroons: true,
	})
	if err != nil {
		f.Fatal(err)
	}
	node := newFakeNode(f)
	srv.backend.Store(node.backend())
	return &lightningService{s: srv}, node
}

// FuzzRequests decodes arbitrary bytes as each request type that carries
// caller-chosen strings and numbers and runs the handler: it must answer a
// status (never panic), and anything it passes on to the wallet must obey
// the rules the handler promises.
func FuzzRequests(f *testing.F) {
	ln, node := fuzzService(f)
	seeds := []proto.Message{
		&lnrpc.SendCoinsRequest{Addr: "bcrt1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqdku202", Amount: 1000, SatPerVbyte: 5},
		&lnrpc.SendCoinsRequest{Addr: "bcrt1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqdku202", SendAll: true, Outpoints: []*lnrpc.OutPoint{{TxidStr: "00"}}},
		&lnrpc.EstimateFeeRequest{AddrToAmount: map[string]int64{"bcrt1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqdku202": 5}},
		&lnrpc.ConnectPeerRequest{Addr: &lnrpc.LightningAddress{Pubkey: "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798", Host: "[::1]:9735"}},
	}
	for i, m := range seeds {
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), b)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, kind uint8, b []byte) {
		var err error
		switch kind % 6 {
		case 0:
			req := &lnrpc.SendCoinsRequest{}
			if proto.Unmarshal(b, req) != nil {
				return
			}
			before := len(node.sends)
			_, err = ln.SendCoins(ctx, req)
			if err == nil {
				s := node.sends[before]
				if (s.FeeRate == 0) == (s.TargetConf == 0) {
					t.Fatalf("fee rate %v and target %d both or neither set", s.FeeRate, s.TargetConf)
				}
				if s.SendAll == (s.Amount != 0) || s.Amount < 0 {
					t.Fatalf("amount %v with send_all %v", s.Amount, s.SendAll)
				}
			}
		case 1:
			req := &lnrpc.EstimateFeeRequest{}
			if proto.Unmarshal(b, req) != nil {
				return
			}
			_, err = ln.EstimateFee(ctx, req)
		case 2:
			req := &lnrpc.ConnectPeerRequest{}
			if proto.Unmarshal(b, req) != nil {
				return
			}
			_, err = ln.ConnectPeer(ctx, req)
		case 3:
			req := &lnrpc.DisconnectPeerRequest{}
			if proto.Unmarshal(b, req) != nil {
				return
			}
			_, err = ln.DisconnectPeer(ctx, req)
		case 4:
			req := &lnrpc.ListUnspentRequest{}
			if proto.Unmarshal(b, req) != nil {
				return
			}
			_, err = ln.ListUnspent(ctx, req)
		case 5:
			req := &lnrpc.GetTransactionsRequest{}
			if proto.Unmarshal(b, req) != nil {
				return
			}
			_, err = ln.GetTransactions(ctx, req)
		}
		if err != nil {
			if _, ok := status.FromError(err); !ok || status.Code(err) == codes.OK {
				t.Fatalf("not a status error: %v", err)
			}
		}
	})
}
