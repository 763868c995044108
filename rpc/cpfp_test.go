package rpc

import (
	"context"
	"fmt"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"lnd.xprv/contractcourt"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/walletrpc"
)

// noSweeps is a sweeper that knows no output.
type noSweeps struct{ Contracts }

func (noSweeps) BumpFee(_ context.Context, op wire.OutPoint, _ SweepBump) error {
	return fmt.Errorf("%w: %v", contractcourt.ErrNoSweep, op)
}

// cpfpWallet has one unconfirmed and one confirmed output.
type cpfpWallet struct {
	*fakeNode
	utxos []Utxo
}

func (w *cpfpWallet) ListUnspent(context.Context, string, int32, int32) ([]Utxo, error) {
	return w.utxos, nil
}

// TestBumpFeeCPFP: BumpFee on an output the sweeper does not know
// spends the wallet's unconfirmed output alone to a new wallet address at
// the rate asked, held to the budget; a confirmed or unknown output is
// refused as lnd does.
func TestBumpFeeCPFP(t *testing.T) {
	unconf := wire.OutPoint{Hash: chainhash.Hash{7}, Index: 1}
	conf := wire.OutPoint{Hash: chainhash.Hash{8}, Index: 0}
	w := &cpfpWallet{fakeNode: newFakeNode(t), utxos: []Utxo{
		{Type: AddressP2WKH, Amount: 100_000, OutPoint: unconf},
		{Type: AddressP2WKH, Amount: 100_000, OutPoint: conf, Confirmations: 1},
	}}
	l := apiService(t, &Backend{Wallet: w, Contracts: noSweeps{}})
	k := &walletKitService{s: l.s}
	ctx := context.Background()
	bump := func(op wire.OutPoint, req *walletrpc.BumpFeeRequest) (*walletrpc.BumpFeeResponse, error) {
		req.Outpoint = &lnrpc.OutPoint{TxidBytes: op.Hash[:], OutputIndex: op.Index}
		return k.BumpFee(ctx, req)
	}

	resp, err := bump(unconf, &walletrpc.BumpFeeRequest{SatPerVbyte: 50})
	if err != nil || resp.Status != "Successfully registered CPFP-tx with the sweeper" {
		t.Fatalf("%v %v", resp, err)
	}
	if len(w.sends) != 1 {
		t.Fatalf("%d sends", len(w.sends))
	}
	s := w.sends[0]
	if !s.SendAll || len(s.Inputs) != 1 || s.Inputs[0] != unconf || s.MinConfs != 0 ||
		s.FeeRate != 12_500 || s.TargetConf != 0 {

		t.Fatalf("send %+v", s)
	}
	if _, ok := s.Address.(*btcutil.AddressTaproot); !ok {
		t.Errorf("child pays to %v, want a new taproot address", s.Address)
	}

	// A rate beyond the budget is held to it: 1000 sat over a 122 vB
	// child is 8 sat/vB, 2049 sat/kw.
	if _, err := bump(unconf, &walletrpc.BumpFeeRequest{SatPerVbyte: 500, Budget: 1000}); err != nil {
		t.Fatal(err)
	}
	if got := w.sends[1].FeeRate; got != 2049 {
		t.Errorf("budget-capped rate %d sat/kw", got)
	}
	// No rate: the wallet estimates for six blocks.
	if _, err := bump(unconf, &walletrpc.BumpFeeRequest{}); err != nil {
		t.Fatal(err)
	}
	if got := w.sends[2]; got.TargetConf != cpfpDefaultConf || got.FeeRate != 0 {
		t.Errorf("no rate: %+v", got)
	}

	_, err = bump(conf, &walletrpc.BumpFeeRequest{SatPerVbyte: 50})
	if status.Code(err) != codes.InvalidArgument ||
		status.Convert(err).Message() != "unable to bump fee of a confirmed transaction" {
		t.Errorf("confirmed output: %v", err)
	}
	_, err = bump(wire.OutPoint{Hash: chainhash.Hash{9}}, &walletrpc.BumpFeeRequest{SatPerVbyte: 50})
	if status.Code(err) != codes.NotFound {
		t.Errorf("unknown output: %v", err)
	}
	if len(w.sends) != 3 {
		t.Errorf("%d sends", len(w.sends))
	}
}
