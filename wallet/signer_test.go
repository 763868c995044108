package wallet

import (
	"errors"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/brontide"
)

// The node key plugs into brontide as its static key.
var _ brontide.ECDH = (*NodeKeyECDH)(nil)

// TestSignOutputRaw signs P2WSH inputs with channel keys, plain, single
// tweaked (BOLT 3 localpubkey) and double tweaked (revocationpubkey), and
// runs the script engine on the result.
func TestSignOutputRaw(t *testing.T) {
	w := mustCreate(t, testConfig(t, nil), CreateParams{})
	delay, err := w.DeriveNextKey(KeyFamilyDelayBase)
	if err != nil {
		t.Fatal(err)
	}
	if next, _ := w.DeriveNextKey(KeyFamilyDelayBase); next.Index != delay.Index+1 {
		t.Fatalf("DeriveNextKey did not advance: %d then %d", delay.Index, next.Index)
	}
	rev, err := w.DeriveKey(KeyLocator{Family: KeyFamilyRevocationBase, Index: 4})
	if err != nil {
		t.Fatal(err)
	}
	commitSecret, _ := btcec.NewPrivateKey()
	commitPoint := commitSecret.PubKey()

	// Public-side derivations, computed without the wallet's secrets.
	tweak := sha256Concat(commitPoint.SerializeCompressed(), delay.PubKey.SerializeCompressed())
	localPub := addPoints(delay.PubKey, scalarBase(tweak))
	h1 := sha256Concat(rev.PubKey.SerializeCompressed(), commitPoint.SerializeCompressed())
	h2 := sha256Concat(commitPoint.SerializeCompressed(), rev.PubKey.SerializeCompressed())
	revPub := addPoints(mulPoint(rev.PubKey, h1), mulPoint(commitPoint, h2))

	tests := []struct {
		name string
		key  *btcec.PublicKey
		desc SignDescriptor
	}{
		{"plain", delay.PubKey, SignDescriptor{KeyDesc: delay}},
		{"single tweak", localPub, SignDescriptor{KeyDesc: delay, SingleTweak: tweak}},
		{"double tweak", revPub, SignDescriptor{KeyDesc: rev, DoubleTweak: commitSecret}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			script, err := txscript.NewScriptBuilder().
				AddData(tc.key.SerializeCompressed()).AddOp(txscript.OP_CHECKSIG).Script()
			if err != nil {
				t.Fatal(err)
			}
			h := chainhash.HashB(script)
			pkScript, _ := txscript.NewScriptBuilder().AddOp(txscript.OP_0).AddData(h).Script()
			out := wire.NewTxOut(100_000, pkScript)
			tx := wire.NewMsgTx(2)
			tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: chainhash.Hash{1}}, nil, nil))
			tx.AddTxOut(wire.NewTxOut(90_000, p2wpkhScript))

			desc := tc.desc
			desc.WitnessScript = script
			desc.Output = out
			desc.HashType = txscript.SigHashAll
			sig, err := w.SignOutputRaw(tx, &desc)
			if err != nil {
				t.Fatal(err)
			}
			tx.TxIn[0].Witness = wire.TxWitness{
				append(sig.Serialize(), byte(txscript.SigHashAll)), script}
			fetcher := txscript.NewCannedPrevOutputFetcher(pkScript, out.Value)
			vm, err := txscript.NewEngine(pkScript, tx, 0, txscript.StandardVerifyFlags,
				nil, txscript.NewTxSigHashes(tx, fetcher), out.Value, fetcher)
			if err != nil {
				t.Fatal(err)
			}
			if err := vm.Execute(); err != nil {
				t.Fatalf("signature does not verify: %v", err)
			}
		})
	}

	// A descriptor by public key alone finds its key, even in a wallet
	// reopened (no cache) and for an index never handed out.
	far, err := w.DeriveKey(KeyLocator{Family: KeyFamilyRevocationRoot, Index: 200})
	if err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	clear(w.pubKeys)
	w.mu.Unlock()
	for _, d := range []KeyDescriptor{delay, rev, far} {
		priv, err := w.DerivePrivKey(KeyDescriptor{PubKey: d.PubKey})
		if err != nil {
			t.Fatalf("%+v by pubkey: %v", d.KeyLocator, err)
		}
		if !priv.PubKey().IsEqual(d.PubKey) {
			t.Fatalf("%+v by pubkey: wrong key", d.KeyLocator)
		}
	}
	// An unknown public key is refused.
	stranger, _ := btcec.NewPrivateKey()
	if _, err := w.DerivePrivKey(KeyDescriptor{PubKey: stranger.PubKey()}); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("stranger key: %v", err)
	}
	if _, err := w.DeriveKey(KeyLocator{Family: KeyFamily(hardened)}); err == nil {
		t.Fatal("hardened family number accepted")
	}
}

func TestNodeKeyECDH(t *testing.T) {
	w := mustCreate(t, testConfig(t, nil), CreateParams{})
	n, err := w.NodeKeyECDH()
	if err != nil {
		t.Fatal(err)
	}
	nk, _ := w.NodeKey()
	if nk.Family != KeyFamilyNodeKey || nk.Index != 0 || !nk.PubKey.IsEqual(n.PubKey()) {
		t.Fatalf("node key %+v", nk)
	}
	peer, _ := btcec.NewPrivateKey()
	got, err := n.ECDH(peer.PubKey())
	if err != nil {
		t.Fatal(err)
	}
	if got != mustECDH(t, peer, n.PubKey()) {
		t.Fatal("ECDH disagrees with the peer's side")
	}
	var digest [32]byte
	digest[0] = 1
	sig, err := w.SignDigest(nk.KeyLocator, digest)
	if err != nil {
		t.Fatal(err)
	}
	if !sig.Verify(digest[:], nk.PubKey) {
		t.Fatal("node signature does not verify")
	}
	compact, err := w.SignDigestCompact(nk.KeyLocator, digest)
	if err != nil {
		t.Fatal(err)
	}
	rec, wasCompressed, err := ecdsa.RecoverCompact(compact, digest[:])
	if err != nil || !wasCompressed || !rec.IsEqual(nk.PubKey) {
		t.Fatalf("compact signature recovers %v (compressed %v, %v), want the node key", rec, wasCompressed, err)
	}
}

func scalarBase(k []byte) *btcec.PublicKey {
	priv, _ := btcec.PrivKeyFromBytes(k)
	return priv.PubKey()
}

func addPoints(a, b *btcec.PublicKey) *btcec.PublicKey {
	var ja, jb, r btcec.JacobianPoint
	a.AsJacobian(&ja)
	b.AsJacobian(&jb)
	btcec.AddNonConst(&ja, &jb, &r)
	r.ToAffine()
	return btcec.NewPublicKey(&r.X, &r.Y)
}

func mulPoint(p *btcec.PublicKey, k []byte) *btcec.PublicKey {
	var s btcec.ModNScalar
	s.SetByteSlice(k)
	var jp, r btcec.JacobianPoint
	p.AsJacobian(&jp)
	btcec.ScalarMultNonConst(&s, &jp, &r)
	r.ToAffine()
	return btcec.NewPublicKey(&r.X, &r.Y)
}
