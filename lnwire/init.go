package lnwire

import (
	"bytes"
	"fmt"
	"io"
	"net"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/lnwire/tlv"
)

// TLV types of init_tlvs.
const (
	initTLVNetworks   = 1
	initTLVRemoteAddr = 3
)

// Init is the first message on every connection (BOLT 1): the features the
// node supports or requires, the chains it cares about, and optionally the
// address it sees the peer connecting from.
type Init struct {
	// GlobalFeatures is the legacy field; BOLT 1 has both fields ORed
	// together (see Merge).
	GlobalFeatures *RawFeatureVector
	Features       *RawFeatureVector

	// Networks lists the chains the node is interested in. Nil omits the
	// record; a non-nil empty slice sends it with no chains.
	Networks []chainhash.Hash

	// RemoteAddr is the peer's address as seen by the sender, or nil. An
	// address of a type this package does not parse is an *OpaqueAddrs.
	RemoteAddr net.Addr

	// ExtraTLV holds unknown odd records, re-encoded unchanged.
	ExtraTLV tlv.Stream
}

// MsgType returns MsgInit.
func (m *Init) MsgType() MessageType { return MsgInit }

// AllFeatures returns globalfeatures ORed with features, the logical
// feature set BOLT 1 asks the receiver to use.
func (m *Init) AllFeatures() *FeatureVector {
	return NewFeatureVector(Merge(m.GlobalFeatures, m.Features))
}

// Encode writes the payload.
func (m *Init) Encode(w *bytes.Buffer) error {
	if err := m.GlobalFeatures.Encode(w); err != nil {
		return fmt.Errorf("globalfeatures: %w", err)
	}
	if err := m.Features.Encode(w); err != nil {
		return fmt.Errorf("features: %w", err)
	}
	var own tlv.Stream
	if m.Networks != nil {
		v := make([]byte, 0, 32*len(m.Networks))
		for _, h := range m.Networks {
			v = append(v, h[:]...)
		}
		own = append(own, tlv.Record{Type: initTLVNetworks, Value: v})
	}
	if m.RemoteAddr != nil {
		var a bytes.Buffer
		if err := encodeAddress(&a, m.RemoteAddr); err != nil {
			return fmt.Errorf("remote_addr: %w", err)
		}
		own = append(own, tlv.Record{Type: initTLVRemoteAddr, Value: a.Bytes()})
	}
	return encodeExtension(w, own, m.ExtraTLV)
}

// Decode reads the payload from r.
func (m *Init) Decode(r io.Reader) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return m.decodeBody(b)
}

func (m *Init) decodeBody(b []byte) error {
	d := decoder{b: b}
	gf := d.varBytes("globalfeatures")
	f := d.varBytes("features")
	if d.err != nil {
		return d.err
	}
	out := Init{}
	var err error
	if out.GlobalFeatures, err = NewRawFeatureVectorFromBytes(gf); err != nil {
		return fmt.Errorf("globalfeatures: %w", err)
	}
	if out.Features, err = NewRawFeatureVectorFromBytes(f); err != nil {
		return fmt.Errorf("features: %w", err)
	}
	known, extra, err := decodeExtension(d.rest(), func(t uint64) bool {
		return t == initTLVNetworks || t == initTLVRemoteAddr
	})
	if err != nil {
		return err
	}
	for _, rec := range known {
		switch rec.Type {
		case initTLVNetworks:
			if len(rec.Value)%32 != 0 {
				return fmt.Errorf("%w: networks of %d bytes",
					ErrTLVLength, len(rec.Value))
			}
			out.Networks = make([]chainhash.Hash, len(rec.Value)/32)
			for i := range out.Networks {
				copy(out.Networks[i][:], rec.Value[32*i:])
			}
		case initTLVRemoteAddr:
			out.RemoteAddr = decodeRemoteAddr(rec.Value)
		}
	}
	out.ExtraTLV = extra
	*m = out
	return nil
}

// decodeRemoteAddr parses remote_addr. Anything that is not exactly one
// well-formed descriptor is kept as opaque bytes: the field is advisory, and
// a peer's odd choice here must not cost the connection.
func decodeRemoteAddr(v []byte) net.Addr {
	if len(v) > 0 {
		if a, n, err := decodeAddress(v); err == nil && n == len(v) {
			return a
		}
	}
	return &OpaqueAddrs{Payload: append([]byte{}, v...)}
}
