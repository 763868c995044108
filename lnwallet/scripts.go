package lnwallet

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/txscript"

	//lint:ignore SA1019 OP_HASH160 commits to RIPEMD160; consensus fixes it.
	"golang.org/x/crypto/ripemd160"
)

// This file builds the witness scripts of BOLT 3 "Transactions" and the
// P2WSH/P2WPKH output scripts that commit to them.

// ErrNilKey is returned when a script is asked for with a missing key.
var ErrNilKey = errors.New("lnwallet: nil public key")

func ripemd160H(b []byte) []byte {
	h := ripemd160.New()
	h.Write(b)
	return h.Sum(nil)
}

// WitnessScriptHash returns the version-0 P2WSH output script
// (OP_0 <SHA256(witnessScript)>) for a witness script.
func WitnessScriptHash(witnessScript []byte) []byte {
	h := sha256.Sum256(witnessScript)
	out := make([]byte, 0, 34)
	out = append(out, txscript.OP_0, txscript.OP_DATA_32)
	return append(out, h[:]...)
}

// WitnessPubKeyHash returns the version-0 P2WPKH output script
// (OP_0 <HASH160(pubkey)>) for a compressed public key.
func WitnessPubKeyHash(pub *btcec.PublicKey) []byte {
	out := make([]byte, 0, 22)
	out = append(out, txscript.OP_0, txscript.OP_DATA_20)
	return append(out, btcutil.Hash160(pub.SerializeCompressed())...)
}

func checkKeys(keys ...*btcec.PublicKey) error {
	for _, k := range keys {
		if k == nil {
			return ErrNilKey
		}
	}
	return nil
}

// FundingScript returns the 2-of-2 funding witness script
// `2 <pubkey1> <pubkey2> 2 OP_CHECKMULTISIG`, with the lexicographically
// lesser compressed key first, and its P2WSH output script.
func FundingScript(a, b *btcec.PublicKey) (witnessScript, pkScript []byte,
	err error) {

	if err := checkKeys(a, b); err != nil {
		return nil, nil, fmt.Errorf("funding script: %w", err)
	}
	ka, kb := a.SerializeCompressed(), b.SerializeCompressed()
	if bytes.Compare(ka, kb) > 0 {
		ka, kb = kb, ka
	}
	s, err := txscript.NewScriptBuilder().
		AddOp(txscript.OP_2).AddData(ka).AddData(kb).
		AddOp(txscript.OP_2).AddOp(txscript.OP_CHECKMULTISIG).Script()
	if err != nil {
		return nil, nil, err
	}
	return s, WitnessScriptHash(s), nil
}

// ToLocalScript returns the to_local witness script, which is also the
// output script of HTLC-timeout and HTLC-success transactions:
//
//	OP_IF <revocationpubkey> OP_ELSE <to_self_delay> OP_CHECKSEQUENCEVERIFY
//	OP_DROP <local_delayedpubkey> OP_ENDIF OP_CHECKSIG
func ToLocalScript(revocationKey, delayedKey *btcec.PublicKey,
	toSelfDelay uint16) ([]byte, error) {

	if err := checkKeys(revocationKey, delayedKey); err != nil {
		return nil, fmt.Errorf("to_local script: %w", err)
	}
	return txscript.NewScriptBuilder().
		AddOp(txscript.OP_IF).
		AddData(revocationKey.SerializeCompressed()).
		AddOp(txscript.OP_ELSE).
		AddInt64(int64(toSelfDelay)).
		AddOp(txscript.OP_CHECKSEQUENCEVERIFY).
		AddOp(txscript.OP_DROP).
		AddData(delayedKey.SerializeCompressed()).
		AddOp(txscript.OP_ENDIF).
		AddOp(txscript.OP_CHECKSIG).
		Script()
}

// ToRemoteAnchorScript returns the option_anchors to_remote witness script
// `<remotepubkey> OP_CHECKSIGVERIFY 1 OP_CHECKSEQUENCEVERIFY`.
func ToRemoteAnchorScript(remoteKey *btcec.PublicKey) ([]byte, error) {
	if err := checkKeys(remoteKey); err != nil {
		return nil, fmt.Errorf("to_remote script: %w", err)
	}
	return txscript.NewScriptBuilder().
		AddData(remoteKey.SerializeCompressed()).
		AddOp(txscript.OP_CHECKSIGVERIFY).
		AddOp(txscript.OP_1).
		AddOp(txscript.OP_CHECKSEQUENCEVERIFY).
		Script()
}

// AnchorScript returns the anchor output witness script for a funding key:
//
//	<funding_pubkey> OP_CHECKSIG OP_IFDUP OP_NOTIF OP_16
//	OP_CHECKSEQUENCEVERIFY OP_ENDIF
func AnchorScript(fundingKey *btcec.PublicKey) ([]byte, error) {
	if err := checkKeys(fundingKey); err != nil {
		return nil, fmt.Errorf("anchor script: %w", err)
	}
	return txscript.NewScriptBuilder().
		AddData(fundingKey.SerializeCompressed()).
		AddOp(txscript.OP_CHECKSIG).
		AddOp(txscript.OP_IFDUP).
		AddOp(txscript.OP_NOTIF).
		AddOp(txscript.OP_16).
		AddOp(txscript.OP_CHECKSEQUENCEVERIFY).
		AddOp(txscript.OP_ENDIF).
		Script()
}

// revocationHashPrefix starts both HTLC scripts:
// OP_DUP OP_HASH160 <RIPEMD160(SHA256(revocationpubkey))> OP_EQUAL OP_IF
// OP_CHECKSIG OP_ELSE <remote_htlcpubkey> OP_SWAP OP_SIZE 32 OP_EQUAL.
func revocationHashPrefix(b *txscript.ScriptBuilder, revocationKey,
	remoteHtlcKey *btcec.PublicKey) {

	b.AddOp(txscript.OP_DUP).
		AddOp(txscript.OP_HASH160).
		AddData(btcutil.Hash160(revocationKey.SerializeCompressed())).
		AddOp(txscript.OP_EQUAL).
		AddOp(txscript.OP_IF).
		AddOp(txscript.OP_CHECKSIG).
		AddOp(txscript.OP_ELSE).
		AddData(remoteHtlcKey.SerializeCompressed()).
		AddOp(txscript.OP_SWAP).
		AddOp(txscript.OP_SIZE).
		AddInt64(32).
		AddOp(txscript.OP_EQUAL)
}

// OfferedHTLCScript returns the witness script of an HTLC offered by the
// commitment owner ("local"). With anchors the remote's spending paths
// carry a 1-block CSV.
func OfferedHTLCScript(revocationKey, localHtlcKey, remoteHtlcKey *btcec.PublicKey,
	paymentHash [32]byte, anchors bool) ([]byte, error) {

	if err := checkKeys(revocationKey, localHtlcKey,
		remoteHtlcKey); err != nil {

		return nil, fmt.Errorf("offered HTLC script: %w", err)
	}
	b := txscript.NewScriptBuilder()
	revocationHashPrefix(b, revocationKey, remoteHtlcKey)
	b.AddOp(txscript.OP_NOTIF).
		AddOp(txscript.OP_DROP).
		AddOp(txscript.OP_2).
		AddOp(txscript.OP_SWAP).
		AddData(localHtlcKey.SerializeCompressed()).
		AddOp(txscript.OP_2).
		AddOp(txscript.OP_CHECKMULTISIG).
		AddOp(txscript.OP_ELSE).
		AddOp(txscript.OP_HASH160).
		AddData(ripemd160H(paymentHash[:])).
		AddOp(txscript.OP_EQUALVERIFY).
		AddOp(txscript.OP_CHECKSIG).
		AddOp(txscript.OP_ENDIF)
	if anchors {
		b.AddOp(txscript.OP_1).
			AddOp(txscript.OP_CHECKSEQUENCEVERIFY).
			AddOp(txscript.OP_DROP)
	}
	b.AddOp(txscript.OP_ENDIF)
	return b.Script()
}

// ReceivedHTLCScript returns the witness script of an HTLC received by the
// commitment owner ("local"). With anchors the remote's spending paths
// carry a 1-block CSV.
func ReceivedHTLCScript(revocationKey, localHtlcKey,
	remoteHtlcKey *btcec.PublicKey, paymentHash [32]byte, cltvExpiry uint32,
	anchors bool) ([]byte, error) {

	if err := checkKeys(revocationKey, localHtlcKey,
		remoteHtlcKey); err != nil {

		return nil, fmt.Errorf("received HTLC script: %w", err)
	}
	b := txscript.NewScriptBuilder()
	revocationHashPrefix(b, revocationKey, remoteHtlcKey)
	b.AddOp(txscript.OP_IF).
		AddOp(txscript.OP_HASH160).
		AddData(ripemd160H(paymentHash[:])).
		AddOp(txscript.OP_EQUALVERIFY).
		AddOp(txscript.OP_2).
		AddOp(txscript.OP_SWAP).
		AddData(localHtlcKey.SerializeCompressed()).
		AddOp(txscript.OP_2).
		AddOp(txscript.OP_CHECKMULTISIG).
		AddOp(txscript.OP_ELSE).
		AddOp(txscript.OP_DROP).
		AddInt64(int64(cltvExpiry)).
		AddOp(txscript.OP_CHECKLOCKTIMEVERIFY).
		AddOp(txscript.OP_DROP).
		AddOp(txscript.OP_CHECKSIG).
		AddOp(txscript.OP_ENDIF)
	if anchors {
		b.AddOp(txscript.OP_1).
			AddOp(txscript.OP_CHECKSEQUENCEVERIFY).
			AddOp(txscript.OP_DROP)
	}
	b.AddOp(txscript.OP_ENDIF)
	return b.Script()
}
