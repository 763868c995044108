package lnwallet

import (
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// sweep builds a one-input transaction spending out of tx, signs it as
// desc describes with signer, lets witness assemble the stack and runs
// the script engine.
func sweep(t *testing.T, signer Signer, prev *wire.MsgTx, index uint32,
	seq uint32, desc *SignDescriptor,
	witness func(sig []byte) wire.TxWitness) {

	t.Helper()
	out := prev.TxOut[index]
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(&wire.TxIn{
		PreviousOutPoint: wire.OutPoint{Hash: prev.TxHash(), Index: index},
		Sequence:         seq,
	})
	tx.AddTxOut(wire.NewTxOut(out.Value-1000, out.PkScript))
	desc.Value = btcutil.Amount(out.Value)
	desc.HashType = txscript.SigHashAll
	sig, err := signer.SignOutputRaw(tx, desc)
	if err != nil {
		t.Fatal(err)
	}
	tx.TxIn[0].Witness = witness(ScriptSig(sig, txscript.SigHashAll))
	checkSpends(t, tx, out.PkScript, out.Value)
}

// TestSweepPaths spends the outputs of a real commitment and HTLC
// transaction through the Signer with per-commitment tweaks: the owner's
// delayed outputs, the peer's to_remote, both anchors, and, once the
// commitment is revoked, every output with the revocation key.
func TestSweepPaths(t *testing.T) {
	for _, typ := range []ChannelType{ChannelTypeStaticRemoteKey,
		ChannelTypeAnchors} {

		tp := newTestPair(t, typ)
		p := tp.aliceParams
		spec := testSpec(6, 253)
		aliceSecret, alicePoint := commitPointAt(1, spec.Number)

		// Alice's commitment, fully signed.
		_, cs, err := SignRemoteCommitment(tp.bob.signer(), tp.bobParams,
			alicePoint, mirrorSpec(spec))
		if err != nil {
			t.Fatal(err)
		}
		c, err := VerifyLocalCommitment(p, alicePoint, spec, cs)
		if err != nil {
			t.Fatal(err)
		}
		sig, _ := SignCommitment(tp.alice.signer(), p, c)
		commitTx, err := SignedCommitmentTx(p, c, sig, cs.Sig)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.HTLCs) == 0 || c.ToLocalIndex < 0 || c.ToRemoteIndex < 0 {
			t.Fatal("test state lacks outputs")
		}

		// Alice's to_local after the delay, with her delayed
		// basepoint tweaked.
		sweep(t, tp.alice.signer(), commitTx, uint32(c.ToLocalIndex),
			uint32(p.Local.CsvDelay), &SignDescriptor{
				PubKey: p.Local.DelayedPaymentBasePoint,
				SingleTweak: SingleTweak(alicePoint,
					p.Local.DelayedPaymentBasePoint),
				WitnessScript: c.ToLocalScript,
			}, func(sig []byte) wire.TxWitness {
				return ToLocalDelayedWitness(c.ToLocalScript, sig)
			})

		// Bob's to_remote with his payment basepoint.
		remoteDesc := &SignDescriptor{PubKey: p.Remote.PaymentBasePoint}
		var seq uint32
		remoteWitness := func(sig []byte) wire.TxWitness {
			return ToRemoteP2WPKHWitness(p.Remote.PaymentBasePoint, sig)
		}
		if typ.HasAnchors() {
			seq = 1
			remoteDesc.WitnessScript = c.ToRemoteScript
			remoteWitness = func(sig []byte) wire.TxWitness {
				return ToRemoteAnchorWitness(c.ToRemoteScript, sig)
			}
		} else {
			remoteDesc.WitnessScript = p2pkhScript(t,
				p.Remote.PaymentBasePoint)
		}
		sweep(t, tp.bob.signer(), commitTx, uint32(c.ToRemoteIndex), seq,
			remoteDesc, remoteWitness)

		if typ.HasAnchors() {
			sweep(t, tp.alice.signer(), commitTx,
				uint32(c.LocalAnchorIndex), 0, &SignDescriptor{
					PubKey:        p.Local.FundingKey,
					WitnessScript: c.AnchorScripts[0],
				}, func(sig []byte) wire.TxWitness {
					return AnchorWitness(c.AnchorScripts[0], sig)
				})
			sweep(t, tp.bob.signer(), commitTx,
				uint32(c.RemoteAnchorIndex), 0, &SignDescriptor{
					PubKey:        p.Remote.FundingKey,
					WitnessScript: c.AnchorScripts[1],
				}, func(sig []byte) wire.TxWitness {
					return AnchorWitness(c.AnchorScripts[1], sig)
				})
		}

		// Alice revokes: Bob now holds her per-commitment secret and
		// takes everything with his revocation basepoint secret.
		revoke := func(script []byte) *SignDescriptor {
			return &SignDescriptor{
				PubKey:        p.Remote.RevocationBasePoint,
				DoubleTweak:   aliceSecret,
				WitnessScript: script,
			}
		}
		sweep(t, tp.bob.signer(), commitTx, uint32(c.ToLocalIndex), 0,
			revoke(c.ToLocalScript), func(sig []byte) wire.TxWitness {
				return ToLocalRevokeWitness(c.ToLocalScript, sig)
			})
		for i, h := range c.HTLCs {
			sweep(t, tp.bob.signer(), commitTx, h.OutputIndex, 0,
				revoke(h.WitnessScript), func(sig []byte) wire.TxWitness {
					return HTLCRevokeWitness(h.WitnessScript, sig,
						c.Keys.RevocationKey)
				})

			// And the output of a second-level transaction Alice
			// managed to broadcast: delayed for her, revocable
			// for Bob.
			ls, _ := SignHTLC(tp.alice.signer(), p, c, i)
			var pre [32]byte
			if !h.Offered {
				pre = preimageFor(h.PaymentHash)
			}
			stx, err := SignedHTLCTx(p, c, i, cs.HTLCSigs[i], ls, pre)
			if err != nil {
				t.Fatal(err)
			}
			sweep(t, tp.bob.signer(), stx, 0, 0,
				revoke(h.SecondLevelScript), func(sig []byte) wire.TxWitness {
					return ToLocalRevokeWitness(h.SecondLevelScript, sig)
				})
			sweep(t, tp.alice.signer(), stx, 0, uint32(p.Local.CsvDelay),
				&SignDescriptor{
					PubKey: p.Local.DelayedPaymentBasePoint,
					SingleTweak: SingleTweak(alicePoint,
						p.Local.DelayedPaymentBasePoint),
					WitnessScript: h.SecondLevelScript,
				}, func(sig []byte) wire.TxWitness {
					return ToLocalDelayedWitness(h.SecondLevelScript, sig)
				})
		}
	}
}

func p2pkhScript(t *testing.T, pub *btcec.PublicKey) []byte {
	t.Helper()
	s, err := txscript.NewScriptBuilder().AddOp(txscript.OP_DUP).
		AddOp(txscript.OP_HASH160).
		AddData(btcutil.Hash160(pub.SerializeCompressed())).
		AddOp(txscript.OP_EQUALVERIFY).AddOp(txscript.OP_CHECKSIG).Script()
	if err != nil {
		t.Fatal(err)
	}
	return s
}
