package channeldb

import (
	"bytes"
	"errors"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb/kvdb"
)

func sampleContract(t testing.TB) *ContractRecord {
	ch := testChannel(t, 3)
	sweep := wire.NewMsgTx(2)
	sweep.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Hash: chainhash.Hash{9}, Index: 2},
		Sequence: 144, Witness: wire.TxWitness{{1, 2}, {3}}})
	sweep.AddTxOut(wire.NewTxOut(90_000, []byte{0, 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}))
	return &ContractRecord{
		ChanPoint:   ch.FundingOutpoint,
		Kind:        ContractLocalCommit,
		CommitNum:   7,
		CloseTx:     sampleFundingTx(),
		CloseHeight: 812,
		Channel:     ch,
		Outputs: []ContractOutput{
			{OutPoint: wire.OutPoint{Hash: chainhash.Hash{9}, Index: 2}, Amount: 91_000,
				Kind: OutputToLocal, CSV: 144},
			{OutPoint: wire.OutPoint{Hash: chainhash.Hash{9}, Index: 3}, Amount: 5_000,
				Kind: OutputRevokedHTLC, Incoming: true, PaymentHash: [32]byte{7},
				CltvExpiry: 900, SpentBy: chainhash.Hash{0xee}, SpentHeight: 815},
			{OutPoint: wire.OutPoint{Hash: chainhash.Hash{9}, Index: 0}, Amount: 330,
				Kind: OutputAnchor, Abandoned: true},
		},
		SweepTx: sweep, SweepFeeRate: 2500,
		SweepHeight: 956,
		Sweeps:      []chainhash.Hash{sweep.TxHash()},
	}
}

func TestContracts(t *testing.T) {
	db, _ := openTestDB(t)
	r := sampleContract(t)
	update(t, db, func(tx kvdb.RwTx) error { return PutContract(tx, r) })
	view(t, db, func(tx kvdb.RTx) error {
		got, err := FetchContract(tx, r.ChanPoint)
		if err != nil {
			return err
		}
		want, _ := EncodeContract(r)
		enc, err := EncodeContract(got)
		sameEncoding(t, "contract", want, enc, err)
		if len(got.Unresolved()) != 1 || got.Unresolved()[0].Kind != OutputToLocal {
			t.Errorf("unresolved outputs: %+v", got.Unresolved())
		}
		if got.Channel.FundingOutpoint != r.ChanPoint || got.SweepTx.TxHash() != r.SweepTx.TxHash() {
			t.Errorf("read back %+v", got)
		}
		all, err := ListContracts(tx)
		if err != nil || len(all) != 1 {
			t.Errorf("list: %d records, %v", len(all), err)
		}
		if _, err := FetchContract(tx, sampleOutpoint(99)); !errors.Is(err, ErrContractNotFound) {
			t.Errorf("fetch of an unknown channel: %v", err)
		}
		return nil
	})

	// A record naming another channel than its key is corrupt.
	v, _ := EncodeContract(r)
	if _, err := DecodeContract(outpointKey(sampleOutpoint(99)), v); !errors.Is(err, ErrCorruptRecord) {
		t.Errorf("mismatched key: %v", err)
	}
	bad := *r
	bad.Kind = 0
	if _, err := EncodeContract(&bad); err == nil {
		t.Error("encoded an unknown kind")
	}
}

// TestContractSweepParams: an output's sweep parameters and abandoned
// flag are kept, and a version 1 record (without them) still reads.
func TestContractSweepParams(t *testing.T) {
	r := sampleContract(t)
	r.Outputs[0].Sweep = SweepParams{Budget: 5_000, DeadlineHeight: 900,
		StartHeight: 880, StartRate: 2_530, Immediate: true}
	enc, err := EncodeContract(r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeContract(outpointKey(r.ChanPoint), enc)
	if err != nil {
		t.Fatal(err)
	}
	if got.Outputs[0].Sweep != r.Outputs[0].Sweep || !got.Outputs[2].Abandoned ||
		got.Outputs[1].Abandoned || got.Outputs[1].Sweep != (SweepParams{}) {
		t.Fatalf("read back %+v", got.Outputs)
	}
	if !got.Outputs[2].Resolved() || len(got.Unresolved()) != 1 {
		t.Fatalf("an abandoned output is resolved: %+v", got.Unresolved())
	}

	// Version 1: the same record with one output and no extension.
	r.Outputs = r.Outputs[1:2]
	v2, err := EncodeContract(r)
	if err != nil {
		t.Fatal(err)
	}
	op := r.Outputs[0].OutPoint
	at := bytes.Index(v2, outpointKey(op))
	if at < 0 {
		t.Fatal("output not found in the encoding")
	}
	// outpoint, amount (2-byte varint), kind, csv (1), conf height,
	// direction, hash, expiry, spender, spend height; then 11 bytes
	// of version 2 (flags, budget, deadline, start, rate).
	end := at + 36 + 2 + 1 + 1 + 4 + 1 + 32 + 4 + 32 + 4
	v1 := append(append([]byte{1}, v2[1:end]...), v2[end+11:]...)
	old, err := DecodeContract(outpointKey(r.ChanPoint), v1)
	if err != nil {
		t.Fatalf("version 1 record: %v", err)
	}
	if old.Outputs[0].OutPoint != op || old.Outputs[0].SpentBy != r.Outputs[0].SpentBy ||
		old.Outputs[0].Abandoned || old.SweepTx.TxHash() != r.SweepTx.TxHash() {
		t.Fatalf("version 1 read as %+v", old.Outputs)
	}
	v1[0] = 3
	if _, err := DecodeContract(outpointKey(r.ChanPoint), v1); !errors.Is(err, ErrUnknownVersion) {
		t.Fatalf("version 3: %v", err)
	}
}

func FuzzDecodeContract(f *testing.F) {
	r := sampleContract(f)
	key := outpointKey(r.ChanPoint)
	f.Add(must(EncodeContract(r)))
	r.Outputs[0].Sweep = SweepParams{Budget: 5_000, DeadlineHeight: 900,
		StartHeight: 880, StartRate: 2_530, Immediate: true}
	f.Add(must(EncodeContract(r)))
	r.SweepTx, r.Sweeps, r.Outputs = nil, nil, nil
	f.Add(must(EncodeContract(r)))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRecord(t, data, func(b []byte) (*ContractRecord, error) { return DecodeContract(key, b) },
			EncodeContract, true)
	})
}
