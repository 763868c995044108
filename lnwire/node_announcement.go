package lnwire

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"unicode/utf8"

	"lnd.xprv/lnwire/tlv"
)

// ErrBadAlias is returned by NewNodeAlias for an alias that is longer than
// 32 bytes or not valid UTF-8.
var ErrBadAlias = errors.New("lnwire: node alias must be valid UTF-8 of at most 32 bytes")

// NodeAlias is the 32-byte alias of a node_announcement: UTF-8, padded
// with zero bytes.
type NodeAlias [32]byte

// NewNodeAlias builds an alias from s.
func NewNodeAlias(s string) (NodeAlias, error) {
	var a NodeAlias
	if len(s) > len(a) || !utf8.ValidString(s) {
		return a, ErrBadAlias
	}
	copy(a[:], s)
	return a, nil
}

// String returns the alias without its zero padding. BOLT 7 warns that
// aliases are self-chosen and may imitate other nodes; callers should not
// trust them.
func (a NodeAlias) String() string {
	return string(bytes.TrimRight(a[:], "\x00"))
}

// RGB is the node's colour, red first.
type RGB [3]byte

// NodeAnnouncement advertises a node's features, alias, colour and
// addresses (BOLT 7). The node ID is kept raw; the gossip validator parses
// it when it checks the signature.
type NodeAnnouncement struct {
	Signature Sig
	Features  *RawFeatureVector
	Timestamp uint32
	NodeID    [33]byte
	RGBColor  RGB
	Alias     NodeAlias

	// Addresses are *net.TCPAddr (IPv4, IPv6), *OnionAddr (Tor v3),
	// *DNSAddr (hostname) and *OpaqueAddrs for descriptors kept as bytes:
	// a deprecated Tor v2 one, an unusable one, or, at the end, everything
	// from the first descriptor of unknown type on (BOLT 7 says to stop
	// parsing there; the bytes are kept since the signature covers them).
	Addresses []net.Addr

	// ExtraTLV holds unknown odd records, re-encoded unchanged; the
	// signature covers them.
	ExtraTLV tlv.Stream
}

// MsgType returns MsgNodeAnnouncement.
func (m *NodeAnnouncement) MsgType() MessageType { return MsgNodeAnnouncement }

// Encode writes the payload.
func (m *NodeAnnouncement) Encode(w *bytes.Buffer) error {
	w.Write(m.Signature[:])
	return m.encodeSigned(w)
}

func (m *NodeAnnouncement) encodeSigned(w *bytes.Buffer) error {
	if err := m.Features.Encode(w); err != nil {
		return fmt.Errorf("features: %w", err)
	}
	putU32(w, m.Timestamp)
	w.Write(m.NodeID[:])
	w.Write(m.RGBColor[:])
	w.Write(m.Alias[:])
	if err := encodeAddresses(w, m.Addresses); err != nil {
		return err
	}
	return encodeExtension(w, nil, m.ExtraTLV)
}

// DataToSign returns the bytes the signature signs (after double SHA-256):
// everything after the signature.
func (m *NodeAnnouncement) DataToSign() ([]byte, error) {
	var w bytes.Buffer
	if err := m.encodeSigned(&w); err != nil {
		return nil, err
	}
	return w.Bytes(), nil
}

// Decode reads the payload from r.
func (m *NodeAnnouncement) Decode(r io.Reader) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return m.decodeBody(b)
}

func (m *NodeAnnouncement) decodeBody(b []byte) error {
	d := decoder{b: b}
	out := NodeAnnouncement{Signature: d.sig("signature")}
	features := d.varBytes("features")
	out.Timestamp = d.u32("timestamp")
	out.NodeID = d.rawPoint("node_id")
	if c := d.next(3, "rgb_color"); c != nil {
		copy(out.RGBColor[:], c)
	}
	out.Alias = NodeAlias(d.bytes32("alias"))
	addrs := d.varBytes("addresses")
	if d.err != nil {
		return d.err
	}
	var err error
	if out.Features, err = NewRawFeatureVectorFromBytes(features); err != nil {
		return fmt.Errorf("features: %w", err)
	}
	if out.Addresses, err = decodeAddresses(addrs); err != nil {
		return err
	}
	if _, out.ExtraTLV, err = decodeExtension(d.rest(), noKnownTLV); err != nil {
		return err
	}
	*m = out
	return nil
}
