package channeldb

import (
	"errors"

	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwire"
)

// AnnounceSigs is the peer's half of a public channel's
// channel_announcement, as its announcement_signatures gave it (BOLT 7).
// Kept so that the announcement can be rebuilt after a restart, and so
// that a reconnection knows whether the peer's signatures are in.
type AnnounceSigs struct {
	ChanPoint      wire.OutPoint
	ShortChannelID lnwire.ShortChannelID
	NodeSig        lnwire.Sig
	BitcoinSig     lnwire.Sig
}

// ErrAnnounceSigsNotFound: no signatures of the peer stored for the
// channel.
var ErrAnnounceSigsNotFound = errors.New("announcement signatures not found")

var announceSigsBucket = []byte("channel-announce-sigs")

const announceSigsVersion = 1

// PutAnnounceSigs stores the peer's announcement signatures of a
// channel, replacing earlier ones.
func PutAnnounceSigs(tx kvdb.RwTx, s *AnnounceSigs) error {
	b, err := tx.CreateTopLevelBucket(announceSigsBucket)
	if err != nil {
		return err
	}
	w := &recWriter{}
	w.u8(announceSigsVersion)
	w.u64(s.ShortChannelID.ToUint64())
	w.raw(s.NodeSig[:])
	w.raw(s.BitcoinSig[:])
	return b.Put(outpointKey(s.ChanPoint), w.b)
}

// FetchAnnounceSigs returns the peer's announcement signatures of a
// channel, or ErrAnnounceSigsNotFound.
func FetchAnnounceSigs(tx kvdb.RTx, op wire.OutPoint) (*AnnounceSigs, error) {
	b := tx.ReadBucket(announceSigsBucket)
	var v []byte
	if b != nil {
		v = b.Get(outpointKey(op))
	}
	if v == nil {
		return nil, ErrAnnounceSigsNotFound
	}
	return DecodeAnnounceSigs(op, v)
}

// DecodeAnnounceSigs decodes a stored record of channel op.
func DecodeAnnounceSigs(op wire.OutPoint, v []byte) (*AnnounceSigs, error) {
	r := &recReader{b: v}
	r.version(announceSigsVersion)
	s := &AnnounceSigs{ChanPoint: op}
	s.ShortChannelID = lnwire.NewShortChanIDFromInt(r.u64("short channel id"))
	copy(s.NodeSig[:], r.take(64, "node signature"))
	copy(s.BitcoinSig[:], r.take(64, "bitcoin signature"))
	if err := r.finish("announcement signatures", op.String()); err != nil {
		return nil, err
	}
	return s, nil
}

// DeleteAnnounceSigs removes a channel's record; an absent one is not an
// error.
func DeleteAnnounceSigs(tx kvdb.RwTx, op wire.OutPoint) error {
	b := tx.ReadWriteBucket(announceSigsBucket)
	if b == nil {
		return nil
	}
	return b.Delete(outpointKey(op))
}
