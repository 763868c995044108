package routing

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwire"
)

// Reasons gossip is refused. Those wrapping ErrBadGossip count against
// the peer that sent it; the others are ordinary (old news, or a message
// we cannot place yet).
var (
	// ErrBadGossip is matched by every refusal that is the sender's
	// fault.
	ErrBadGossip = errors.New("bad gossip")

	ErrBadSignature  = fmt.Errorf("%w: bad signature", ErrBadGossip)
	ErrBadKeyOrder   = fmt.Errorf("%w: node_id_1 is not the lesser key", ErrBadGossip)
	ErrFundingScript = fmt.Errorf("%w: funding output does not pay the announced 2-of-2", ErrBadGossip)
	ErrNoFunding     = fmt.Errorf("%w: no such funding output", ErrBadGossip)
	ErrBadPolicy     = fmt.Errorf("%w: insane policy", ErrBadGossip)
	ErrRateLimited   = fmt.Errorf("%w: peer rate-limited", ErrBadGossip)
	ErrFarFuture     = fmt.Errorf("%w: timestamp too far in the future", ErrBadGossip)

	// ErrWrongChain: gossip about another chain, ignored.
	ErrWrongChain = errors.New("gossip for another chain")
	// ErrFundingSpent: the channel is closed (a peer may relay its
	// announcement innocently, just after the close).
	ErrFundingSpent = errors.New("funding output spent")
	// ErrStale: not newer than what the graph holds.
	ErrStale = errors.New("gossip not newer than held")
	// ErrPremature: the funding transaction is not deep enough yet.
	ErrPremature = errors.New("funding not deep enough yet")
	// ErrUpdateRateLimited: a channel direction updated more often
	// than the limit (the signer's doing, not the relaying peer's).
	ErrUpdateRateLimited = errors.New("channel updates too frequent")
	// ErrOrphan: an update or node announcement for a channel or node
	// the graph does not know.
	ErrOrphan = errors.New("gossip about an unknown channel or node")
)

// ChainView is what validation needs of the chain backend (chain.Source
// has it): the block a short channel ID points into, and whether an
// output is unspent.
type ChainView interface {
	BestBlock(ctx context.Context) (chainhash.Hash, int32, error)
	BlockHash(ctx context.Context, height int32) (chainhash.Hash, error)
	Block(ctx context.Context, hash chainhash.Hash) (*wire.MsgBlock, error)
	UnspentOutput(ctx context.Context, op wire.OutPoint, includeMempool bool) (*wire.TxOut, error)
}

// verifySig checks a BOLT 7 signature: over the double SHA-256 of data,
// by the compressed key pub.
func verifySig(sig lnwire.Sig, data []byte, pub [33]byte) error {
	key, err := btcec.ParsePubKey(pub[:])
	if err != nil {
		return fmt.Errorf("%w: key %x: %v", ErrBadSignature, pub, err)
	}
	s, err := sig.ToSignature()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	if !s.Verify(chainhash.DoubleHashB(data), key) {
		return fmt.Errorf("%w: by %x", ErrBadSignature, pub)
	}
	return nil
}

// VerifyChannelAnnouncement checks a channel_announcement's four
// signatures and key order. The funding output is checked apart
// (FundingOutput), since that needs the chain.
func VerifyChannelAnnouncement(a *lnwire.ChannelAnnouncement) error {
	if bytes.Compare(a.NodeID1[:], a.NodeID2[:]) >= 0 {
		return ErrBadKeyOrder
	}
	data, err := a.DataToSign()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadGossip, err)
	}
	checks := []struct {
		sig lnwire.Sig
		key [33]byte
	}{
		{a.NodeSig1, a.NodeID1}, {a.NodeSig2, a.NodeID2},
		{a.BitcoinSig1, a.BitcoinKey1}, {a.BitcoinSig2, a.BitcoinKey2},
	}
	for _, c := range checks {
		if err := verifySig(c.sig, data, c.key); err != nil {
			return fmt.Errorf("channel_announcement %v: %w", a.ShortChannelID, err)
		}
	}
	return nil
}

// VerifyNodeAnnouncement checks a node_announcement's signature.
func VerifyNodeAnnouncement(a *lnwire.NodeAnnouncement) error {
	data, err := a.DataToSign()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadGossip, err)
	}
	if err := verifySig(a.Signature, data, a.NodeID); err != nil {
		return fmt.Errorf("node_announcement: %w", err)
	}
	return nil
}

// VerifyChannelUpdate checks a channel_update's signature by node (the
// end of the channel its direction names) and that its policy is sane
// for a channel of that capacity.
func VerifyChannelUpdate(u *lnwire.ChannelUpdate, node [33]byte, capacity btcutil.Amount) error {
	data, err := u.DataToSign()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadGossip, err)
	}
	if err := verifySig(u.Signature, data, node); err != nil {
		return fmt.Errorf("channel_update %v/%d: %w", u.ShortChannelID, u.Direction(), err)
	}
	return checkPolicy(u, capacity)
}

// checkPolicy applies BOLT 7's requirements on a channel_update's values.
func checkPolicy(u *lnwire.ChannelUpdate, capacity btcutil.Amount) error {
	maxMsat := lnwire.NewMSatFromSatoshis(capacity)
	switch {
	case u.MessageFlags&lnwire.MsgFlagMustBeOne == 0:
		return fmt.Errorf("%w: no htlc_maximum_msat", ErrBadPolicy)
	case u.HtlcMaximumMsat == 0:
		return fmt.Errorf("%w: htlc_maximum_msat is 0", ErrBadPolicy)
	case u.HtlcMaximumMsat < u.HtlcMinimumMsat:
		return fmt.Errorf("%w: htlc_maximum_msat %d below htlc_minimum_msat %d",
			ErrBadPolicy, u.HtlcMaximumMsat, u.HtlcMinimumMsat)
	case capacity > 0 && u.HtlcMaximumMsat > maxMsat:
		return fmt.Errorf("%w: htlc_maximum_msat %d above the capacity %d msat",
			ErrBadPolicy, u.HtlcMaximumMsat, maxMsat)
	}
	return nil
}

// FundingOutput finds the output a short channel ID names on chain and
// checks that it pays the 2-of-2 P2WSH of the announced bitcoin keys,
// that it is unspent, and that it has minConf confirmations. It returns
// the output's outpoint and value (the channel's capacity).
func FundingOutput(ctx context.Context, c ChainView, a *lnwire.ChannelAnnouncement,
	minConf int32) (wire.OutPoint, btcutil.Amount, error) {

	id := a.ShortChannelID
	_, tip, err := c.BestBlock(ctx)
	if err != nil {
		return wire.OutPoint{}, 0, fmt.Errorf("best block: %w", err)
	}
	if int64(id.BlockHeight) > int64(tip) {
		return wire.OutPoint{}, 0, fmt.Errorf("%v: block %d beyond the tip %d: %w", id, id.BlockHeight, tip, ErrPremature)
	}
	if conf := tip - int32(id.BlockHeight) + 1; conf < minConf {
		return wire.OutPoint{}, 0, fmt.Errorf("%v: %d confirmations: %w", id, conf, ErrPremature)
	}
	hash, err := c.BlockHash(ctx, int32(id.BlockHeight))
	if err != nil {
		return wire.OutPoint{}, 0, fmt.Errorf("%v: block hash: %w", id, err)
	}
	block, err := c.Block(ctx, hash)
	if err != nil {
		return wire.OutPoint{}, 0, fmt.Errorf("%v: block: %w", id, err)
	}
	if int(id.TxIndex) >= len(block.Transactions) {
		return wire.OutPoint{}, 0, fmt.Errorf("%v: block has %d transactions: %w", id, len(block.Transactions), ErrNoFunding)
	}
	tx := block.Transactions[id.TxIndex]
	if int(id.TxPosition) >= len(tx.TxOut) {
		return wire.OutPoint{}, 0, fmt.Errorf("%v: transaction has %d outputs: %w", id, len(tx.TxOut), ErrNoFunding)
	}
	out := tx.TxOut[id.TxPosition]
	want, err := fundingPkScript(a.BitcoinKey1, a.BitcoinKey2)
	if err != nil {
		return wire.OutPoint{}, 0, fmt.Errorf("%v: %w: %v", id, ErrFundingScript, err)
	}
	if !bytes.Equal(out.PkScript, want) {
		return wire.OutPoint{}, 0, fmt.Errorf("%v: %w", id, ErrFundingScript)
	}
	op := wire.OutPoint{Hash: tx.TxHash(), Index: uint32(id.TxPosition)}
	utxo, err := c.UnspentOutput(ctx, op, false)
	if err != nil {
		return wire.OutPoint{}, 0, fmt.Errorf("%v: spent? %w", id, err)
	}
	if utxo == nil {
		return wire.OutPoint{}, 0, fmt.Errorf("%v (%v): %w", id, op, ErrFundingSpent)
	}
	return op, btcutil.Amount(out.Value), nil
}

func fundingPkScript(k1, k2 [33]byte) ([]byte, error) {
	a, err := btcec.ParsePubKey(k1[:])
	if err != nil {
		return nil, err
	}
	b, err := btcec.ParsePubKey(k2[:])
	if err != nil {
		return nil, err
	}
	_, pk, err := lnwallet.FundingScript(a, b)
	return pk, err
}
