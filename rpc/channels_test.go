package rpc

import (
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"lnd.xprv/rpc/lnrpc"
)

func TestOpenParams(t *testing.T) {
	k, _ := btcec.NewPrivateKey()
	pub := k.PubKey().SerializeCompressed()
	ok := func() *lnrpc.OpenChannelRequest {
		return &lnrpc.OpenChannelRequest{NodePubkey: pub, LocalFundingAmount: 100_000,
			PushSat: 1000}
	}
	p, err := openParams(ok())
	if err != nil || p.LocalAmt != 100_000 || p.PushAmt != 1000 || p.MinConfs != 1 ||
		p.CommitmentType != CommitmentUnknown || !p.Peer.IsEqual(k.PubKey()) {

		t.Fatalf("%+v, %v", p, err)
	}
	r := ok()
	r.CommitmentType = lnrpc.CommitmentType_ANCHORS
	if p, err := openParams(r); err != nil || p.CommitmentType != CommitmentAnchors {
		t.Fatalf("%+v, %v", p, err)
	}
	bad := map[string]func(*lnrpc.OpenChannelRequest){
		"no key":        func(r *lnrpc.OpenChannelRequest) { r.NodePubkey = nil },
		"bad key":       func(r *lnrpc.OpenChannelRequest) { r.NodePubkey = pub[:10] },
		"zero amount":   func(r *lnrpc.OpenChannelRequest) { r.LocalFundingAmount = 0 },
		"push too big":  func(r *lnrpc.OpenChannelRequest) { r.PushSat = 100_001 },
		"fee and conf":  func(r *lnrpc.OpenChannelRequest) { r.SatPerVbyte, r.TargetConf = 2, 3 },
		"legacy type":   func(r *lnrpc.OpenChannelRequest) { r.CommitmentType = lnrpc.CommitmentType_LEGACY },
		"min confs":     func(r *lnrpc.OpenChannelRequest) { r.MinConfs = -1 },
		"unconf + conf": func(r *lnrpc.OpenChannelRequest) { r.SpendUnconfirmed, r.MinConfs = true, 2 },
	}
	for name, mod := range bad {
		r := ok()
		mod(r)
		_, err := openParams(r)
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v", name, err)
		}
	}
}
