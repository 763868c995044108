package lnwallet

import (
	"bytes"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/lnwallet/chainfee"
)

// TestAppendixB builds the funding transaction of BOLT 3 Appendix B from
// its inputs: the block 1 coinbase output, the two funding keys, the
// amounts; and compares the signed transaction byte for byte.
func TestAppendixB(t *testing.T) {
	h := make(map[string]string)
	for _, e := range readKVs(t, "testdata/bolt03-appendix-b.txt") {
		h[e.key] = e.val
	}

	var coinbase wire.MsgTx
	if err := coinbase.Deserialize(bytes.NewReader(unhex(t,
		h["Block 1 coinbase transaction"]))); err != nil {

		t.Fatal(err)
	}
	inputHash, err := chainhash.NewHashFromStr(h["input txid"])
	if err != nil {
		t.Fatal(err)
	}
	if coinbase.TxHash() != *inputHash {
		t.Fatal("input txid is not the block 1 coinbase")
	}
	inIdx := uint32(atoi(t, h["input index"]))
	prev := coinbase.TxOut[inIdx]
	if prev.Value != int64(atoi(t, h["input satoshis"])) {
		t.Fatal("input satoshis mismatch")
	}

	priv := parsePriv(t, h["Block 1 coinbase privkey"])
	ws, pkScript, err := FundingScript(
		parsePub(t, h["local_funding_pubkey"]),
		parsePub(t, h["remote_funding_pubkey"]))
	if err != nil {
		t.Fatal(err)
	}
	if hexKey(ws) != h["funding witness script"] {
		t.Fatalf("funding witness script %x", ws)
	}

	funding := btcutil.Amount(atoi(t, h["funding satoshis"]))
	change := btcutil.Amount(atoi(t, h["change satoshis"]))
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(&wire.TxIn{
		PreviousOutPoint: wire.OutPoint{Hash: *inputHash, Index: inIdx},
		Sequence:         wire.MaxTxInSequenceNum,
	})
	tx.AddTxOut(wire.NewTxOut(int64(change),
		WitnessPubKeyHash(priv.PubKey())))
	tx.AddTxOut(wire.NewTxOut(int64(funding), pkScript))
	sortTxOuts(tx)
	if !bytes.Equal(tx.TxOut[atoi(t, h["funding output"])].PkScript,
		pkScript) {

		t.Fatal("funding output index mismatch")
	}

	// The fee is feerate_per_kw over the transaction's weight.
	fee := btcutil.Amount(prev.Value) - funding - change
	sigScript, err := txscript.SignatureScript(tx, 0, prev.PkScript,
		txscript.SigHashAll, priv, true)
	if err != nil {
		t.Fatal(err)
	}
	tx.TxIn[0].SignatureScript = sigScript
	weight := int64(tx.SerializeSizeStripped()*3 + tx.SerializeSize())
	rate := chainfee.SatPerKWeight(atoi(t, h["feerate_per_kw"]))
	if got := rate.FeeForWeight(weight); got != fee {
		t.Errorf("fee %v, want %v at %v for weight %d", fee, got, rate,
			weight)
	}

	if got := txHex(t, tx); got != h["funding tx"] {
		t.Fatalf("funding tx\n got %s\nwant %s", got, h["funding tx"])
	}
	if got := tx.TxHash().String(); got != h["txid"] {
		t.Fatalf("txid %s want %s", got, h["txid"])
	}
	checkSpends(t, tx, prev.PkScript, prev.Value)
}
