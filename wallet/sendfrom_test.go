package wallet

import (
	"context"
	"errors"
	"testing"

	"github.com/btcsuite/btcd/wire"
)

// TestSendAllFrom: exactly the named outputs, an unconfirmed change one
// among them (a child paying for its parent), go to the address at the
// rate asked; the other coins stay; an unknown output is refused.
func TestSendAllFrom(t *testing.T) {
	c := newFakeChain()
	w, _ := startedWallet(t, c, CreateParams{})
	addr, _ := w.NewAddress(AddressP2WPKH, false)
	c.mine(payTo(t, addr, 2_000_000, 1), payTo(t, addr, 500_000, 2))
	waitSynced(t, w, c.height())
	ctx := context.Background()
	ext := payTo(t, nil2(t), 1, 9).TxOut[0].PkScript
	parent, err := w.SendOutputs(ctx, []*wire.TxOut{wire.NewTxOut(300_000, ext)},
		FeePreference{SatPerVByte: 1}, 1, "")
	if err != nil {
		t.Fatal(err)
	}
	var change wire.OutPoint
	found := false
	for i, o := range parent.TxOut {
		if o.Value != 300_000 {
			change, found = wire.OutPoint{Hash: parent.TxHash(), Index: uint32(i)}, true
		}
	}
	if !found {
		t.Fatal("no change")
	}
	before := balance(t, w)
	to, _ := w.NewAddress(AddressP2TR, false)
	child, err := w.SendAllFrom(ctx, to.String(), FeePreference{SatPerVByte: 50},
		[]wire.OutPoint{change}, "cpfp")
	if err != nil {
		t.Fatal(err)
	}
	if len(child.TxIn) != 1 || child.TxIn[0].PreviousOutPoint != change || len(child.TxOut) != 1 {
		t.Fatalf("child %v", child)
	}
	rec, err := w.Transaction(child.TxHash())
	if err != nil || rec.Label != "cpfp" {
		t.Fatalf("child record %+v %v", rec, err)
	}
	vsize := int64(child.SerializeSizeStripped()*3+child.SerializeSize()+3) / 4
	if rate := int64(rec.Fee) / vsize; rate < 50 || rate > 51 {
		t.Errorf("child pays %d sat over %d vB", rec.Fee, vsize)
	}
	// The child's output is ours: only its fee left the wallet.
	after := balance(t, w)
	if got := before.Confirmed + before.Unconfirmed - after.Confirmed - after.Unconfirmed; got != rec.Fee {
		t.Errorf("balance moved by %d, fee %d", got, rec.Fee)
	}
	if _, err := w.SendAllFrom(ctx, to.String(), FeePreference{SatPerVByte: 5},
		[]wire.OutPoint{{Index: 7}}, ""); !errors.Is(err, ErrUnknownOutput) {
		t.Errorf("unknown output: %v", err)
	}
	if _, err := w.SendAllFrom(ctx, to.String(), FeePreference{SatPerVByte: 5}, nil, ""); err == nil {
		t.Error("no outputs accepted")
	}
}
