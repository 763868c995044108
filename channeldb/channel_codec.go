package channeldb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/lnwallet/shachain"
	"lnd.xprv/lnwire"
)

// This file encodes the open-channel record. The layout is one version
// byte followed by the fields in the order of OpenChannel, big-endian
// integers, 33-byte compressed keys (with a presence byte where a key may
// be absent), length-prefixed lists. A change of layout bumps
// openChannelVersion; decoders of older versions stay, so a database
// written by an older xlnd still opens.

// openChannelVersion is the layout written by EncodeOpenChannel.
const openChannelVersion = 1

// ErrCorruptChannel is returned for an open-channel record that cannot be
// decoded, inside a *RecordError (so it matches ErrCorruptRecord too)
// naming the channel point and the part of the record that failed.
var ErrCorruptChannel = errors.New("corrupt open-channel record")

// maxLogMsg bounds one encoded update message (an update_add_htlc with its
// onion and TLVs fits well within it).
const maxLogMsg = 65535

// encoder appends fields to a buffer.
type encoder struct {
	b   bytes.Buffer
	err error
}

// The integer writers go through a stack array: AppendUintN(nil, ...)
// would allocate once per field.
func (e *encoder) u8(v uint8) { e.b.WriteByte(v) }

func (e *encoder) u16(v uint16) {
	var t [2]byte
	binary.BigEndian.PutUint16(t[:], v)
	e.b.Write(t[:])
}

func (e *encoder) u32(v uint32) {
	var t [4]byte
	binary.BigEndian.PutUint32(t[:], v)
	e.b.Write(t[:])
}

func (e *encoder) u64(v uint64) {
	var t [8]byte
	binary.BigEndian.PutUint64(t[:], v)
	e.b.Write(t[:])
}

func (e *encoder) bool(v bool) {
	if v {
		e.u8(1)
	} else {
		e.u8(0)
	}
}

func (e *encoder) bytes(v []byte) {
	e.u32(uint32(len(v)))
	e.b.Write(v)
}

// key writes a compressed key, or a zero presence byte for nil.
func (e *encoder) key(k *btcec.PublicKey) {
	if k == nil {
		e.u8(0)
		return
	}
	e.u8(1)
	e.b.Write(k.SerializeCompressed())
}

func (e *encoder) outpoint(op wire.OutPoint) {
	e.b.Write(op.Hash[:])
	e.u32(op.Index)
}

// decoder reads fields, remembering the first failure and the record it
// happened in.
type decoder struct {
	b      []byte
	record string
	err    error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%s: %s", d.record, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b) {
		d.fail("truncated (need %d bytes, have %d)", n, len(d.b))
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) u8() uint8 {
	if v := d.take(1); v != nil {
		return v[0]
	}
	return 0
}

func (d *decoder) u16() uint16 {
	if v := d.take(2); v != nil {
		return binary.BigEndian.Uint16(v)
	}
	return 0
}

func (d *decoder) u32() uint32 {
	if v := d.take(4); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

func (d *decoder) u64() uint64 {
	if v := d.take(8); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func (d *decoder) bool() bool {
	switch d.u8() {
	case 0:
		return false
	case 1:
		return true
	default:
		d.fail("invalid boolean")
		return false
	}
}

func (d *decoder) amount() btcutil.Amount {
	v := d.u64()
	if v > uint64(btcutil.MaxSatoshi) {
		d.fail("amount %d exceeds 21M BTC", v)
	}
	return btcutil.Amount(v)
}

func (d *decoder) bytes(max int) []byte {
	n := int(d.u32())
	if d.err == nil && n > max {
		d.fail("length %d exceeds %d", n, max)
		return nil
	}
	return bytes.Clone(d.take(n))
}

func (d *decoder) key() *btcec.PublicKey {
	switch d.u8() {
	case 0:
		return nil
	case 1:
	default:
		d.fail("invalid key presence byte")
		return nil
	}
	raw := d.take(33)
	if raw == nil {
		return nil
	}
	k, err := btcec.ParsePubKey(raw)
	if err != nil {
		d.fail("invalid public key: %v", err)
		return nil
	}
	return k
}

// count reads a list length and checks it against the bytes left, each
// element needing at least minSize bytes, so a corrupt length cannot make
// the decoder allocate.
func (d *decoder) count(minSize int) int {
	n := int(d.u32())
	if d.err == nil && n > len(d.b)/minSize {
		d.fail("list of %d exceeds record", n)
		return 0
	}
	return n
}

func (d *decoder) outpoint() wire.OutPoint {
	var op wire.OutPoint
	if h := d.take(chainhash.HashSize); h != nil {
		copy(op.Hash[:], h)
	}
	op.Index = d.u32()
	return op
}

func (d *decoder) sig() lnwire.Sig {
	var s lnwire.Sig
	copy(s[:], d.take(64))
	return s
}

// EncodeOpenChannel serializes c.
func EncodeOpenChannel(c *OpenChannel) ([]byte, error) {
	var e encoder
	// One allocation instead of the buffer's doublings: a channel's
	// record is a few KB (the revocation store alone up to 2 KB) plus
	// its HTLCs and update logs, whose adds carry a 1,366-byte onion.
	e.b.Grow(openChannelSizeHint(c))
	e.u8(openChannelVersion)
	e.outpoint(c.FundingOutpoint)
	e.u64(uint64(c.Capacity))
	e.u8(c.ChanType)
	e.bool(c.IsInitiator)
	e.u64(c.ShortChannelID.ToUint64())
	e.u32(uint32(len(c.Aliases)))
	for _, a := range c.Aliases {
		e.u64(a.ToUint64())
	}
	e.key(c.RemoteNode)
	encodeConfig(&e, &c.LocalConfig)
	encodeConfig(&e, &c.RemoteConfig)
	e.u32(c.RevocationRoot.Family)
	e.u32(c.RevocationRoot.Index)
	encodeCommit(&e, &c.LocalCommit)
	encodeCommit(&e, &c.RemoteCommit)
	encodeCommitDiff(&e, c.PendingRemote)
	encodeLog(&e, c.LocalLog)
	encodeLog(&e, c.RemoteLog)
	e.u64(c.NextLocalLogIndex)
	e.u64(c.NextRemoteLogIndex)
	e.u64(c.NextLocalHtlcID)
	e.u64(c.NextRemoteHtlcID)
	e.key(c.RemoteCurrentPoint)
	e.key(c.RemoteNextPoint)
	store := c.RevocationStore
	if store == nil {
		store = shachain.NewStore()
	}
	rs, err := store.MarshalBinary()
	if err != nil {
		return nil, err
	}
	e.bytes(rs)
	if e.err != nil {
		return nil, fmt.Errorf("encode open channel %v: %w",
			c.FundingOutpoint, e.err)
	}
	return e.b.Bytes(), nil
}

// openChannelSizeHint is about the size of c's record, erring large.
func openChannelSizeHint(c *OpenChannel) int {
	n := 3 << 10
	// An HTLC in a commitment: 61 bytes, and its signature 64.
	n += (len(c.LocalCommit.HTLCs) + len(c.RemoteCommit.HTLCs)) * 128
	if c.PendingRemote != nil {
		n += len(c.PendingRemote.Commitment.HTLCs)*128 + 128
	}
	for _, log := range [][]LogUpdate{c.LocalLog, c.RemoteLog} {
		for i := range log {
			if _, ok := log[i].Msg.(*lnwire.UpdateAddHTLC); ok {
				n += 1500
			} else {
				n += 128
			}
		}
	}
	return n
}

func encodeConfig(e *encoder, c *ChannelConfig) {
	e.u64(uint64(c.DustLimit))
	e.u64(uint64(c.ChanReserve))
	e.u64(c.HtlcMinimumMsat)
	e.u64(c.MaxHtlcValueInFlightMsat)
	e.u16(c.MaxAcceptedHtlcs)
	e.u16(c.CsvDelay)
	for _, k := range []*btcec.PublicKey{c.FundingKey,
		c.RevocationBasePoint, c.PaymentBasePoint,
		c.DelayedPaymentBasePoint, c.HtlcBasePoint} {

		e.key(k)
	}
	for _, l := range []KeyLocator{c.FundingKeyLoc, c.RevocationBaseLoc,
		c.PaymentBaseLoc, c.DelayedPaymentBaseLoc, c.HtlcBaseLoc} {

		e.u32(l.Family)
		e.u32(l.Index)
	}
}

func encodeCommit(e *encoder, c *ChannelCommitment) {
	e.u64(c.Number)
	e.b.Write(c.TxID[:])
	e.u64(c.LocalLogIndex)
	e.u64(c.RemoteLogIndex)
	e.u64(c.LocalHtlcID)
	e.u64(c.RemoteHtlcID)
	e.u64(c.LocalBalanceMsat)
	e.u64(c.RemoteBalanceMsat)
	e.u32(c.FeeRate)
	e.u32(uint32(len(c.HTLCs)))
	for _, h := range c.HTLCs {
		e.u64(h.ID)
		e.bool(h.Incoming)
		e.u64(h.AmountMsat)
		e.b.Write(h.PaymentHash[:])
		e.u32(h.CltvExpiry)
		e.u32(uint32(h.OutputIndex))
	}
	e.u32(uint32(c.ToLocalIndex))
	e.u32(uint32(c.ToRemoteIndex))
	e.u64(uint64(c.ToLocalAmount))
	e.u64(uint64(c.ToRemoteAmount))
	e.b.Write(c.CommitSig[:])
	e.u32(uint32(len(c.HtlcSigs)))
	for _, s := range c.HtlcSigs {
		e.b.Write(s[:])
	}
}

func encodeCommitDiff(e *encoder, d *CommitDiff) {
	if d == nil {
		e.u8(0)
		return
	}
	e.u8(1)
	encodeCommit(e, &d.Commitment)
	encodeMsg(e, d.CommitSig)
	e.u64(d.SignedAtLocal)
}

// encodeMsg writes m as bytes(lnwire.Serialize(m)) would, serializing in
// place and filling in the length after.
func encodeMsg(e *encoder, m lnwire.Message) {
	at := e.b.Len()
	e.u32(0)
	if err := lnwire.AppendMessage(&e.b, m); err != nil {
		if e.err == nil {
			e.err = err
		}
		return
	}
	binary.BigEndian.PutUint32(e.b.Bytes()[at:], uint32(e.b.Len()-at-4))
}

func encodeLog(e *encoder, log []LogUpdate) {
	e.u32(uint32(len(log)))
	for i := range log {
		e.u64(log[i].Index)
		e.bool(log[i].FailDust)
		encodeMsg(e, log[i].Msg)
	}
}

// DecodeOpenChannel parses a record written by EncodeOpenChannel. Any
// corruption gives an error wrapping ErrCorruptChannel that names the
// channel point (once it could be read) and the record that failed.
func DecodeOpenChannel(data []byte) (*OpenChannel, error) {
	d := &decoder{b: data, record: "header"}
	c := &OpenChannel{}
	if v := d.u8(); d.err == nil && v != openChannelVersion {
		d.fail("unknown version %d", v)
	}
	c.FundingOutpoint = d.outpoint()
	name := "unknown channel"
	if d.err == nil {
		name = c.FundingOutpoint.String()
	}
	decodeChannel(d, c)
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	if d.err != nil {
		return nil, NewRecordError("open channel", name,
			fmt.Errorf("%w: %w", ErrCorruptChannel, d.err))
	}
	return c, nil
}

func decodeChannel(d *decoder, c *OpenChannel) {
	c.Capacity = d.amount()
	c.ChanType = d.u8()
	c.IsInitiator = d.bool()
	c.ShortChannelID = lnwire.NewShortChanIDFromInt(d.u64())
	n := d.count(8)
	for i := 0; i < n; i++ {
		c.Aliases = append(c.Aliases,
			lnwire.NewShortChanIDFromInt(d.u64()))
	}
	c.RemoteNode = d.key()
	d.record = "local config"
	decodeConfig(d, &c.LocalConfig)
	d.record = "remote config"
	decodeConfig(d, &c.RemoteConfig)
	d.record = "revocation root"
	c.RevocationRoot = KeyLocator{Family: d.u32(), Index: d.u32()}
	d.record = "local commitment"
	decodeCommit(d, &c.LocalCommit)
	d.record = "remote commitment"
	decodeCommit(d, &c.RemoteCommit)
	d.record = "pending remote commitment"
	c.PendingRemote = decodeCommitDiff(d)
	d.record = "local update log"
	c.LocalLog = decodeLog(d)
	d.record = "remote update log"
	c.RemoteLog = decodeLog(d)
	d.record = "counters"
	c.NextLocalLogIndex = d.u64()
	c.NextRemoteLogIndex = d.u64()
	c.NextLocalHtlcID = d.u64()
	c.NextRemoteHtlcID = d.u64()
	d.record = "remote commitment points"
	c.RemoteCurrentPoint = d.key()
	c.RemoteNextPoint = d.key()
	d.record = "revocation store"
	raw := d.bytes(1 + 49*40)
	if d.err == nil {
		c.RevocationStore = shachain.NewStore()
		if err := c.RevocationStore.UnmarshalBinary(raw); err != nil {
			d.fail("%v", err)
		}
	}
}

func decodeConfig(d *decoder, c *ChannelConfig) {
	c.DustLimit = d.amount()
	c.ChanReserve = d.amount()
	c.HtlcMinimumMsat = d.u64()
	c.MaxHtlcValueInFlightMsat = d.u64()
	c.MaxAcceptedHtlcs = d.u16()
	c.CsvDelay = d.u16()
	for _, k := range []**btcec.PublicKey{&c.FundingKey,
		&c.RevocationBasePoint, &c.PaymentBasePoint,
		&c.DelayedPaymentBasePoint, &c.HtlcBasePoint} {

		*k = d.key()
	}
	for _, l := range []*KeyLocator{&c.FundingKeyLoc, &c.RevocationBaseLoc,
		&c.PaymentBaseLoc, &c.DelayedPaymentBaseLoc, &c.HtlcBaseLoc} {

		l.Family = d.u32()
		l.Index = d.u32()
	}
}

// htlcSize is one encoded HTLC.
const htlcSize = 8 + 1 + 8 + 32 + 4 + 4

func decodeCommit(d *decoder, c *ChannelCommitment) {
	c.Number = d.u64()
	copy(c.TxID[:], d.take(chainhash.HashSize))
	c.LocalLogIndex = d.u64()
	c.RemoteLogIndex = d.u64()
	c.LocalHtlcID = d.u64()
	c.RemoteHtlcID = d.u64()
	c.LocalBalanceMsat = d.u64()
	c.RemoteBalanceMsat = d.u64()
	c.FeeRate = d.u32()
	n := d.count(htlcSize)
	c.HTLCs = make([]HTLC, 0, n)
	for i := 0; i < n; i++ {
		h := HTLC{ID: d.u64(), Incoming: d.bool(), AmountMsat: d.u64()}
		copy(h.PaymentHash[:], d.take(32))
		h.CltvExpiry = d.u32()
		h.OutputIndex = int32(d.u32())
		c.HTLCs = append(c.HTLCs, h)
	}
	c.ToLocalIndex = int32(d.u32())
	c.ToRemoteIndex = int32(d.u32())
	c.ToLocalAmount = d.amount()
	c.ToRemoteAmount = d.amount()
	c.CommitSig = d.sig()
	n = d.count(64)
	for i := 0; i < n; i++ {
		c.HtlcSigs = append(c.HtlcSigs, d.sig())
	}
}

func decodeCommitDiff(d *decoder) *CommitDiff {
	switch d.u8() {
	case 0:
		return nil
	case 1:
	default:
		d.fail("invalid presence byte")
		return nil
	}
	diff := &CommitDiff{}
	decodeCommit(d, &diff.Commitment)
	m := decodeMsg(d)
	if d.err != nil {
		return nil
	}
	cs, ok := m.(*lnwire.CommitSig)
	if !ok {
		d.fail("%v where commitment_signed expected", m.MsgType())
		return nil
	}
	diff.CommitSig = cs
	diff.SignedAtLocal = d.u64()
	return diff
}

func decodeMsg(d *decoder) lnwire.Message {
	raw := d.bytes(maxLogMsg)
	if d.err != nil {
		return nil
	}
	m, err := lnwire.ParseMessage(raw)
	if err != nil {
		d.fail("message: %v", err)
		return nil
	}
	return m
}

func decodeLog(d *decoder) []LogUpdate {
	n := d.count(8 + 1 + 4 + 2)
	log := make([]LogUpdate, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		u := LogUpdate{Index: d.u64(), FailDust: d.bool()}
		u.Msg = decodeMsg(d)
		if d.err != nil {
			break
		}
		switch u.Msg.(type) {
		case *lnwire.UpdateAddHTLC, *lnwire.UpdateFulfillHTLC,
			*lnwire.UpdateFailHTLC, *lnwire.UpdateFailMalformedHTLC,
			*lnwire.UpdateFee:
		default:
			d.fail("%v is not an update", u.Msg.MsgType())
		}
		log = append(log, u)
	}
	return log
}
