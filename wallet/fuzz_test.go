package wallet

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

// The database is trusted less than memory: a corrupted or hostile file
// must produce ErrCorruptDB, never a panic. These fuzz the record decoders.

func FuzzDecodeUtxo(f *testing.F) {
	u := &utxoRec{Value: 12345, Height: 7, Coinbase: true,
		Deriv: derivation{Type: AddressP2TR, Branch: 1, Index: 9}, PkScript: p2trScript}
	f.Add(u.encode(false), false)
	f.Add(u.encode(true), true)
	f.Fuzz(func(t *testing.T, data []byte, spender bool) {
		r, err := decodeUtxo(data, spender)
		if err != nil {
			return
		}
		if !bytes.Equal(r.encode(spender), data) {
			t.Fatal("decode/encode not symmetric")
		}
	})
}

func FuzzDecodeTxRec(f *testing.F) {
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: chainhash.Hash{1}}, nil, [][]byte{{1, 2}}))
	tx.AddTxOut(wire.NewTxOut(5000, p2wpkhScript))
	r := &txRec{Height: 10, BlockTime: 99, Received: 98, Ours: true, Debit: 7000,
		Credit: 0, Fee: 2000, Label: "label", Tx: tx}
	v, err := r.encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(v)
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := decodeTx(data)
		if err != nil {
			return
		}
		if _, err := r.encode(); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzOpenSeed(f *testing.F) {
	blob, err := sealSeed(bytes.Repeat([]byte{3}, 64), []byte("pw"), ScryptParams{N: 2, R: 1, P: 1})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(blob, []byte("pw"))
	f.Fuzz(func(t *testing.T, data, pw []byte) {
		// Keep scrypt cheap: the fuzzer would otherwise spend its time
		// in large N values, which validate() bounds but still allows.
		if len(data) >= 13 {
			n := binary.BigEndian.Uint32(data[1:])
			r := binary.BigEndian.Uint32(data[5:])
			p := binary.BigEndian.Uint32(data[9:])
			if n > 1024 || r > 8 || p > 2 {
				return
			}
		}
		seed, err := openSeed(data, pw)
		if err == nil && len(seed) == 0 && len(data) > sealHeaderLen+16 {
			t.Fatal("empty seed opened")
		}
	})
}

func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{"bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080",
		"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
		"bcrt1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqlhq9cx", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := parseAddress(s, &chaincfg.RegressionNetParams)
		if err == nil && !a.IsForNet(&chaincfg.RegressionNetParams) {
			t.Fatalf("%q accepted for another network", s)
		}
	})
}

func FuzzDecodePendingPassword(f *testing.F) {
	seed, err := sealSeed(bytes.Repeat([]byte{3}, 64), []byte("pw"), ScryptParams{N: 2, R: 1, P: 1})
	if err != nil {
		f.Fatal(err)
	}
	f.Add((&pendingPassword{Seed: seed, Linked: []byte("resealed store")}).encode())
	f.Add((&pendingPassword{Seed: seed}).encode())
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := decodePendingPassword(data)
		if err != nil {
			return
		}
		if !bytes.Equal(p.encode(), data) {
			t.Fatal("decode/encode not symmetric")
		}
	})
}

func FuzzDecodeTxRecV1(f *testing.F) {
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: chainhash.Hash{1}}, nil, [][]byte{{1, 2}}))
	tx.AddTxOut(wire.NewTxOut(5000, p2wpkhScript))
	f.Add(encodeTxV1(f, &txRec{Height: 10, BlockTime: 99, Received: 98, Ours: true,
		Debit: 7000, Fee: 2000, Label: "label", Tx: tx}))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := decodeTxV1(data)
		if err != nil {
			return
		}
		if _, err := r.encode(); err != nil {
			t.Fatal(err)
		}
	})
}

// encodeTxV1 is the version 1 encoding (no version byte, no failure or
// last-seen fields), for migration tests.
func encodeTxV1(tb testing.TB, r *txRec) []byte {
	var buf bytes.Buffer
	var b [8]byte
	buf.Write(u32(uint32(r.Height)))
	buf.Write(r.BlockHash[:])
	binary.BigEndian.PutUint64(b[:], uint64(r.BlockTime))
	buf.Write(b[:])
	binary.BigEndian.PutUint64(b[:], uint64(r.Received))
	buf.Write(b[:])
	if r.Ours {
		buf.WriteByte(1)
	} else {
		buf.WriteByte(0)
	}
	for _, a := range []int64{int64(r.Debit), int64(r.Credit), int64(r.Fee)} {
		binary.BigEndian.PutUint64(b[:], uint64(a))
		buf.Write(b[:])
	}
	binary.BigEndian.PutUint16(b[:2], uint16(len(r.Label)))
	buf.Write(b[:2])
	buf.WriteString(r.Label)
	if err := r.Tx.Serialize(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}
