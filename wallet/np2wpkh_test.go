package wallet

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// TestBIP49Vector derives BIP 49's published test vector (testnet, so coin
// type 1) through the wallet's key ring and script builder.
func TestBIP49Vector(t *testing.T) {
	var v bipVectors
	readJSON(t, "bip49_vectors.json", &v)
	seed, err := seedFromMnemonic(v.Mnemonic, "")
	if err != nil {
		t.Fatal(err)
	}
	net := &chaincfg.TestNet3Params
	kr, err := newKeyRing(seed, net)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	for _, vec := range v.Vectors {
		d := derivation{Type: AddressNP2WPKH, Branch: vec.Branch, Index: vec.Index}
		priv, err := kr.walletKey(d)
		if err != nil {
			t.Fatal(err)
		}
		wif, err := btcutil.DecodeWIF(vec.PrivKeyWIF)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(wif.PrivKey.Serialize(), priv.Serialize()) {
			t.Fatalf("%s: private key differs", vec.Path)
		}
		script, err := pkScriptFor(AddressNP2WPKH, priv.PubKey())
		if err != nil {
			t.Fatal(err)
		}
		_, addrs, _, err := txscript.ExtractPkScriptAddrs(script, net)
		if err != nil || len(addrs) != 1 {
			t.Fatalf("extract: %v", err)
		}
		if got := addrs[0].EncodeAddress(); got != vec.Address {
			t.Fatalf("%s: address %s, want %s", vec.Path, got, vec.Address)
		}
	}
}

// TestNestedAddressThroughWallet checks NewAddress and CurrentAddress for
// the nested type on the BIP 49 vector's seed (regtest shares testnet's
// coin type and P2SH prefix).
func TestNestedAddressThroughWallet(t *testing.T) {
	c := newFakeChain()
	w, _ := startedWallet(t, c, CreateParams{Mnemonic: abandonMnemonic, Restore: true})
	cur, err := w.CurrentAddress(AddressNP2WPKH)
	if err != nil {
		t.Fatal(err)
	}
	if cur.String() != "2Mww8dCYPUpKHofjgcXcBCEGmniw9CoaiD2" {
		t.Fatalf("first nested address %s", cur)
	}
	again, err := w.CurrentAddress(AddressNP2WPKH)
	if err != nil {
		t.Fatal(err)
	}
	if again.String() != cur.String() {
		t.Fatalf("unused address not reused: %s then %s", cur, again)
	}
	c.mine(payTo(t, cur, 50_000, 1))
	waitSynced(t, w, c.height())
	next, err := w.CurrentAddress(AddressNP2WPKH)
	if err != nil {
		t.Fatal(err)
	}
	if next.String() == cur.String() {
		t.Fatal("a paid address was handed out again as unused")
	}
	utxos, err := w.ListUnspent(1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(utxos) != 1 || utxos[0].AddressType != AddressNP2WPKH ||
		utxos[0].Address != cur.String() {
		t.Fatalf("unspent: %+v", utxos)
	}
}

// TestSpendNested spends a P2SH-P2WPKH coin and checks the input with
// btcd's script engine, the weight estimate against the signed size, and
// the send's lock time, sequence and change type.
func TestSpendNested(t *testing.T) {
	c := newFakeChain()
	cfg := testConfig(t, c)
	// The fake chain's blocks are ten minutes apart from 2023-11-14: a
	// clock just after the tip makes the tip current for anti-fee-sniping.
	cfg.Now = func() time.Time {
		return time.Unix(1_700_000_000+int64(c.height())*600+60, 0)
	}
	w := mustCreate(t, cfg, CreateParams{})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	addr, err := w.NewAddress(AddressNP2WPKH, false)
	if err != nil {
		t.Fatal(err)
	}
	fund := payTo(t, addr, 1_000_000, 7)
	c.mine(fund)
	c.mine()
	waitSynced(t, w, c.height())

	dest, _ := btcutil.NewAddressWitnessPubKeyHash(make([]byte, 20), cfg.Net)
	const rate = 3 // sat/vB
	msg, err := w.SendToAddress(context.Background(), dest.String(), 300_000,
		FeePreference{SatPerVByte: rate}, 1, "nested")
	if err != nil {
		t.Fatal(err)
	}
	if len(msg.TxIn) != 1 || msg.TxIn[0].PreviousOutPoint.Hash != fund.TxHash() {
		t.Fatalf("inputs %v", msg.TxIn)
	}

	// The spend, verified independently of the wallet's own check.
	prev := fund.TxOut[0]
	fetcher := txscript.NewCannedPrevOutputFetcher(prev.PkScript, prev.Value)
	vm, err := txscript.NewEngine(prev.PkScript, msg, 0, txscript.StandardVerifyFlags,
		nil, txscript.NewTxSigHashes(msg, fetcher), prev.Value, fetcher)
	if err != nil {
		t.Fatal(err)
	}
	if err := vm.Execute(); err != nil {
		t.Fatalf("nested input does not verify: %v", err)
	}
	in := msg.TxIn[0]
	if len(in.SignatureScript) != 23 || len(in.Witness) != 2 {
		t.Fatalf("scriptSig %x, witness of %d items", in.SignatureScript, len(in.Witness))
	}

	// The estimate never falls short of the real weight, and the fee
	// pays the rate on the real size.
	real := blockchainWeight(msg)
	outs := append([]*wire.TxOut(nil), msg.TxOut...)
	est := txWeight([]int64{inputWeight(AddressNP2WPKH)}, outs)
	if est < real || est > real+4 {
		t.Fatalf("estimated weight %d, signed %d", est, real)
	}
	var out int64
	for _, o := range msg.TxOut {
		out += o.Value
	}
	fee := prev.Value - out
	if vsize := (real + 3) / 4; fee < rate*vsize {
		t.Fatalf("fee %d below %d sat/vB × %d vB", fee, rate, vsize)
	}

	// Core's anti-fee-sniping: lock time at the tip or up to 99 blocks
	// below, inputs not final and signalling replaceability.
	tip := uint32(c.height())
	if msg.LockTime > tip || msg.LockTime+feeSnipingBackdate <= tip {
		t.Fatalf("lock time %d, tip %d", msg.LockTime, tip)
	}
	if in.Sequence != 0xfffffffd {
		t.Fatalf("sequence %#x", in.Sequence)
	}
	// lnd's SendCoins change: P2TR, whatever the inputs.
	var change *wire.TxOut
	for _, o := range msg.TxOut {
		if w.IsOurScript(o.PkScript) {
			change = o
		}
	}
	if change == nil || !txscript.IsPayToTaproot(change.PkScript) {
		t.Fatalf("change output %+v, want P2TR", change)
	}
}

func TestFeeSnipingLockTime(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	fixed := func(vals ...int64) func(int64) (int64, error) {
		return func(n int64) (int64, error) {
			v := vals[0]
			vals = vals[1:]
			if v >= n {
				t.Fatalf("random %d out of [0, %d)", v, n)
			}
			return v, nil
		}
	}
	for _, tc := range []struct {
		name    string
		tip     int32
		tipTime time.Time
		rand    []int64
		want    uint32
	}{
		{"tip", 800_000, now.Add(-time.Minute), []int64{3}, 800_000},
		{"one in ten backdated", 800_000, now.Add(-time.Minute), []int64{0, 99}, 799_901},
		{"backdate never below 0", 50, now.Add(-time.Minute), []int64{0, 99}, 0},
		{"stale tip", 800_000, now.Add(-9 * time.Hour), nil, 0},
		{"unknown tip time", 800_000, time.Time{}, nil, 0},
		{"no tip", -1, now, nil, 0},
	} {
		got, err := feeSnipingLockTime(tc.tip, tc.tipTime, now, fixed(tc.rand...))
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s: lock time %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestFundChangeType: Fund's change is P2WPKH by default (lnd's FundPsbt)
// and P2TR on request; its lock time and sequences are left plain.
func TestFundChangeType(t *testing.T) {
	c := newFakeChain()
	w, cfg := startedWallet(t, c, CreateParams{})
	addr, _ := w.NewAddress(AddressP2WPKH, false)
	c.mine(payTo(t, addr, 2_000_000, 9))
	c.mine(payTo(t, addr, 2_000_000, 10))
	waitSynced(t, w, c.height())
	dest, _ := btcutil.NewAddressWitnessPubKeyHash(make([]byte, 20), cfg.Net)
	script := scriptOfAddr(t, dest)
	for _, tc := range []struct {
		typ   AddressType
		check func([]byte) bool
	}{
		{AddressP2WPKH, txscript.IsPayToWitnessPubKeyHash},
		{AddressP2TR, txscript.IsPayToTaproot},
	} {
		f, err := w.Fund(context.Background(), FundRequest{
			Outputs: []*wire.TxOut{wire.NewTxOut(500_000, script)},
			FeeRate: 1000, MinConfs: 1, ChangeType: tc.typ,
		})
		if err != nil {
			t.Fatal(err)
		}
		if f.ChangeIndex < 0 || !tc.check(f.Tx.TxOut[f.ChangeIndex].PkScript) {
			t.Fatalf("%v: change %d of %v", tc.typ, f.ChangeIndex, f.Tx.TxOut)
		}
		if f.Tx.LockTime != 0 || f.Tx.TxIn[0].Sequence != wire.MaxTxInSequenceNum {
			t.Fatalf("%v: lock time %d sequence %#x", tc.typ, f.Tx.LockTime,
				f.Tx.TxIn[0].Sequence)
		}
	}
}
