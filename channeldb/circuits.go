package channeldb

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwire"
)

// CircuitKey names an HTLC on one channel: the channel's short id and the
// HTLC id its offerer gave.
type CircuitKey struct {
	ChanID lnwire.ShortChannelID
	HtlcID uint64
}

func (k CircuitKey) String() string { return fmt.Sprintf("%v/%d", k.ChanID, k.HtlcID) }

func (k CircuitKey) bytes() []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 16), k.ChanID.ToUint64())
	return binary.BigEndian.AppendUint64(b, k.HtlcID)
}

func parseCircuitKey(b []byte) (CircuitKey, bool) {
	if len(b) != 16 {
		return CircuitKey{}, false
	}
	return CircuitKey{
		ChanID: lnwire.NewShortChanIDFromInt(binary.BigEndian.Uint64(b)),
		HtlcID: binary.BigEndian.Uint64(b[8:]),
	}, true
}

// PaymentCircuit ties an incoming HTLC to the outgoing one the switch
// forwarded it as, so a settle or fail finds its way back.
type PaymentCircuit struct {
	Incoming CircuitKey
	// Outgoing is nil until the HTLC is assigned on the next channel.
	Outgoing       *CircuitKey
	IncomingAmount lnwire.MilliSatoshi
	OutgoingAmount lnwire.MilliSatoshi
	PaymentHash    [32]byte
	// ErrorEncrypter is the onion failure encrypter, opaque here.
	ErrorEncrypter []byte
}

var (
	// circuitBucket: incoming key (16) -> circuit.
	circuitBucket = []byte("circuits")
	// circuitOutBucket: outgoing key (16) -> incoming key (16).
	circuitOutBucket = []byte("circuits-by-outgoing")
)

const (
	circuitVersion = 1
	// maxEncrypter bounds the opaque encrypter state.
	maxEncrypter = 4096
)

// PutCircuit stores c under its incoming key, replacing an earlier one
// and its outgoing index.
func PutCircuit(tx kvdb.RwTx, c *PaymentCircuit) error {
	v, err := encodeCircuit(c)
	if err != nil {
		return err
	}
	b, err := tx.CreateTopLevelBucket(circuitBucket)
	if err != nil {
		return err
	}
	out, err := tx.CreateTopLevelBucket(circuitOutBucket)
	if err != nil {
		return err
	}
	in := c.Incoming.bytes()
	if c.Outgoing != nil {
		if other := out.Get(c.Outgoing.bytes()); other != nil && !bytes.Equal(other, in) {
			return fmt.Errorf("%w: circuit %v: outgoing %v is %x's",
				ErrIndexConflict, c.Incoming, *c.Outgoing, other)
		}
	}
	if err := unindexCircuit(b, out, in); err != nil {
		return err
	}
	if err := b.Put(in, v); err != nil {
		return err
	}
	if c.Outgoing != nil {
		return out.Put(c.Outgoing.bytes(), in)
	}
	return nil
}

func unindexCircuit(b, out kvdb.RwBucket, in []byte) error {
	v := b.Get(in)
	if v == nil {
		return nil
	}
	old, err := DecodeCircuit(in, v)
	if err != nil {
		return err
	}
	if old.Outgoing == nil {
		return nil
	}
	return out.Delete(old.Outgoing.bytes())
}

// FetchCircuit returns the circuit of an incoming HTLC, or
// ErrCircuitNotFound.
func FetchCircuit(tx kvdb.RTx, in CircuitKey) (*PaymentCircuit, error) {
	b := tx.ReadBucket(circuitBucket)
	if b == nil {
		return nil, fmt.Errorf("%w: incoming %v", ErrCircuitNotFound, in)
	}
	v := b.Get(in.bytes())
	if v == nil {
		return nil, fmt.Errorf("%w: incoming %v", ErrCircuitNotFound, in)
	}
	return DecodeCircuit(in.bytes(), v)
}

// FetchCircuitByOutgoing returns the circuit whose outgoing HTLC is out,
// or ErrCircuitNotFound.
func FetchCircuitByOutgoing(tx kvdb.RTx, out CircuitKey) (*PaymentCircuit, error) {
	idx := tx.ReadBucket(circuitOutBucket)
	if idx == nil {
		return nil, fmt.Errorf("%w: outgoing %v", ErrCircuitNotFound, out)
	}
	v := idx.Get(out.bytes())
	if v == nil {
		return nil, fmt.Errorf("%w: outgoing %v", ErrCircuitNotFound, out)
	}
	in, ok := parseCircuitKey(v)
	if !ok {
		return nil, NewRecordError("circuit index", "outgoing "+out.String(),
			fmt.Errorf("incoming key of %d bytes", len(v)))
	}
	return FetchCircuit(tx, in)
}

// ListCircuits returns every circuit, by incoming key.
func ListCircuits(tx kvdb.RTx) ([]*PaymentCircuit, error) {
	b := tx.ReadBucket(circuitBucket)
	if b == nil {
		return nil, nil
	}
	var out []*PaymentCircuit
	err := b.ForEach(func(k, v []byte) error {
		c, err := DecodeCircuit(k, v)
		if err != nil {
			return err
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

// DeleteCircuit removes the circuit of an incoming HTLC and its outgoing
// index; removing an absent one is not an error.
func DeleteCircuit(tx kvdb.RwTx, in CircuitKey) error {
	b := tx.ReadWriteBucket(circuitBucket)
	out := tx.ReadWriteBucket(circuitOutBucket)
	if b == nil || out == nil {
		return nil
	}
	if err := unindexCircuit(b, out, in.bytes()); err != nil {
		return err
	}
	return b.Delete(in.bytes())
}

func encodeCircuit(c *PaymentCircuit) ([]byte, error) {
	if len(c.ErrorEncrypter) > maxEncrypter {
		return nil, fmt.Errorf("circuit %v: encrypter of %d bytes, at most %d",
			c.Incoming, len(c.ErrorEncrypter), maxEncrypter)
	}
	w := recWriter{b: make([]byte, 0, 96+len(c.ErrorEncrypter))}
	w.u8(circuitVersion)
	w.bool(c.Outgoing != nil)
	if c.Outgoing != nil {
		w.raw(c.Outgoing.bytes())
	}
	w.u64(uint64(c.IncomingAmount))
	w.u64(uint64(c.OutgoingAmount))
	w.raw(c.PaymentHash[:])
	w.bytes(c.ErrorEncrypter)
	return w.b, nil
}

// DecodeCircuit decodes a circuit stored under key (the incoming key).
func DecodeCircuit(key, v []byte) (*PaymentCircuit, error) {
	in, ok := parseCircuitKey(key)
	if !ok {
		return nil, NewRecordError("circuit", fmt.Sprintf("%x", key), fmt.Errorf("key of %d bytes", len(key)))
	}
	r := recReader{b: v}
	r.version(circuitVersion)
	c := &PaymentCircuit{Incoming: in}
	if r.bool("outgoing flag") {
		out, _ := parseCircuitKey(r.take(16, "outgoing key"))
		c.Outgoing = &out
	}
	c.IncomingAmount = lnwire.MilliSatoshi(r.u64("incoming amount"))
	c.OutgoingAmount = lnwire.MilliSatoshi(r.u64("outgoing amount"))
	c.PaymentHash = r.bytes32("payment hash")
	c.ErrorEncrypter = r.bytes(maxEncrypter, "error encrypter")
	if err := r.done(); err != nil {
		return nil, NewRecordError("circuit", "incoming "+in.String(), err)
	}
	return c, nil
}
