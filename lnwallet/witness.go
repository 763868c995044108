package lnwallet

import (
	"bytes"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// This file assembles the witness stacks that spend each BOLT 3 output.
// Signatures passed in are in script form: DER followed by the sighash
// byte (see ScriptSig). The witness script is always the last item.

// ScriptSig returns a signature in the form Script checks: DER encoding
// followed by the sighash type byte.
func ScriptSig(sig *ecdsa.Signature, hashType txscript.SigHashType) []byte {
	der := sig.Serialize()
	return append(der, byte(hashType))
}

// FundingWitness spends the 2-of-2 funding output:
// `0 <signature_for_pubkey1> <signature_for_pubkey2> <script>`, the
// signatures ordered like the keys in the script.
func FundingWitness(witnessScript []byte, keyA *btcec.PublicKey, sigA []byte,
	keyB *btcec.PublicKey, sigB []byte) wire.TxWitness {

	if bytes.Compare(keyA.SerializeCompressed(),
		keyB.SerializeCompressed()) > 0 {

		sigA, sigB = sigB, sigA
	}
	return wire.TxWitness{nil, sigA, sigB, witnessScript}
}

// ToLocalDelayedWitness spends to_local (or an HTLC transaction output)
// after to_self_delay: `<local_delayedsig> <>`. The input's sequence must
// be the delay.
func ToLocalDelayedWitness(witnessScript, sig []byte) wire.TxWitness {
	return wire.TxWitness{sig, nil, witnessScript}
}

// ToLocalRevokeWitness spends a revoked to_local (or HTLC transaction
// output) with the revocation key: `<revocation_sig> 1`.
func ToLocalRevokeWitness(witnessScript, sig []byte) wire.TxWitness {
	return wire.TxWitness{sig, {1}, witnessScript}
}

// ToRemoteAnchorWitness spends the option_anchors to_remote output:
// `<remote_sig>`, with input sequence 1.
func ToRemoteAnchorWitness(witnessScript, sig []byte) wire.TxWitness {
	return wire.TxWitness{sig, witnessScript}
}

// ToRemoteP2WPKHWitness spends the P2WPKH to_remote output of channels
// without anchors: `<sig> <remotepubkey>`.
func ToRemoteP2WPKHWitness(remoteKey *btcec.PublicKey,
	sig []byte) wire.TxWitness {

	return wire.TxWitness{sig, remoteKey.SerializeCompressed()}
}

// AnchorWitness spends an anchor output with its owner's funding key.
func AnchorWitness(witnessScript, sig []byte) wire.TxWitness {
	return wire.TxWitness{sig, witnessScript}
}

// AnchorSweepWitness lets anyone spend an anchor 16 blocks after the
// commitment confirmed: `<>`, with input sequence 16.
func AnchorSweepWitness(witnessScript []byte) wire.TxWitness {
	return wire.TxWitness{nil, witnessScript}
}

// HTLCRevokeWitness spends an offered or received HTLC output of a revoked
// commitment: `<revocation_sig> <revocationpubkey>`.
func HTLCRevokeWitness(witnessScript, sig []byte,
	revocationKey *btcec.PublicKey) wire.TxWitness {

	return wire.TxWitness{sig, revocationKey.SerializeCompressed(),
		witnessScript}
}

// OfferedHTLCRemoteSuccessWitness lets the remote node claim an HTLC
// offered to it with the preimage: `<remotehtlcsig> <payment_preimage>`
// (input sequence 1 with anchors).
func OfferedHTLCRemoteSuccessWitness(witnessScript, remoteSig []byte,
	preimage [32]byte) wire.TxWitness {

	return wire.TxWitness{remoteSig, preimage[:], witnessScript}
}

// ReceivedHTLCRemoteTimeoutWitness lets the remote node take back an HTLC
// it offered once it timed out: `<remotehtlcsig> <>` (locktime at least
// cltv_expiry, input sequence 1 with anchors).
func ReceivedHTLCRemoteTimeoutWitness(witnessScript,
	remoteSig []byte) wire.TxWitness {

	return wire.TxWitness{remoteSig, nil, witnessScript}
}

// HTLCTimeoutWitness is the HTLC-timeout transaction's witness:
// `0 <remotehtlcsig> <localhtlcsig> <>`.
func HTLCTimeoutWitness(witnessScript, remoteSig,
	localSig []byte) wire.TxWitness {

	return wire.TxWitness{nil, remoteSig, localSig, nil, witnessScript}
}

// HTLCSuccessWitness is the HTLC-success transaction's witness:
// `0 <remotehtlcsig> <localhtlcsig> <payment_preimage>`.
func HTLCSuccessWitness(witnessScript, remoteSig, localSig []byte,
	preimage [32]byte) wire.TxWitness {

	return wire.TxWitness{nil, remoteSig, localSig, preimage[:],
		witnessScript}
}
