package channeldb

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwire"
)

// FwdState is how far the switch got with a forwarding package.
type FwdState uint8

const (
	// FwdLockedIn: the package's updates are locked in on the channel.
	FwdLockedIn FwdState = iota
	// FwdProcessed: its adds were handed on to their next hops.
	FwdProcessed
	// FwdCompleted: every add and settle/fail is acknowledged.
	FwdCompleted
)

// PkgUpdate is an update of a forwarding package and its index in the
// channel's update log.
type PkgUpdate struct {
	LogIndex uint64
	// Msg is *lnwire.UpdateAddHTLC among the adds, and
	// *lnwire.UpdateFulfillHTLC, *lnwire.UpdateFailHTLC or
	// *lnwire.UpdateFailMalformedHTLC among the settle/fails.
	Msg lnwire.Message
}

// PkgFilter is a bit per update of a package: set once it is
// acknowledged.
type PkgFilter struct {
	n    uint16
	bits []byte
}

// NewPkgFilter returns a filter of n clear bits.
func NewPkgFilter(n uint16) PkgFilter {
	return PkgFilter{n: n, bits: make([]byte, (int(n)+7)/8)}
}

// Len is the number of bits.
func (f PkgFilter) Len() uint16 { return f.n }

// Set sets bit i; out of range it does nothing.
func (f PkgFilter) Set(i uint16) {
	if i < f.n {
		f.bits[i/8] |= 1 << (i % 8)
	}
}

// Contains reports whether bit i is set.
func (f PkgFilter) Contains(i uint16) bool {
	return i < f.n && f.bits[i/8]&(1<<(i%8)) != 0
}

// IsFull reports whether every bit is set.
func (f PkgFilter) IsFull() bool {
	for i := uint16(0); i < f.n; i++ {
		if !f.Contains(i) {
			return false
		}
	}
	return true
}

// FwdPkg is what one channel locked in at one commitment height and the
// switch must forward: incoming adds, and settles/fails of HTLCs it
// forwarded, with a filter of those already acknowledged.
type FwdPkg struct {
	Source      lnwire.ShortChannelID
	Height      uint64
	State       FwdState
	Adds        []PkgUpdate
	SettleFails []PkgUpdate
	// AckFilter has a bit per add, SettleFailFilter one per
	// settle/fail.
	AckFilter        PkgFilter
	SettleFailFilter PkgFilter
}

// fwdPkgBucket: source channel (8) -> nested bucket: height (8) ->
// package.
var fwdPkgBucket = []byte("fwd-packages")

const (
	fwdPkgVersion = 1
	// maxPkgUpdates bounds the updates of one package (483 HTLCs each
	// way, and then some).
	maxPkgUpdates = 2048
)

// PutFwdPkg stores p, replacing the package of the same source and
// height.
func PutFwdPkg(tx kvdb.RwTx, p *FwdPkg) error {
	v, err := encodeFwdPkg(p)
	if err != nil {
		return err
	}
	b, err := fwdPkgSourceBucket(tx, p.Source)
	if err != nil {
		return err
	}
	// v is ours alone: the store may keep it rather than copy it.
	return kvdb.PutOwned(b, u64Key(p.Height), v)
}

// fwdPkgSourceBucket is the bucket of the packages of the channel
// source, made if need be.
func fwdPkgSourceBucket(tx kvdb.RwTx, source lnwire.ShortChannelID) (kvdb.RwBucket, error) {
	top, err := tx.CreateTopLevelBucket(fwdPkgBucket)
	if err != nil {
		return nil, err
	}
	return top.CreateBucketIfNotExists(u64Key(source.ToUint64()))
}

// FetchFwdPkg returns the package of source at height, or
// ErrFwdPkgNotFound.
func FetchFwdPkg(tx kvdb.RTx, source lnwire.ShortChannelID, height uint64) (*FwdPkg, error) {
	b := fwdPkgs(tx, source)
	if b == nil {
		return nil, fmt.Errorf("%w: %v at %d", ErrFwdPkgNotFound, source, height)
	}
	key := u64Key(height)
	v := b.Get(key)
	if v == nil {
		return nil, fmt.Errorf("%w: %v at %d", ErrFwdPkgNotFound, source, height)
	}
	return DecodeFwdPkg(source, key, v)
}

// ListFwdPkgs returns the packages of source, by height.
func ListFwdPkgs(tx kvdb.RTx, source lnwire.ShortChannelID) ([]*FwdPkg, error) {
	b := fwdPkgs(tx, source)
	if b == nil {
		return nil, nil
	}
	var out []*FwdPkg
	err := b.ForEach(func(k, v []byte) error {
		p, err := DecodeFwdPkg(source, k, v)
		if err != nil {
			return err
		}
		out = append(out, p)
		return nil
	})
	return out, err
}

// DeleteFwdPkg removes the package of source at height; removing an
// absent one is not an error.
func DeleteFwdPkg(tx kvdb.RwTx, source lnwire.ShortChannelID, height uint64) error {
	top := tx.ReadWriteBucket(fwdPkgBucket)
	if top == nil {
		return nil
	}
	b := top.NestedReadWriteBucket(u64Key(source.ToUint64()))
	if b == nil {
		return nil
	}
	return b.Delete(u64Key(height))
}

func fwdPkgs(tx kvdb.RTx, source lnwire.ShortChannelID) kvdb.RBucket {
	top := tx.ReadBucket(fwdPkgBucket)
	if top == nil {
		return nil
	}
	return top.NestedReadBucket(u64Key(source.ToUint64()))
}

func encodeFwdPkg(p *FwdPkg) ([]byte, error) {
	// The name is formatted only for an error: a package is written on
	// every commitment round.
	name := func() string { return fmt.Sprintf("%v at %d", p.Source, p.Height) }
	if p.State > FwdCompleted {
		return nil, fmt.Errorf("forwarding package %s: unknown state %d", name(), p.State)
	}
	if len(p.Adds) > maxPkgUpdates || len(p.SettleFails) > maxPkgUpdates {
		return nil, fmt.Errorf("forwarding package %s: too many updates", name())
	}
	if int(p.AckFilter.Len()) != len(p.Adds) || int(p.SettleFailFilter.Len()) != len(p.SettleFails) {
		return nil, fmt.Errorf("forwarding package %s: filters do not match the updates", name())
	}
	// Sized for its messages (an add carries a 1,366-byte onion), each
	// serialized into one scratch buffer.
	w := recWriter{b: make([]byte, 0, 256+len(p.Adds)*1500+len(p.SettleFails)*160)}
	w.u8(fwdPkgVersion)
	w.u8(uint8(p.State))
	var msg bytes.Buffer
	for _, list := range [][]PkgUpdate{p.Adds, p.SettleFails} {
		w.uvarint(uint64(len(list)))
		for _, u := range list {
			msg.Reset()
			if err := lnwire.AppendMessage(&msg, u.Msg); err != nil {
				return nil, fmt.Errorf("forwarding package %s: %w", name(), err)
			}
			w.u64(u.LogIndex)
			w.bytes(msg.Bytes())
		}
	}
	w.raw(p.AckFilter.bits)
	w.raw(p.SettleFailFilter.bits)
	return w.b, nil
}

// DecodeFwdPkg decodes the package of source stored under key (the
// height).
func DecodeFwdPkg(source lnwire.ShortChannelID, key, v []byte) (*FwdPkg, error) {
	if len(key) != 8 {
		return nil, NewRecordError("forwarding package", fmt.Sprintf("%v key %x", source, key),
			fmt.Errorf("key of %d bytes", len(key)))
	}
	p := &FwdPkg{Source: source, Height: binary.BigEndian.Uint64(key)}
	r := recReader{b: v}
	r.version(fwdPkgVersion)
	p.State = FwdState(r.u8("state"))
	if r.err == nil && p.State > FwdCompleted {
		r.fail(fmt.Errorf("unknown state %d", p.State))
	}
	p.Adds = readPkgUpdates(&r, "adds", isAdd)
	p.SettleFails = readPkgUpdates(&r, "settle/fails", isSettleFail)
	p.AckFilter = readFilter(&r, len(p.Adds), "ack filter")
	p.SettleFailFilter = readFilter(&r, len(p.SettleFails), "settle/fail filter")
	if err := r.done(); err != nil {
		return nil, NewRecordError("forwarding package", fmt.Sprintf("%v at %d", source, p.Height), err)
	}
	return p, nil
}

func isAdd(m lnwire.Message) bool {
	_, ok := m.(*lnwire.UpdateAddHTLC)
	return ok
}

func isSettleFail(m lnwire.Message) bool {
	switch m.(type) {
	case *lnwire.UpdateFulfillHTLC, *lnwire.UpdateFailHTLC, *lnwire.UpdateFailMalformedHTLC:
		return true
	}
	return false
}

func readPkgUpdates(r *recReader, what string, ok func(lnwire.Message) bool) []PkgUpdate {
	n := r.count(8+1+2, what)
	if n > maxPkgUpdates {
		r.fail(fmt.Errorf("%d %s, at most %d", n, what, maxPkgUpdates))
	}
	var out []PkgUpdate
	for i := 0; i < n && r.err == nil; i++ {
		idx := r.u64(what + " log index")
		raw := r.bytes(lnwire.MaxMsgBody, what+" message")
		if r.err != nil {
			break
		}
		msg, err := lnwire.ParseMessage(raw)
		if err != nil {
			r.fail(fmt.Errorf("%s %d: %w", what, i, err))
			break
		}
		if !ok(msg) {
			r.fail(fmt.Errorf("%s %d: unexpected %v", what, i, msg.MsgType()))
			break
		}
		out = append(out, PkgUpdate{LogIndex: idx, Msg: msg})
	}
	return out
}

func readFilter(r *recReader, n int, what string) PkgFilter {
	f := NewPkgFilter(uint16(n))
	bits := r.take(len(f.bits), what)
	if r.err != nil {
		return f
	}
	copy(f.bits, bits)
	if n%8 != 0 && f.bits[len(f.bits)-1]>>(n%8) != 0 {
		r.fail(fmt.Errorf("%s: bits set past %d", what, n))
	}
	return f
}

// Clone returns a copy of p whose filters are its own; the updates and
// their messages are shared, to be read only.
func (p *FwdPkg) Clone() *FwdPkg {
	c := *p
	c.AckFilter = PkgFilter{n: p.AckFilter.n, bits: clone(p.AckFilter.bits)}
	c.SettleFailFilter = PkgFilter{n: p.SettleFailFilter.n,
		bits: clone(p.SettleFailFilter.bits)}
	return &c
}

// AckFwdPkg sets the bits of adds in the ack filter, and of settleFails
// in the settle/fail filter, of the package of source at height, and
// deletes the package once every bit is set; indexes out of range are
// ignored, as PkgFilter.Set does. It rewrites the stored bytes without
// decoding the messages (a package's adds carry 1,366-byte onions, and
// each round acknowledges some): the filters are the record's last bytes.
// It returns ErrFwdPkgNotFound if there is no such package.
func AckFwdPkg(tx kvdb.RwTx, source lnwire.ShortChannelID, height uint64,
	adds, settleFails []uint16) error {

	name := func() string { return fmt.Sprintf("%v at %d", source, height) }
	top := tx.ReadWriteBucket(fwdPkgBucket)
	var b kvdb.RwBucket
	if top != nil {
		b = top.NestedReadWriteBucket(u64Key(source.ToUint64()))
	}
	key := u64Key(height)
	var v []byte
	if b != nil {
		v = b.Get(key)
	}
	if v == nil {
		return fmt.Errorf("%w: %s", ErrFwdPkgNotFound, name())
	}
	r := recReader{b: v}
	r.version(fwdPkgVersion)
	if s := FwdState(r.u8("state")); r.err == nil && s > FwdCompleted {
		r.fail(fmt.Errorf("unknown state %d", s))
	}
	nAdds := skipPkgUpdates(&r, "adds")
	nSettleFails := skipPkgUpdates(&r, "settle/fails")
	ackAt := r.off
	ack := readFilter(&r, nAdds, "ack filter")
	settleAt := r.off
	settle := readFilter(&r, nSettleFails, "settle/fail filter")
	if err := r.done(); err != nil {
		return NewRecordError("forwarding package", name(), err)
	}
	for _, i := range adds {
		ack.Set(i)
	}
	for _, i := range settleFails {
		settle.Set(i)
	}
	if ack.IsFull() && settle.IsFull() {
		return b.Delete(key)
	}
	out := make([]byte, len(v))
	copy(out, v[:ackAt])
	copy(out[ackAt:], ack.bits)
	copy(out[settleAt:], settle.bits)
	// out is ours alone: the store may keep it rather than copy it.
	return kvdb.PutOwned(b, key, out)
}

// skipPkgUpdates reads past a list of updates written by encodeFwdPkg,
// checking its framing but not its messages, and returns its length.
func skipPkgUpdates(r *recReader, what string) int {
	n := r.count(8+1+2, what)
	if n > maxPkgUpdates {
		r.fail(fmt.Errorf("%d %s, at most %d", n, what, maxPkgUpdates))
	}
	for i := 0; i < n && r.err == nil; i++ {
		r.u64(what + " log index")
		l := r.uvarint(what + " message length")
		if r.err == nil && l > lnwire.MaxMsgBody {
			r.fail(fmt.Errorf("%s message: length %d exceeds %d", what, l,
				lnwire.MaxMsgBody))
		}
		r.take(int(l), what+" message")
	}
	return n
}
