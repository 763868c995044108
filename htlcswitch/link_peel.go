package htlcswitch

import (
	"errors"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwire"
	"lnd.xprv/sphinx"
)

// The peer's onions are peeled as their update_add_htlc arrives, and
// recorded in the replay log in the same write as the revocation that
// answers the commitment_signed covering them: when they lock in, their
// replay check is already durable and costs no write of its own. An add
// peeled but not recorded (or whose record was lost with the process) is
// peeled and recorded when it locks in, as before.

// prePeeled is the peeled onion of one of the peer's adds.
type prePeeled struct {
	add      *lnwire.UpdateAddHTLC // the add it was peeled from
	pp       *sphinx.ProcessedPacket
	err      error
	recorded bool // in the replay log
	replay   bool // recorded as a replay
}

// peel decodes and peels an add's onion.
func (l *Link) peel(add *lnwire.UpdateAddHTLC) (*sphinx.ProcessedPacket, error) {
	if l.sw == nil || l.sw.router == nil {
		return nil, errors.New("no node key")
	}
	onion, err := sphinx.DecodeOnionPacket(add.OnionBlob[:])
	if err != nil {
		return nil, err
	}
	return l.sw.router.Peel(onion, add.PaymentHash[:])
}

// prePeel peels the onion of an add the peer just offered.
func (l *Link) prePeel(add *lnwire.UpdateAddHTLC) {
	if l.sw == nil || l.sw.router == nil {
		return
	}
	pp, err := l.peel(add)
	l.ops.peeled[add.ID] = &prePeeled{add: add, pp: pp, err: err}
}

// peeledFrom reports whether p was peeled from add: the same message
// (the state machine hands back the one it was given), or one with the
// same payment hash and onion.
func (p *prePeeled) peeledFrom(add *lnwire.UpdateAddHTLC) bool {
	return p.add == add || (p.add.PaymentHash == add.PaymentHash &&
		p.add.OnionBlob == add.OnionBlob)
}

// takePeeled returns, and forgets, what was peeled for add, if it was
// peeled from the same HTLC.
func (l *Link) takePeeled(add *lnwire.UpdateAddHTLC) *prePeeled {
	p := l.ops.peeled[add.ID]
	if p == nil {
		return nil
	}
	delete(l.ops.peeled, add.ID)
	if !p.peeledFrom(add) {
		return nil
	}
	return p
}

// recordPeeled returns the write of the replay entries of the adds
// peeled and not yet recorded, for the transaction of our revocation,
// and what to mark once it is durable.
func (l *Link) recordPeeled() (func(kvdb.RwTx) error, func()) {
	var (
		list   []*prePeeled
		hashes []sphinx.Hash256
		cltvs  []uint32
		keys   []channeldb.CircuitKey
	)
	for id, p := range l.ops.peeled {
		if p.recorded || p.err != nil {
			continue
		}
		list = append(list, p)
		hashes = append(hashes, p.pp.ReplayHash())
		cltvs = append(cltvs, p.add.Expiry)
		keys = append(keys, channeldb.CircuitKey{ChanID: l.scid, HtlcID: id})
	}
	if len(list) == 0 {
		return nil, func() {}
	}
	var got []bool
	write := func(tx kvdb.RwTx) error {
		var err error
		got, err = replayCheck(tx, hashes, cltvs, keys)
		return err
	}
	done := func() {
		for i, p := range list {
			p.recorded, p.replay = true, got[i]
		}
	}
	return write, done
}
