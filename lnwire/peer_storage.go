package lnwire

import (
	"bytes"
	"io"

	"lnd.xprv/lnwire/tlv"
)

// MaxPeerStorageBlob is the largest blob peer_storage may carry (BOLT 1).
const MaxPeerStorageBlob = 65531

// PeerStorage asks an option_provide_storage peer to keep an encrypted
// backup blob (BOLT 1).
type PeerStorage struct {
	Blob []byte

	// ExtraTLV holds unknown odd records, re-encoded unchanged.
	ExtraTLV tlv.Stream
}

// MsgType returns MsgPeerStorage.
func (m *PeerStorage) MsgType() MessageType { return MsgPeerStorage }

// Encode writes the payload.
func (m *PeerStorage) Encode(w *bytes.Buffer) error {
	return encodeBlob(w, m.Blob, m.ExtraTLV)
}

// Decode reads the payload from r.
func (m *PeerStorage) Decode(r io.Reader) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return m.decodeBody(b)
}

func (m *PeerStorage) decodeBody(b []byte) error {
	blob, extra, err := decodeBlob(b)
	if err != nil {
		return err
	}
	*m = PeerStorage{Blob: blob, ExtraTLV: extra}
	return nil
}

// PeerStorageRetrieval returns the last blob a peer stored for us (BOLT 1).
type PeerStorageRetrieval struct {
	Blob []byte

	// ExtraTLV holds unknown odd records, re-encoded unchanged.
	ExtraTLV tlv.Stream
}

// MsgType returns MsgPeerStorageRetrieval.
func (m *PeerStorageRetrieval) MsgType() MessageType { return MsgPeerStorageRetrieval }

// Encode writes the payload.
func (m *PeerStorageRetrieval) Encode(w *bytes.Buffer) error {
	return encodeBlob(w, m.Blob, m.ExtraTLV)
}

// Decode reads the payload from r.
func (m *PeerStorageRetrieval) Decode(r io.Reader) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return m.decodeBody(b)
}

func (m *PeerStorageRetrieval) decodeBody(b []byte) error {
	blob, extra, err := decodeBlob(b)
	if err != nil {
		return err
	}
	*m = PeerStorageRetrieval{Blob: blob, ExtraTLV: extra}
	return nil
}

func encodeBlob(w *bytes.Buffer, blob []byte, extra tlv.Stream) error {
	if err := putVarBytes(w, blob, "blob"); err != nil {
		return err
	}
	return encodeExtension(w, nil, extra)
}

func decodeBlob(b []byte) ([]byte, tlv.Stream, error) {
	d := decoder{b: b}
	blob := d.varBytes("blob")
	if d.err != nil {
		return nil, nil, d.err
	}
	_, extra, err := decodeExtension(d.rest(), noKnownTLV)
	if err != nil {
		return nil, nil, err
	}
	return blob, extra, nil
}
