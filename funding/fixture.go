package funding

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwallet/shachain"
)

// WriteScaleChannels writes channels open channels of w with peer into
// db, for measuring a node at scale (BenchmarkStartupLoad, and
// itest/benchmem, which starts a real node on such a file): each an
// anchor channel of 10,000,000 sat that we funded, at commitment states,
// with states revoked states in its revocation log (both main outputs
// and two HTLCs each) and the peer's revealed secrets in its shachain
// store. Our keys come from w, so the node owning w can resume the
// channels; the peer's keys come from w too, and the funding outpoints
// exist on no chain. Channel i has the short channel ID height
// firstHeight+i. Nothing is fsynced here: open db without sync for speed.
func WriteScaleChannels(db *channeldb.DB, w KeyWallet, peer *btcec.PublicKey,
	channels, states int, firstHeight uint32) error {

	for i := range channels {
		st, err := scaleChannel(w, peer, i, states)
		if err != nil {
			return fmt.Errorf("channel %d: %w", i, err)
		}
		st.ShortChannelID.BlockHeight = firstHeight + uint32(i)
		key := channeldb.ChannelKey(st.FundingOutpoint)
		err = db.Update(func(tx kvdb.RwTx) error {
			if err := channeldb.PutOpenChannel(tx, st); err != nil {
				return err
			}
			for n := range states {
				if err := channeldb.AppendRevocationLog(tx, key,
					revokedState(uint64(n))); err != nil {

					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("channel %d: %w", i, err)
		}
	}
	return nil
}

// scaleChannel is an open channel of w with peer at commitment states:
// our keys from the wallet, the peer's from its own, and the peer's
// revealed secrets in the shachain store.
func scaleChannel(w KeyWallet, peer *btcec.PublicKey, i, states int) (
	*channeldb.OpenChannel, error) {

	ours, err := newLocalKeys(w)
	if err != nil {
		return nil, err
	}
	theirs, err := newLocalKeys(w)
	if err != nil {
		return nil, err
	}
	point, err := commitPoint(ours.secrets, 0)
	if err != nil {
		return nil, err
	}
	theirPoint, err := commitPoint(theirs.secrets, uint64(states))
	if err != nil {
		return nil, err
	}
	f := &flow{peer: peer, role: channeldb.Funder, capacity: 10_000_000,
		chanType: lnwallet.ChannelTypeAnchors, feeRate: 2500, keys: ours}
	f.ours = ourSide(f.capacity, MinDustLimit, ours, point, nil)
	f.theirs = ourSide(f.capacity, MinDustLimit, theirs, theirPoint, nil)
	var op wire.OutPoint
	h := sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(i)))
	copy(op.Hash[:], h[:])
	st := newState(f, op)
	st.LocalCommit.Number = uint64(states)
	st.RemoteCommit.Number = uint64(states)
	st.RemoteNextPoint = theirPoint
	for n := range uint64(states) {
		secret, err := theirs.secrets.ForCommitment(n)
		if err != nil {
			return nil, err
		}
		idx, err := shachain.IndexForCommitment(n)
		if err != nil {
			return nil, err
		}
		if err := st.RevocationStore.Insert(idx, secret); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// revokedState is a revoked commitment with both main outputs and two
// HTLCs, as a busy channel's log holds.
func revokedState(n uint64) *channeldb.RevocationLogEntry {
	e := &channeldb.RevocationLogEntry{CommitNum: n,
		OurOutput:   &channeldb.CommitOutput{Index: 0, Amount: 4_000_000},
		TheirOutput: &channeldb.CommitOutput{Index: 1, Amount: 5_900_000}}
	binary.BigEndian.PutUint64(e.CommitTxID[:], n)
	for j := range 2 {
		e.HTLCs = append(e.HTLCs, channeldb.RevokedHTLC{OutputIndex: uint32(2 + j),
			Incoming: j == 0, Amount: 10_000, CltvExpiry: 800_000})
	}
	return e
}
