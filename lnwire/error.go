package lnwire

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"

	"lnd.xprv/lnwire/tlv"
)

// Error tells the peer that a channel (or, with an all-zero ChanID, every
// channel with it) has failed (BOLT 1).
type Error struct {
	ChanID ChannelID
	Data   []byte

	// ExtraTLV holds unknown odd records, re-encoded unchanged.
	ExtraTLV tlv.Stream
}

// MsgType returns MsgError.
func (m *Error) MsgType() MessageType { return MsgError }

// Error renders the data for logs: verbatim if it is printable ASCII, as
// hex otherwise (BOLT 1: do not print non-printable data verbatim).
func (m *Error) Error() string {
	return fmt.Sprintf("channel %v: %s", m.ChanID, printableData(m.Data))
}

// Encode writes the payload.
func (m *Error) Encode(w *bytes.Buffer) error {
	return encodeChanData(w, m.ChanID, m.Data, m.ExtraTLV)
}

// Decode reads the payload from r.
func (m *Error) Decode(r io.Reader) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return m.decodeBody(b)
}

func (m *Error) decodeBody(b []byte) error {
	id, data, extra, err := decodeChanData(b)
	if err != nil {
		return err
	}
	*m = Error{ChanID: id, Data: data, ExtraTLV: extra}
	return nil
}

// encodeChanData writes the layout shared by error and warning.
func encodeChanData(w *bytes.Buffer, id ChannelID, data []byte,
	extra tlv.Stream) error {

	w.Write(id[:])
	if err := putVarBytes(w, data, "data"); err != nil {
		return err
	}
	return encodeExtension(w, nil, extra)
}

func decodeChanData(b []byte) (ChannelID, []byte, tlv.Stream, error) {
	d := decoder{b: b}
	id := d.chanID("channel_id")
	data := d.varBytes("data")
	if d.err != nil {
		return ChannelID{}, nil, nil, d.err
	}
	_, extra, err := decodeExtension(d.rest(), noKnownTLV)
	if err != nil {
		return ChannelID{}, nil, nil, err
	}
	return id, data, extra, nil
}

// printableData returns b as a string if it is printable ASCII (32-126),
// else as hex.
func printableData(b []byte) string {
	for _, c := range b {
		if c < 32 || c > 126 {
			return "0x" + hex.EncodeToString(b)
		}
	}
	return string(b)
}
