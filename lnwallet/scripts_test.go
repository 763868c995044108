package lnwallet

import (
	"bytes"
	"crypto/sha256"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// spendEnv runs the script engine on one input spending a P2WSH (or
// P2WPKH) output, so that every witness builder is checked against the
// script it is meant to satisfy.
type spendEnv struct {
	t        *testing.T
	pkScript []byte
	script   []byte // witness script, or P2PKH-equivalent for P2WPKH
	value    btcutil.Amount
}

func newKey(t *testing.T, b byte) *btcec.PrivateKey {
	t.Helper()
	priv, _ := btcec.PrivKeyFromBytes(bytes.Repeat([]byte{b}, 32))
	return priv
}

// try builds a transaction with the given sequence and locktime, asks
// witness for its witness and runs the engine.
func (e *spendEnv) try(seq, lockTime uint32,
	witness func(tx *wire.MsgTx, sign func(*btcec.PrivateKey) []byte) wire.TxWitness) error {

	e.t.Helper()
	tx := wire.NewMsgTx(2)
	tx.LockTime = lockTime
	tx.AddTxIn(&wire.TxIn{
		PreviousOutPoint: wire.OutPoint{Index: 1},
		Sequence:         seq,
	})
	tx.AddTxOut(wire.NewTxOut(int64(e.value)-500,
		WitnessPubKeyHash(newKey(e.t, 9).PubKey())))
	sign := func(k *btcec.PrivateKey) []byte {
		sig, err := NewPrivKeySigner(k).SignOutputRaw(tx, &SignDescriptor{
			PubKey:        k.PubKey(),
			WitnessScript: e.script,
			Value:         e.value,
			HashType:      txscript.SigHashAll,
		})
		if err != nil {
			e.t.Fatal(err)
		}
		return ScriptSig(sig, txscript.SigHashAll)
	}
	tx.TxIn[0].Witness = witness(tx, sign)
	fetcher := txscript.NewCannedPrevOutputFetcher(e.pkScript,
		int64(e.value))
	vm, err := txscript.NewEngine(e.pkScript, tx, 0,
		txscript.StandardVerifyFlags, nil,
		txscript.NewTxSigHashes(tx, fetcher), int64(e.value), fetcher)
	if err != nil {
		return err
	}
	return vm.Execute()
}

func p2wsh(t *testing.T, script []byte, err error) *spendEnv {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	return &spendEnv{t: t, pkScript: WitnessScriptHash(script),
		script: script, value: 100000}
}

type witnessFn = func(*wire.MsgTx, func(*btcec.PrivateKey) []byte) wire.TxWitness

type spendCase struct {
	name     string
	seq      uint32
	lockTime uint32
	witness  witnessFn
	ok       bool
}

func runSpends(t *testing.T, env *spendEnv, cases []spendCase) {
	t.Helper()
	for _, c := range cases {
		err := env.try(c.seq, c.lockTime, c.witness)
		if c.ok && err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if !c.ok && err == nil {
			t.Errorf("%s: spend succeeded, want failure", c.name)
		}
	}
}

func TestFundingScriptSpend(t *testing.T) {
	a, b := newKey(t, 1), newKey(t, 2)
	ws, pk, err := FundingScript(b.PubKey(), a.PubKey())
	env := p2wsh(t, ws, err)
	if !bytes.Equal(pk, env.pkScript) {
		t.Fatal("funding pkScript is not the P2WSH of its script")
	}
	ws2, _, _ := FundingScript(a.PubKey(), b.PubKey())
	if !bytes.Equal(ws, ws2) {
		t.Fatal("funding script depends on key order")
	}
	runSpends(t, env, []spendCase{
		{"both signatures, any order given", 0xffffffff, 0,
			func(_ *wire.MsgTx, s func(*btcec.PrivateKey) []byte) wire.TxWitness {
				return FundingWitness(ws, b.PubKey(), s(b), a.PubKey(), s(a))
			}, true},
		{"one key signs twice", 0xffffffff, 0,
			func(_ *wire.MsgTx, s func(*btcec.PrivateKey) []byte) wire.TxWitness {
				return FundingWitness(ws, b.PubKey(), s(a), a.PubKey(), s(a))
			}, false},
	})
}

func TestToLocalSpends(t *testing.T) {
	rev, delayed := newKey(t, 3), newKey(t, 4)
	ws, err := ToLocalScript(rev.PubKey(), delayed.PubKey(), 144)
	env := p2wsh(t, ws, err)
	runSpends(t, env, []spendCase{
		{"delayed after to_self_delay", 144, 0,
			func(_ *wire.MsgTx, s func(*btcec.PrivateKey) []byte) wire.TxWitness {
				return ToLocalDelayedWitness(ws, s(delayed))
			}, true},
		{"delayed too early", 143, 0,
			func(_ *wire.MsgTx, s func(*btcec.PrivateKey) []byte) wire.TxWitness {
				return ToLocalDelayedWitness(ws, s(delayed))
			}, false},
		{"revocation at once", 0, 0,
			func(_ *wire.MsgTx, s func(*btcec.PrivateKey) []byte) wire.TxWitness {
				return ToLocalRevokeWitness(ws, s(rev))
			}, true},
		{"revocation path with delayed key", 0, 0,
			func(_ *wire.MsgTx, s func(*btcec.PrivateKey) []byte) wire.TxWitness {
				return ToLocalRevokeWitness(ws, s(delayed))
			}, false},
	})
}

func TestToRemoteAndAnchorSpends(t *testing.T) {
	remote, funding, other := newKey(t, 5), newKey(t, 6), newKey(t, 7)

	ws, err := ToRemoteAnchorScript(remote.PubKey())
	runSpends(t, p2wsh(t, ws, err), []spendCase{
		{"to_remote after 1 block", 1, 0,
			func(_ *wire.MsgTx, s func(*btcec.PrivateKey) []byte) wire.TxWitness {
				return ToRemoteAnchorWitness(ws, s(remote))
			}, true},
		{"to_remote without CSV", 0, 0,
			func(_ *wire.MsgTx, s func(*btcec.PrivateKey) []byte) wire.TxWitness {
				return ToRemoteAnchorWitness(ws, s(remote))
			}, false},
	})

	p2pkh, _ := txscript.NewScriptBuilder().AddOp(txscript.OP_DUP).
		AddOp(txscript.OP_HASH160).
		AddData(btcutil.Hash160(remote.PubKey().SerializeCompressed())).
		AddOp(txscript.OP_EQUALVERIFY).AddOp(txscript.OP_CHECKSIG).Script()
	env := &spendEnv{t: t, pkScript: WitnessPubKeyHash(remote.PubKey()),
		script: p2pkh, value: 100000}
	runSpends(t, env, []spendCase{
		{"to_remote P2WPKH", 0, 0,
			func(_ *wire.MsgTx, s func(*btcec.PrivateKey) []byte) wire.TxWitness {
				return ToRemoteP2WPKHWitness(remote.PubKey(), s(remote))
			}, true},
	})

	as, err := AnchorScript(funding.PubKey())
	runSpends(t, p2wsh(t, as, err), []spendCase{
		{"anchor by owner", 0, 0,
			func(_ *wire.MsgTx, s func(*btcec.PrivateKey) []byte) wire.TxWitness {
				return AnchorWitness(as, s(funding))
			}, true},
		{"anchor by other key", 0, 0,
			func(_ *wire.MsgTx, s func(*btcec.PrivateKey) []byte) wire.TxWitness {
				return AnchorWitness(as, s(other))
			}, false},
		{"anchor swept after 16 blocks", 16, 0,
			func(*wire.MsgTx, func(*btcec.PrivateKey) []byte) wire.TxWitness {
				return AnchorSweepWitness(as)
			}, true},
		{"anchor swept after 15 blocks", 15, 0,
			func(*wire.MsgTx, func(*btcec.PrivateKey) []byte) wire.TxWitness {
				return AnchorSweepWitness(as)
			}, false},
	})
}

// TestHTLCScriptSpends exercises every path of the offered and received
// HTLC scripts, for both channel types.
func TestHTLCScriptSpends(t *testing.T) {
	rev, local, remote := newKey(t, 10), newKey(t, 11), newKey(t, 12)
	preimage := [32]byte{0x42}
	hash := sha256.Sum256(preimage[:])
	const cltv = 500

	for _, anchors := range []bool{false, true} {
		// With anchors every path but revocation needs sequence 1,
		// which is why HTLC transactions use it.
		var rseq uint32
		if anchors {
			rseq = 1
		}

		os, err := OfferedHTLCScript(rev.PubKey(), local.PubKey(),
			remote.PubKey(), hash, anchors)
		cases := []spendCase{
			{"offered: revocation", 0, 0,
				func(_ *wire.MsgTx, s func(*btcec.PrivateKey) []byte) wire.TxWitness {
					return HTLCRevokeWitness(os, s(rev), rev.PubKey())
				}, true},
			{"offered: remote with preimage", rseq, 0,
				func(_ *wire.MsgTx, s func(*btcec.PrivateKey) []byte) wire.TxWitness {
					return OfferedHTLCRemoteSuccessWitness(os, s(remote), preimage)
				}, true},
			{"offered: remote with wrong preimage", rseq, 0,
				func(_ *wire.MsgTx, s func(*btcec.PrivateKey) []byte) wire.TxWitness {
					return OfferedHTLCRemoteSuccessWitness(os, s(remote), [32]byte{1})
				}, false},
			{"offered: HTLC-timeout 2-of-2", rseq, cltv,
				func(_ *wire.MsgTx, s func(*btcec.PrivateKey) []byte) wire.TxWitness {
					return HTLCTimeoutWitness(os, s(remote), s(local))
				}, true},
			{"offered: timeout without remote", rseq, cltv,
				func(_ *wire.MsgTx, s func(*btcec.PrivateKey) []byte) wire.TxWitness {
					return HTLCTimeoutWitness(os, s(local), s(local))
				}, false},
		}
		if anchors {
			cases = append(cases, spendCase{
				"offered: remote preimage without CSV", 0, 0,
				func(_ *wire.MsgTx, s func(*btcec.PrivateKey) []byte) wire.TxWitness {
					return OfferedHTLCRemoteSuccessWitness(os, s(remote), preimage)
				}, false})
		}
		runSpends(t, p2wsh(t, os, err), cases)

		rs, err := ReceivedHTLCScript(rev.PubKey(), local.PubKey(),
			remote.PubKey(), hash, cltv, anchors)
		cases = []spendCase{
			{"received: revocation", 0, 0,
				func(_ *wire.MsgTx, s func(*btcec.PrivateKey) []byte) wire.TxWitness {
					return HTLCRevokeWitness(rs, s(rev), rev.PubKey())
				}, true},
			{"received: HTLC-success 2-of-2", rseq, 0,
				func(_ *wire.MsgTx, s func(*btcec.PrivateKey) []byte) wire.TxWitness {
					return HTLCSuccessWitness(rs, s(remote), s(local), preimage)
				}, true},
			{"received: success with wrong preimage", rseq, 0,
				func(_ *wire.MsgTx, s func(*btcec.PrivateKey) []byte) wire.TxWitness {
					return HTLCSuccessWitness(rs, s(remote), s(local), [32]byte{})
				}, false},
			{"received: remote timeout", rseq, cltv,
				func(_ *wire.MsgTx, s func(*btcec.PrivateKey) []byte) wire.TxWitness {
					return ReceivedHTLCRemoteTimeoutWitness(rs, s(remote))
				}, true},
			{"received: remote timeout too early", rseq, cltv - 1,
				func(_ *wire.MsgTx, s func(*btcec.PrivateKey) []byte) wire.TxWitness {
					return ReceivedHTLCRemoteTimeoutWitness(rs, s(remote))
				}, false},
		}
		if anchors {
			cases = append(cases, spendCase{
				"received: remote timeout without CSV", 0, cltv,
				func(_ *wire.MsgTx, s func(*btcec.PrivateKey) []byte) wire.TxWitness {
					return ReceivedHTLCRemoteTimeoutWitness(rs, s(remote))
				}, false})
		}
		runSpends(t, p2wsh(t, rs, err), cases)
	}
}

func TestScriptsRejectNilKeys(t *testing.T) {
	k := newKey(t, 1).PubKey()
	if _, _, err := FundingScript(k, nil); err == nil {
		t.Error("funding script with nil key")
	}
	if _, err := ToLocalScript(nil, k, 1); err == nil {
		t.Error("to_local with nil key")
	}
	if _, err := OfferedHTLCScript(k, k, nil, [32]byte{}, true); err == nil {
		t.Error("offered HTLC with nil key")
	}
	if _, err := ReceivedHTLCScript(k, nil, k, [32]byte{}, 1, false); err == nil {
		t.Error("received HTLC with nil key")
	}
	if _, err := AnchorScript(nil); err == nil {
		t.Error("anchor with nil key")
	}
	if _, err := ToRemoteAnchorScript(nil); err == nil {
		t.Error("to_remote with nil key")
	}
}
