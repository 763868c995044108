package lnwallet

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// This file signs and verifies commitment and HTLC transactions for the
// channel state machine.

// fundingSignDesc describes the commitment's funding input for our
// funding key.
func fundingSignDesc(p *ChannelParams, key *btcec.PublicKey) (*SignDescriptor,
	error) {

	script, _, err := p.FundingScript()
	if err != nil {
		return nil, err
	}
	return &SignDescriptor{
		PubKey:        key,
		WitnessScript: script,
		Value:         p.Capacity,
		HashType:      txscript.SigHashAll,
	}, nil
}

// SignFundingSpend signs input 0 of a transaction spending the funding
// output (a commitment or closing transaction) with our funding key.
func SignFundingSpend(s Signer, p *ChannelParams,
	tx *wire.MsgTx) (*ecdsa.Signature, error) {

	desc, err := fundingSignDesc(p, p.Local.FundingKey)
	if err != nil {
		return nil, err
	}
	return s.SignOutputRaw(tx, desc)
}

// VerifyFundingSpend checks the peer's signature on input 0 of a
// transaction spending the funding output.
func VerifyFundingSpend(p *ChannelParams, tx *wire.MsgTx,
	sig *ecdsa.Signature) error {

	desc, err := fundingSignDesc(p, p.Remote.FundingKey)
	if err != nil {
		return err
	}
	return verify(tx, desc, p.Remote.FundingKey, sig)
}

// SignCommitment signs c's commitment transaction with our funding key.
func SignCommitment(s Signer, p *ChannelParams,
	c *Commitment) (*ecdsa.Signature, error) {

	return SignFundingSpend(s, p, c.Tx)
}

// VerifyCommitmentSig checks the peer's signature on c.
func VerifyCommitmentSig(p *ChannelParams, c *Commitment,
	sig *ecdsa.Signature) error {

	if err := VerifyFundingSpend(p, c.Tx, sig); err != nil {
		return fmt.Errorf("commitment %d: %w", c.Number, err)
	}
	return nil
}

// htlcSignDesc describes the input of c.HTLCs[i]'s second-level
// transaction for the HTLC key of party signer.
func htlcSignDesc(p *ChannelParams, c *Commitment, i int,
	signer Party) *SignDescriptor {

	h := &c.HTLCs[i]
	base := p.config(signer).HtlcBasePoint
	hashType := txscript.SigHashAll
	if signer != c.Owner {
		hashType = RemoteHTLCSigHashType(p.Type)
	}
	return &SignDescriptor{
		PubKey:        base,
		SingleTweak:   SingleTweak(c.Keys.CommitPoint, base),
		WitnessScript: h.WitnessScript,
		Value:         h.Amount(),
		HashType:      hashType,
	}
}

// SignHTLC signs the second-level transaction of c.HTLCs[i] with our HTLC
// key: SIGHASH_ALL on our own commitment, RemoteHTLCSigHashType on the
// peer's.
func SignHTLC(s Signer, p *ChannelParams, c *Commitment,
	i int) (*ecdsa.Signature, error) {

	if i < 0 || i >= len(c.HTLCs) {
		return nil, fmt.Errorf("lnwallet: HTLC %d out of range", i)
	}
	return s.SignOutputRaw(c.HTLCs[i].SecondLevelTx,
		htlcSignDesc(p, c, i, Local))
}

// SignHTLCs signs every second-level transaction of c, in output order:
// the htlc_signatures of commitment_signed when c is the peer's. Large
// sets are signed on all CPUs, as they are verified.
func SignHTLCs(s Signer, p *ChannelParams,
	c *Commitment) ([]*ecdsa.Signature, error) {

	sigs := make([]*ecdsa.Signature, len(c.HTLCs))
	err := forEachHTLC(len(c.HTLCs), func(i int) error {
		sig, err := SignHTLC(s, p, c, i)
		if err != nil {
			return fmt.Errorf("sign HTLC output %d: %w",
				c.HTLCs[i].OutputIndex, err)
		}
		sigs[i] = sig
		return nil
	})
	if err != nil {
		return nil, err
	}
	return sigs, nil
}

// parallelHTLCMin is the number of HTLC signatures from which signing and
// verification are spread over the available CPUs.
const parallelHTLCMin = 16

// forEachHTLC calls f for 0..n-1, on all CPUs when n is large enough
// (f must then be safe to call concurrently, each call writing only its
// own index's results). It returns once every call has returned, with the
// error of the lowest index that failed.
func forEachHTLC(n int, f func(i int) error) error {
	workers := min(runtime.GOMAXPROCS(0), n/parallelHTLCMin)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			if err := f(i); err != nil {
				return err
			}
		}
		return nil
	}

	errs := make([]error, n)
	var (
		wg   sync.WaitGroup
		next atomic.Int64
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				errs[i] = f(i)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// VerifyHTLCSigs checks the peer's signatures on the second-level
// transactions of c, given in output order. Large sets are verified on all
// CPUs; the call returns once every signature is checked, and reports the
// failure of the lowest output.
func VerifyHTLCSigs(p *ChannelParams, c *Commitment,
	sigs []*ecdsa.Signature) error {

	return verifyHTLCSigs(p, c, sigs, nil)
}

// verifyHTLCSigs is VerifyHTLCSigs, with the peer's tables if not nil.
func verifyHTLCSigs(p *ChannelParams, c *Commitment, sigs []*ecdsa.Signature,
	tabs *sigTables) error {

	if len(sigs) != len(c.HTLCs) {
		return fmt.Errorf("%w: got %d, want %d", ErrSigCount, len(sigs),
			len(c.HTLCs))
	}
	// The peer's per-commitment HTLC key: remote_htlcpubkey of our own
	// commitment, already derived with its keys.
	pub := c.Keys.RemoteHtlcKey
	if c.Owner != Local {
		pub = TweakPubKey(p.Remote.HtlcBasePoint, c.Keys.CommitPoint)
	}
	verifyOne := func(tx *wire.MsgTx, desc *SignDescriptor,
		sig *ecdsa.Signature) error {

		return verify(tx, desc, pub, sig)
	}
	if tabs != nil {
		// The key is the peer's HTLC basepoint plus the tweak of
		// this commitment (TweakPubKey).
		tweak := scalarFromHash(SingleTweak(c.Keys.CommitPoint,
			p.Remote.HtlcBasePoint))
		verifyOne = func(tx *wire.MsgTx, desc *SignDescriptor,
			sig *ecdsa.Signature) error {

			return verifyWithTable(tx, desc, tabs.htlc, &tweak, sig)
		}
	}
	check := func(i int) error {
		desc := htlcSignDesc(p, c, i, Remote)
		err := verifyOne(c.HTLCs[i].SecondLevelTx, desc, sigs[i])
		if err != nil {
			return fmt.Errorf("HTLC output %d: %w",
				c.HTLCs[i].OutputIndex, err)
		}
		return nil
	}

	return forEachHTLC(len(c.HTLCs), check)
}

// CommitSig is the content of commitment_signed: the signature of the
// commitment and of each HTLC transaction in output order.
type CommitSig struct {
	Sig      *ecdsa.Signature
	HTLCSigs []*ecdsa.Signature
}

// SignRemoteCommitment builds the peer's commitment for spec with their
// per_commitment_point and signs it and all its HTLC transactions: what
// we send in commitment_signed.
func SignRemoteCommitment(s Signer, p *ChannelParams,
	remoteCommitPoint *btcec.PublicKey,
	spec *CommitmentSpec) (*Commitment, *CommitSig, error) {

	err := checkCommitmentInput(p, Remote, remoteCommitPoint, spec)
	if err != nil {
		return nil, nil, err
	}
	return signRemoteCommitment(s, p, DeriveCommitmentKeys(p, Remote,
		remoteCommitPoint), spec)
}

// signRemoteCommitment is SignRemoteCommitment with the keys derived.
func signRemoteCommitment(s Signer, p *ChannelParams, keys *CommitmentKeys,
	spec *CommitmentSpec) (*Commitment, *CommitSig, error) {

	c, err := newCommitment(p, Remote, keys, spec)
	if err != nil {
		return nil, nil, err
	}
	sig, err := SignCommitment(s, p, c)
	if err != nil {
		return nil, nil, err
	}
	htlcSigs, err := SignHTLCs(s, p, c)
	if err != nil {
		return nil, nil, err
	}
	return c, &CommitSig{Sig: sig, HTLCSigs: htlcSigs}, nil
}

// VerifyLocalCommitment builds our commitment for spec with our
// per_commitment_point and checks the peer's commitment_signed against it.
func VerifyLocalCommitment(p *ChannelParams, localCommitPoint *btcec.PublicKey,
	spec *CommitmentSpec, cs *CommitSig) (*Commitment, error) {

	err := checkCommitmentInput(p, Local, localCommitPoint, spec)
	if err != nil {
		return nil, err
	}
	return verifyLocalCommitment(p, DeriveCommitmentKeys(p, Local,
		localCommitPoint), spec, cs, nil)
}

// verifyLocalCommitment is VerifyLocalCommitment with the keys derived,
// and the peer's tables if not nil.
func verifyLocalCommitment(p *ChannelParams, keys *CommitmentKeys,
	spec *CommitmentSpec, cs *CommitSig, tabs *sigTables) (*Commitment,
	error) {

	c, err := newCommitment(p, Local, keys, spec)
	if err != nil {
		return nil, err
	}
	if tabs == nil {
		err = VerifyCommitmentSig(p, c, cs.Sig)
	} else {
		err = verifyCommitmentSigTable(p, c, cs.Sig, tabs)
	}
	if err != nil {
		return nil, err
	}
	if err := verifyHTLCSigs(p, c, cs.HTLCSigs, tabs); err != nil {
		return nil, err
	}
	return c, nil
}

// verifyCommitmentSigTable is VerifyCommitmentSig with the peer's
// funding key table.
func verifyCommitmentSigTable(p *ChannelParams, c *Commitment,
	sig *ecdsa.Signature, tabs *sigTables) error {

	desc, err := fundingSignDesc(p, p.Remote.FundingKey)
	if err != nil {
		return err
	}
	if err := verifyWithTable(c.Tx, desc, tabs.funding, nil, sig); err != nil {
		return fmt.Errorf("commitment %d: %w", c.Number, err)
	}
	return nil
}

// SignedCommitmentTx returns a copy of our commitment c with the funding
// witness filled in from our and the peer's signatures, ready to
// broadcast.
func SignedCommitmentTx(p *ChannelParams, c *Commitment, localSig,
	remoteSig *ecdsa.Signature) (*wire.MsgTx, error) {

	script, _, err := p.FundingScript()
	if err != nil {
		return nil, err
	}
	tx := c.Tx.Copy()
	tx.TxIn[0].Witness = FundingWitness(script,
		p.Local.FundingKey, ScriptSig(localSig, txscript.SigHashAll),
		p.Remote.FundingKey, ScriptSig(remoteSig, txscript.SigHashAll))
	return tx, nil
}

// SignedHTLCTx returns a copy of the second-level transaction of
// c.HTLCs[i] (on our own commitment) with its witness: the peer's
// signature from commitment_signed, ours, and for HTLC-success the
// preimage (ignored for HTLC-timeout).
func SignedHTLCTx(p *ChannelParams, c *Commitment, i int, remoteSig,
	localSig *ecdsa.Signature, preimage [32]byte) (*wire.MsgTx, error) {

	if i < 0 || i >= len(c.HTLCs) {
		return nil, fmt.Errorf("lnwallet: HTLC %d out of range", i)
	}
	h := &c.HTLCs[i]
	rs := ScriptSig(remoteSig, RemoteHTLCSigHashType(p.Type))
	ls := ScriptSig(localSig, txscript.SigHashAll)
	tx := h.SecondLevelTx.Copy()
	if h.Offered {
		tx.TxIn[0].Witness = HTLCTimeoutWitness(h.WitnessScript, rs, ls)
	} else {
		tx.TxIn[0].Witness = HTLCSuccessWitness(h.WitnessScript, rs, ls,
			preimage)
	}
	return tx, nil
}
