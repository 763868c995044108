package contractcourt

import (
	"bytes"
	"testing"

	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
)

// FuzzClassify feeds arbitrary transactions spending a channel's funding
// output (the chain is untrusted) to Classify and, for a commitment, to
// the output finder: never a panic, a breach only for the exact revoked
// transaction, and every output found is one of the transaction's.
func FuzzClassify(f *testing.F) {
	a, b := newPair(f, types()[1], 11)
	addHTLC(f, a, b, 50_000, 1)
	old, _ := b.ch.LocalCommitTx()
	feeRound(f, a, b, 3000)
	ours, _ := a.ch.LocalCommitTx()
	theirs, _ := b.ch.LocalCommitTx()
	for _, tx := range []*wire.MsgTx{old, ours, theirs} {
		var buf bytes.Buffer
		_ = tx.Serialize(&buf)
		f.Add(buf.Bytes())
	}
	st := a.stored(f)
	key := channeldb.ChannelKey(st.FundingOutpoint)
	lookup := func(n uint64) (*channeldb.RevocationLogEntry, error) {
		var e *channeldb.RevocationLogEntry
		err := a.db.View(func(tx kvdb.RTx) error {
			var err error
			e, err = channeldb.FetchRevocationLog(tx, key, n)
			return err
		})
		return e, err
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tx := new(wire.MsgTx)
		if err := tx.Deserialize(bytes.NewReader(data)); err != nil {
			return
		}
		cl, err := Classify(st, tx, lookup)
		if err != nil {
			t.Fatal(err)
		}
		if cl.Kind == SpendBreach && tx.TxHash() != old.TxHash() {
			t.Fatalf("breach for %v", tx.TxHash())
		}
		kind := cl.Kind.contractKind()
		if kind == 0 {
			kind = SpendRemote.contractKind()
		}
		rec := &channeldb.ContractRecord{ChanPoint: st.FundingOutpoint, Kind: kind,
			CommitNum: cl.CommitNum, CloseTx: tx, CloseHeight: 100, Channel: st}
		ct, err := newContract(rec, a.secrets, nil)
		if err != nil {
			return
		}
		outs, err := ct.outputs(cl.Revoked)
		if err != nil {
			return
		}
		for _, o := range outs {
			if o.OutPoint.Hash != tx.TxHash() || int(o.OutPoint.Index) >= len(tx.TxOut) ||
				tx.TxOut[o.OutPoint.Index].Value != int64(o.Amount) {
				t.Fatalf("output %+v not in the transaction", o)
			}
		}
	})
}
