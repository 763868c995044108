package main

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/rpc"
	"lnd.xprv/server"
	"lnd.xprv/wallet"
)

func TestSpendableMatchesLndListUnspent(t *testing.T) {
	const maturity = 100
	utxos := []wallet.Utxo{
		{Value: 1, Confirmations: 1},                                 // plain, confirmed
		{Value: 2, Confirmations: 0},                                 // plain, unconfirmed
		{Value: 3, Confirmations: 99, Coinbase: true},                // immature coinbase
		{Value: 4, Confirmations: 100, Coinbase: true},               // just mature
		{Value: 5, Confirmations: 500, Coinbase: true},               // mature
		{Value: 6, Confirmations: 10, Leased: true},                  // leased
		{Value: 7, Confirmations: 500, Coinbase: true, Leased: true}, // leased coinbase
	}
	tests := []struct {
		name     string
		maxConfs int32
		want     []int64
	}{
		{"any depth", 1 << 30, []int64{1, 2, 4, 5}},
		{"unconfirmed only", 0, []int64{2}},
		{"up to 100", 100, []int64{1, 2, 4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := spendable(append([]wallet.Utxo(nil), utxos...), maturity, tc.maxConfs)
			var values []int64
			for _, u := range got {
				values = append(values, int64(u.Value))
			}
			if fmt.Sprint(values) != fmt.Sprint(tc.want) {
				t.Fatalf("spendable values %v, want %v", values, tc.want)
			}
		})
	}
}

// TestMarkServerErr: the server's errors reach the rpc table marked with
// its sentinels, their text (lnd's) said once and unchanged.
func TestMarkServerErr(t *testing.T) {
	cases := []struct {
		err  error
		kind error
	}{
		{fmt.Errorf("%w: 02aa@127.0.0.1:9735", server.ErrAlreadyConnected), rpc.ErrAlreadyConnected},
		{server.ErrSelfConnect, rpc.ErrSelfConnect},
		{server.ErrServerShutdown, rpc.ErrShuttingDown},
	}
	for _, c := range cases {
		err := markServerErr(c.err)
		if !errors.Is(err, c.kind) || !errors.Is(err, c.err) {
			t.Errorf("%v not marked %v", err, c.kind)
		}
		if err.Error() != c.err.Error() {
			t.Errorf("text changed: %q -> %q", c.err, err)
		}
	}
	if want := "already connected to peer: 02aa@127.0.0.1:9735"; markServerErr(cases[0].err).Error() != want {
		t.Fatalf("error %q, want %q", markServerErr(cases[0].err), want)
	}
	other := errors.New("other")
	if markServerErr(other) != other || markServerErr(nil) != nil {
		t.Fatal("an unknown error was changed")
	}
}

func TestOurInputsMarksSpentWalletOutputs(t *testing.T) {
	ourScript := []byte{0x00, 0x14, 1, 2, 3}
	theirScript := []byte{0x00, 0x14, 9, 9, 9}
	isOurs := func(s []byte) bool { return bytes.Equal(s, ourScript) }

	// funding pays us at index 1 and someone else at index 0.
	funding := wire.NewMsgTx(2)
	funding.AddTxOut(wire.NewTxOut(1000, theirScript))
	funding.AddTxOut(wire.NewTxOut(2000, ourScript))
	byHash := map[chainhash.Hash]*wire.MsgTx{funding.TxHash(): funding}

	unknown := chainhash.Hash{7}
	spend := wire.NewMsgTx(2)
	spend.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&unknown, 0), nil, nil))                   // not in the wallet
	spend.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&chainhash.Hash{}, 0xffffffff), nil, nil)) // coinbase-style
	h := funding.TxHash()
	spend.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&h, 0), nil, nil)) // theirs
	spend.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&h, 1), nil, nil)) // ours
	spend.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&h, 5), nil, nil)) // no such output

	got := ourInputs(spend, byHash, isOurs)
	if want := []bool{false, false, false, true, false}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ourInputs %v, want %v", got, want)
	}
}
