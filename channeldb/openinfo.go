package channeldb

import (
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwire"
)

// ChannelOpenInfo is what the opening negotiated that the state machine
// does not need but the node does: whether the channel is announced, the
// push, the depth waited for, and both upfront shutdown scripts (BOLT 2
// option_upfront_shutdown_script), which a later shutdown must use.
type ChannelOpenInfo struct {
	ChanPoint wire.OutPoint

	// Private is true when announce_channel was not set.
	Private bool

	// PushMsat is push_msat of open_channel.
	PushMsat lnwire.MilliSatoshi

	// MinDepth is the minimum_depth of accept_channel.
	MinDepth uint32

	// LocalShutdown and RemoteShutdown are the upfront shutdown scripts
	// each side committed to, empty if none.
	LocalShutdown  []byte
	RemoteShutdown []byte

	// ScidAlias says both peers support option_scid_alias.
	ScidAlias bool

	// PeerAlias is the alias the peer sent in channel_ready, by which it
	// knows the channel (zero: none).
	PeerAlias lnwire.ShortChannelID

	// AliasOnly says the channel_type has option_scid_alias: the real
	// scid must not route incoming HTLCs nor appear in route hints.
	AliasOnly bool
}

// ErrOpenInfoNotFound is returned for a channel without opening info.
var ErrOpenInfoNotFound = errors.New("channel open info not found")

var openInfoBucket = []byte("channel-open-info")

const (
	// openInfoVersion 2 adds the peer's alias, version 3 the alias-only
	// flag; older records are read as having neither.
	openInfoVersion = 3
	// maxShutdownScript bounds a stored upfront shutdown script (BOLT 2
	// scripts are at most 42 bytes; leave room for future types).
	maxShutdownScript = 10_000
)

// PutChannelOpenInfo stores i, replacing an earlier record of its channel.
func PutChannelOpenInfo(tx kvdb.RwTx, i *ChannelOpenInfo) error {
	if len(i.LocalShutdown) > maxShutdownScript ||
		len(i.RemoteShutdown) > maxShutdownScript {

		return fmt.Errorf("open info %v: shutdown script too long", i.ChanPoint)
	}
	b, err := tx.CreateTopLevelBucket(openInfoBucket)
	if err != nil {
		return err
	}
	w := &recWriter{}
	w.u8(openInfoVersion)
	w.bool(i.Private)
	w.u64(uint64(i.PushMsat))
	w.u32(i.MinDepth)
	w.bytes(i.LocalShutdown)
	w.bytes(i.RemoteShutdown)
	w.bool(i.ScidAlias)
	w.u64(i.PeerAlias.ToUint64())
	w.bool(i.AliasOnly)
	return b.Put(outpointKey(i.ChanPoint), w.b)
}

// FetchChannelOpenInfo returns the opening info of a channel, or
// ErrOpenInfoNotFound.
func FetchChannelOpenInfo(tx kvdb.RTx, op wire.OutPoint) (*ChannelOpenInfo, error) {
	b := tx.ReadBucket(openInfoBucket)
	var v []byte
	if b != nil {
		v = b.Get(outpointKey(op))
	}
	if v == nil {
		return nil, fmt.Errorf("%w: %v", ErrOpenInfoNotFound, op)
	}
	return DecodeChannelOpenInfo(op, v)
}

// DecodeChannelOpenInfo decodes a stored record of channel op.
func DecodeChannelOpenInfo(op wire.OutPoint, v []byte) (*ChannelOpenInfo, error) {
	r := &recReader{b: v}
	version := r.u8("version")
	if r.err == nil && (version < 1 || version > openInfoVersion) {
		r.fail(fmt.Errorf("%w %d (this code writes %d)", ErrUnknownVersion,
			version, openInfoVersion))
	}
	i := &ChannelOpenInfo{ChanPoint: op}
	i.Private = r.bool("private")
	i.PushMsat = lnwire.MilliSatoshi(r.u64("push"))
	i.MinDepth = r.u32("min depth")
	i.LocalShutdown = r.bytes(maxShutdownScript, "local shutdown script")
	i.RemoteShutdown = r.bytes(maxShutdownScript, "remote shutdown script")
	i.ScidAlias = r.bool("scid alias")
	if version >= 2 {
		i.PeerAlias = lnwire.NewShortChanIDFromInt(r.u64("peer alias"))
	}
	if version >= 3 {
		i.AliasOnly = r.bool("alias only")
	}
	if err := r.finish("channel open info", op.String()); err != nil {
		return nil, err
	}
	return i, nil
}

// DeleteChannelOpenInfo removes a channel's opening info; removing an
// absent one is not an error.
func DeleteChannelOpenInfo(tx kvdb.RwTx, op wire.OutPoint) error {
	b := tx.ReadWriteBucket(openInfoBucket)
	if b == nil {
		return nil
	}
	return b.Delete(outpointKey(op))
}
