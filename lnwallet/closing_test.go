package lnwallet

import (
	"bytes"
	"errors"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

func TestLegacyClosingTx(t *testing.T) {
	tp := newTestPair(t, ChannelTypeAnchors)
	p := tp.aliceParams
	aliceScript := WitnessPubKeyHash(tp.alice.payment.PubKey())
	bobScript := WitnessPubKeyHash(tp.bob.payment.PubKey())

	local, remote, err := LegacyClosingAmounts(p, 6_000_000_500,
		3_999_999_999, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if local != 5_999_000 || remote != 3_999_999 {
		t.Fatalf("amounts %v %v", local, remote)
	}
	if _, _, err := LegacyClosingAmounts(p, 999_000, 0, 1000); err == nil {
		t.Fatal("fee above the opener's balance accepted")
	}

	tx, err := NewLegacyClosingTx(p.FundingOutpoint,
		ClosingOutput{aliceScript, local}, ClosingOutput{bobScript, remote},
		546)
	if err != nil {
		t.Fatal(err)
	}
	if tx.Version != 2 || tx.LockTime != 0 ||
		tx.TxIn[0].Sequence != 0xffffffff || len(tx.TxOut) != 2 {

		t.Fatalf("unexpected shape %+v", tx)
	}
	if tx.TxOut[0].Value != int64(remote) {
		t.Fatal("outputs not sorted by value")
	}

	// Both sign; the result spends the funding output.
	aliceSig, err := SignFundingSpend(tp.alice.signer(), p, tx)
	if err != nil {
		t.Fatal(err)
	}
	bobSig, err := SignFundingSpend(tp.bob.signer(), tp.bobParams, tx)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyFundingSpend(p, tx, bobSig); err != nil {
		t.Fatal(err)
	}
	if err := VerifyFundingSpend(p, tx, aliceSig); !errors.Is(err,
		ErrInvalidSignature) {

		t.Fatalf("own signature accepted as the peer's: %v", err)
	}
	ws, pk, _ := p.FundingScript()
	tx.TxIn[0].Witness = FundingWitness(ws,
		p.Local.FundingKey, ScriptSig(aliceSig, txscript.SigHashAll),
		p.Remote.FundingKey, ScriptSig(bobSig, txscript.SigHashAll))
	checkSpends(t, tx, pk, int64(p.Capacity))

	// Dust and eliminated outputs are dropped.
	tx, err = NewLegacyClosingTx(p.FundingOutpoint,
		ClosingOutput{aliceScript, 9_999_500}, ClosingOutput{bobScript, 500},
		546)
	if err != nil || len(tx.TxOut) != 1 ||
		!bytes.Equal(tx.TxOut[0].PkScript, aliceScript) {

		t.Fatalf("dust output kept: %v", err)
	}
	tx, err = NewLegacyClosingTx(p.FundingOutpoint,
		ClosingOutput{nil, 5_000_000}, ClosingOutput{bobScript, 4_990_000},
		546)
	if err != nil || len(tx.TxOut) != 1 ||
		!bytes.Equal(tx.TxOut[0].PkScript, bobScript) {

		t.Fatalf("eliminated output kept: %v", err)
	}
	if _, err := NewLegacyClosingTx(p.FundingOutpoint,
		ClosingOutput{aliceScript, 100}, ClosingOutput{bobScript, 100},
		546); !errors.Is(err, ErrNoOutputs) {

		t.Fatalf("all-dust close: %v", err)
	}
	if _, err := NewLegacyClosingTx(p.FundingOutpoint,
		ClosingOutput{aliceScript, -1}, ClosingOutput{bobScript, 100},
		546); err == nil {

		t.Fatal("negative amount accepted")
	}
}

func TestSimpleClosingTx(t *testing.T) {
	op := wire.OutPoint{Index: 3}
	closer := WitnessScriptHash([]byte{1})
	closee := WitnessScriptHash([]byte{2})
	opReturn := []byte{txscript.OP_RETURN, 1, 0xaa}

	tests := []struct {
		name         string
		closer       ClosingOutput
		closee       ClosingOutput
		fee          btcutil.Amount
		want         []int64 // values in output order
		wantErr      bool
		wantOpReturn bool
	}{
		{"both outputs", ClosingOutput{closer, 6000}, ClosingOutput{closee, 4000},
			500, []int64{4000, 5500}, false, false},
		{"closer omitted", ClosingOutput{nil, 600}, ClosingOutput{closee, 9000},
			500, []int64{9000}, false, false},
		{"closee omitted", ClosingOutput{closer, 9000}, ClosingOutput{nil, 100},
			500, []int64{8500}, false, false},
		{"OP_RETURN closer is zero", ClosingOutput{opReturn, 600},
			ClosingOutput{closee, 9000}, 500, []int64{0, 9000}, false, true},
		{"fee above closer balance", ClosingOutput{closer, 400},
			ClosingOutput{closee, 9000}, 500, nil, true, false},
		{"nothing left", ClosingOutput{}, ClosingOutput{}, 0, nil, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tx, err := NewClosingTx(op, tc.closer, tc.closee, tc.fee, 812)
			if tc.wantErr {
				if err == nil {
					t.Fatal("expected an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tx.LockTime != 812 || tx.TxIn[0].Sequence != 0xfffffffd ||
				tx.TxIn[0].PreviousOutPoint != op {

				t.Fatalf("bad header %+v", tx.TxIn[0])
			}
			if len(tx.TxOut) != len(tc.want) {
				t.Fatalf("%d outputs", len(tx.TxOut))
			}
			for i, v := range tc.want {
				if tx.TxOut[i].Value != v {
					t.Fatalf("output %d = %d, want %d", i,
						tx.TxOut[i].Value, v)
				}
			}
			if tc.wantOpReturn && tx.TxOut[0].PkScript[0] != txscript.OP_RETURN {
				t.Fatal("OP_RETURN output missing")
			}
		})
	}
}
