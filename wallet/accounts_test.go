package wallet

import (
	"context"
	"errors"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// TestAccounts checks the account keys against the BIP 84 and BIP 86 test
// vectors (account 0 of the "abandon ... about" mnemonic) and the counts of
// addresses handed out.
func TestAccounts(t *testing.T) {
	cfg := testConfig(t, nil)
	cfg.Net = &chaincfg.MainNetParams
	w := mustCreate(t, cfg, CreateParams{Mnemonic: abandonMnemonic, Restore: true})
	for range 3 {
		if _, err := w.NewAddress(AddressP2WPKH, false); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.NewAddress(AddressP2WPKH, true); err != nil {
		t.Fatal(err)
	}
	accts, err := w.Accounts()
	if err != nil {
		t.Fatal(err)
	}
	want := []Account{
		{Type: AddressP2WPKH, Path: "m/84'/0'/0'", External: 3, Internal: 1,
			XPub: "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs"},
		{Type: AddressP2TR, Path: "m/86'/0'/0'",
			XPub: "xpub6BgBgsespWvERF3LHQu6CnqdvfEvtMcQjYrcRzx53QJjSxarj2afYWcLteoGVky7D3UKDP9QyrLprQ3VCECoY49yfdDEHGCtMMj92pReUsQ"},
		{Type: AddressNP2WPKH, Path: "m/49'/0'/0'",
			XPub: "ypub6Ww3ibxVfGzLrAH1PNcjyAWenMTbbAosGNB6VvmSEgytSER9azLDWCxoJwW7Ke7icmizBMXrzBx9979FfaHxHcrArf3zbeJJJUZPf663zsP"},
	}
	if len(accts) != len(want) {
		t.Fatalf("got %d accounts, want %d", len(accts), len(want))
	}
	for i := range want {
		if accts[i] != want[i] {
			t.Errorf("account %d:\n got %+v\nwant %+v", i, accts[i], want[i])
		}
	}

	// Regtest: a vpub, coin type 1.
	rcfg := testConfig(t, nil)
	rw := mustCreate(t, rcfg, CreateParams{Mnemonic: abandonMnemonic, Restore: true})
	accts, err = rw.Accounts()
	if err != nil {
		t.Fatal(err)
	}
	if got := accts[0].XPub[:4]; got != "vpub" || accts[0].Path != "m/84'/1'/0'" {
		t.Fatalf("regtest p2wpkh account %+v", accts[0])
	}
	if got := accts[1].XPub[:4]; got != "tpub" || accts[1].Path != "m/86'/1'/0'" {
		t.Fatalf("regtest p2tr account %+v", accts[1])
	}
	// BIP 49's testnet vector: the account key, and the first receive
	// address derived from it (m/49'/1'/0'/0/0).
	const upub = "upub5EFU65HtV5TeiSHmZZm7FUffBGy8UKeqp7vw43jYbvZPpoVsgU93oac7Wk3u6moKegAEWtGNF8DehrnHtv21XXEMYRUocHqguyjknFHYfgY"
	if accts[2].XPub != upub || accts[2].Path != "m/49'/1'/0'" {
		t.Fatalf("regtest nested account %+v", accts[2])
	}
	key, err := hdkeychain.NewKeyFromString(accts[2].XPub)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []uint32{0, 0} {
		if key, err = key.Derive(i); err != nil {
			t.Fatal(err)
		}
	}
	pub, err := key.ECPubKey()
	if err != nil {
		t.Fatal(err)
	}
	script, err := pkScriptFor(AddressNP2WPKH, pub)
	if err != nil {
		t.Fatal(err)
	}
	if addr := scriptAddress(script, rw); addr != "2Mww8dCYPUpKHofjgcXcBCEGmniw9CoaiD2" {
		t.Fatalf("first address from the nested account key: %s", addr)
	}
}

// TestSignOwnInputs signs a transaction spending a P2WPKH and a P2TR
// output of the wallet and one output of someone else.
func TestSignOwnInputs(t *testing.T) {
	c := newFakeChain()
	w, _ := startedWallet(t, c, CreateParams{})
	a1, _ := w.NewAddress(AddressP2WPKH, false)
	a2, _ := w.NewAddress(AddressP2TR, false)
	a3, _ := w.NewAddress(AddressNP2WPKH, false)
	p1, p2, p3 := payTo(t, a1, 100_000, 1), payTo(t, a2, 200_000, 2), payTo(t, a3, 300_000, 4)
	c.mine(p1, p2, p3)
	waitSynced(t, w, c.height())

	foreign := wire.OutPoint{Hash: chainhash.Hash{0xfe}, Index: 3}
	foreignOut := wire.NewTxOut(50_000, payTo(t, nil2(t), 1, 3).TxOut[0].PkScript)
	msg := wire.NewMsgTx(2)
	msg.AddTxIn(wire.NewTxIn(&foreign, nil, nil))
	msg.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: p1.TxHash()}, nil, nil))
	msg.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: p2.TxHash()}, nil, nil))
	msg.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: p3.TxHash()}, nil, nil))
	msg.AddTxOut(wire.NewTxOut(640_000, foreignOut.PkScript))

	if _, err := w.SignOwnInputs(msg, nil); !errors.Is(err, ErrMissingPrevOut) {
		t.Fatalf("without the foreign previous output: %v", err)
	}
	bad := map[wire.OutPoint]*wire.TxOut{foreign: foreignOut,
		{Hash: p1.TxHash()}: wire.NewTxOut(1, p1.TxOut[0].PkScript)}
	if _, err := w.SignOwnInputs(msg, bad); !errors.Is(err, ErrPrevOutMismatch) {
		t.Fatalf("with a wrong amount for our input: %v", err)
	}

	prevs := map[wire.OutPoint]*wire.TxOut{foreign: foreignOut}
	signed, err := w.SignOwnInputs(msg, prevs)
	if err != nil {
		t.Fatal(err)
	}
	if len(signed) != 3 || signed[0].Index != 1 || signed[0].Type != AddressP2WPKH ||
		signed[1].Index != 2 || signed[1].Type != AddressP2TR ||
		signed[2].Index != 3 || signed[2].Type != AddressNP2WPKH || len(signed[2].RedeemScript) != 22 ||
		signed[0].RedeemScript != nil {
		t.Fatalf("signed %+v", signed)
	}
	if signed[0].PrevOut.Value != 100_000 || signed[1].PrevOut.Value != 200_000 {
		t.Fatalf("previous outputs %+v %+v", signed[0].PrevOut, signed[1].PrevOut)
	}
	for _, in := range msg.TxIn {
		if len(in.Witness) != 0 {
			t.Fatal("SignOwnInputs changed the transaction")
		}
	}
	// The witnesses verify against the full set of previous outputs.
	all := map[wire.OutPoint]*wire.TxOut{foreign: foreignOut,
		{Hash: p1.TxHash()}: p1.TxOut[0], {Hash: p2.TxHash()}: p2.TxOut[0], {Hash: p3.TxHash()}: p3.TxOut[0]}
	fetcher := txscript.NewMultiPrevOutFetcher(all)
	final := msg.Copy()
	for _, s := range signed {
		final.TxIn[s.Index].Witness = s.Witness
		if s.RedeemScript != nil {
			sigScript, err := txscript.NewScriptBuilder().AddData(s.RedeemScript).Script()
			if err != nil {
				t.Fatal(err)
			}
			final.TxIn[s.Index].SignatureScript = sigScript
		}
	}
	hashes := txscript.NewTxSigHashes(final, fetcher)
	for _, s := range signed {
		prev := all[final.TxIn[s.Index].PreviousOutPoint]
		vm, err := txscript.NewEngine(prev.PkScript, final, s.Index,
			txscript.StandardVerifyFlags, nil, hashes, prev.Value, fetcher)
		if err != nil {
			t.Fatal(err)
		}
		if err := vm.Execute(); err != nil {
			t.Fatalf("input %d: %v", s.Index, err)
		}
	}

	// Nothing of ours: nothing signed.
	only := wire.NewMsgTx(2)
	only.AddTxIn(wire.NewTxIn(&foreign, nil, nil))
	only.AddTxOut(wire.NewTxOut(40_000, foreignOut.PkScript))
	if s, err := w.SignOwnInputs(only, prevs); err != nil || len(s) != 0 {
		t.Fatalf("foreign-only: %v %v", s, err)
	}

	w.Stop()
	if _, err := w.SignOwnInputs(msg, prevs); err == nil {
		t.Fatal("signed after Stop")
	}
}

// TestFundInputs: Fund with named inputs spends exactly those, in order,
// with change, and refuses leased, unknown, repeated or too small ones.
func TestFundInputs(t *testing.T) {
	c := newFakeChain()
	w, _ := startedWallet(t, c, CreateParams{})
	var ops []wire.OutPoint
	for i, amt := range []btcutil.Amount{100_000, 200_000, 300_000} {
		a, _ := w.NewAddress(AddressP2WPKH, false)
		p := payTo(t, a, amt, byte(10+i))
		c.mine(p)
		ops = append(ops, wire.OutPoint{Hash: p.TxHash()})
	}
	waitSynced(t, w, c.height())
	ext := payTo(t, nil2(t), 1, 9).TxOut[0].PkScript
	out := []*wire.TxOut{wire.NewTxOut(250_000, ext)}

	f, err := w.Fund(context.Background(), FundRequest{Outputs: out, FeeRate: 1000,
		MinConfs: 1, Inputs: []wire.OutPoint{ops[2], ops[0]}})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Tx.TxIn) != 2 || f.Tx.TxIn[0].PreviousOutPoint != ops[2] ||
		f.Tx.TxIn[1].PreviousOutPoint != ops[0] || f.ChangeIndex < 0 {
		t.Fatalf("funded %+v", f.Tx)
	}
	if change := f.Tx.TxOut[f.ChangeIndex].Value; btcutil.Amount(change)+f.Fee != 150_000 || f.Fee <= 0 {
		t.Fatalf("change %d fee %v", change, f.Fee)
	}
	if err := w.SignTx(f.Tx); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name   string
		inputs []wire.OutPoint
		want   error
	}{
		{"leased", []wire.OutPoint{ops[0]}, ErrOutputLeased},
		{"unknown", []wire.OutPoint{{Index: 9}}, ErrUnknownOutput},
		{"repeated", []wire.OutPoint{ops[1], ops[1]}, ErrUnknownOutput},
		{"too small", []wire.OutPoint{ops[1]}, ErrInsufficientFunds},
	}
	for _, tc := range cases {
		_, err := w.Fund(context.Background(), FundRequest{Outputs: out, FeeRate: 1000,
			MinConfs: 1, Inputs: tc.inputs})
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// Nothing was leased by the refusals: ops[1] is still free.
	if b := balance(t, w); b.Locked != 400_000 {
		t.Fatalf("locked %v", b.Locked)
	}

	// A change below dust goes to the fee.
	f, err = w.Fund(context.Background(), FundRequest{Outputs: []*wire.TxOut{wire.NewTxOut(199_700, ext)},
		FeeRate: 253, MinConfs: 1, Inputs: []wire.OutPoint{ops[1]}})
	if err != nil {
		t.Fatal(err)
	}
	if f.ChangeIndex != -1 || f.Fee != 300 {
		t.Fatalf("dust change: index %d fee %v", f.ChangeIndex, f.Fee)
	}
}
