package lnwire

import (
	"bytes"
	"fmt"
	"io"

	"lnd.xprv/lnwire/tlv"
)

// Warning reports a problem without failing any channel (BOLT 1). An
// all-zero ChanID means it concerns no particular channel.
type Warning struct {
	ChanID ChannelID
	Data   []byte

	// ExtraTLV holds unknown odd records, re-encoded unchanged.
	ExtraTLV tlv.Stream
}

// MsgType returns MsgWarning.
func (m *Warning) MsgType() MessageType { return MsgWarning }

// Warning renders the data for logs, like Error.Error.
func (m *Warning) Warning() string {
	return fmt.Sprintf("channel %v: %s", m.ChanID, printableData(m.Data))
}

// Encode writes the payload.
func (m *Warning) Encode(w *bytes.Buffer) error {
	return encodeChanData(w, m.ChanID, m.Data, m.ExtraTLV)
}

// Decode reads the payload from r.
func (m *Warning) Decode(r io.Reader) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return m.decodeBody(b)
}

func (m *Warning) decodeBody(b []byte) error {
	id, data, extra, err := decodeChanData(b)
	if err != nil {
		return err
	}
	*m = Warning{ChanID: id, Data: data, ExtraTLV: extra}
	return nil
}
