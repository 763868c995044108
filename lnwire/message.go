package lnwire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// MaxMsgBody is the largest Lightning message, type included: BOLT 8 frames
// carry a 2-byte length.
const MaxMsgBody = 65535

// MessageType is the 2-byte type that starts every Lightning message.
type MessageType uint16

// The message types this package knows (BOLT 1, 2 and 7).
const (
	MsgWarning                 MessageType = 1
	MsgStfu                    MessageType = 2
	MsgPeerStorage             MessageType = 7
	MsgPeerStorageRetrieval    MessageType = 9
	MsgInit                    MessageType = 16
	MsgError                   MessageType = 17
	MsgPing                    MessageType = 18
	MsgPong                    MessageType = 19
	MsgOpenChannel             MessageType = 32
	MsgAcceptChannel           MessageType = 33
	MsgFundingCreated          MessageType = 34
	MsgFundingSigned           MessageType = 35
	MsgChannelReady            MessageType = 36
	MsgShutdown                MessageType = 38
	MsgClosingSigned           MessageType = 39
	MsgUpdateAddHTLC           MessageType = 128
	MsgUpdateFulfillHTLC       MessageType = 130
	MsgUpdateFailHTLC          MessageType = 131
	MsgCommitSig               MessageType = 132
	MsgRevokeAndAck            MessageType = 133
	MsgUpdateFee               MessageType = 134
	MsgUpdateFailMalformedHTLC MessageType = 135
	MsgChannelReestablish      MessageType = 136
	MsgChannelAnnouncement     MessageType = 256
	MsgNodeAnnouncement        MessageType = 257
	MsgChannelUpdate           MessageType = 258
	MsgAnnounceSignatures      MessageType = 259
	MsgQueryShortChanIDs       MessageType = 261
	MsgReplyShortChanIDsEnd    MessageType = 262
	MsgQueryChannelRange       MessageType = 263
	MsgReplyChannelRange       MessageType = 264
	MsgGossipTimestampRange    MessageType = 265
	firstCustomType            MessageType = 32768
)

// String returns the BOLT name of the message type.
func (t MessageType) String() string {
	switch t {
	case MsgWarning:
		return "warning"
	case MsgStfu:
		return "stfu"
	case MsgPeerStorage:
		return "peer_storage"
	case MsgPeerStorageRetrieval:
		return "peer_storage_retrieval"
	case MsgInit:
		return "init"
	case MsgError:
		return "error"
	case MsgPing:
		return "ping"
	case MsgPong:
		return "pong"
	case MsgOpenChannel:
		return "open_channel"
	case MsgAcceptChannel:
		return "accept_channel"
	case MsgFundingCreated:
		return "funding_created"
	case MsgFundingSigned:
		return "funding_signed"
	case MsgChannelReady:
		return "channel_ready"
	case MsgShutdown:
		return "shutdown"
	case MsgClosingSigned:
		return "closing_signed"
	case MsgUpdateAddHTLC:
		return "update_add_htlc"
	case MsgUpdateFulfillHTLC:
		return "update_fulfill_htlc"
	case MsgUpdateFailHTLC:
		return "update_fail_htlc"
	case MsgCommitSig:
		return "commitment_signed"
	case MsgRevokeAndAck:
		return "revoke_and_ack"
	case MsgUpdateFee:
		return "update_fee"
	case MsgUpdateFailMalformedHTLC:
		return "update_fail_malformed_htlc"
	case MsgChannelReestablish:
		return "channel_reestablish"
	case MsgChannelAnnouncement:
		return "channel_announcement"
	case MsgNodeAnnouncement:
		return "node_announcement"
	case MsgChannelUpdate:
		return "channel_update"
	case MsgAnnounceSignatures:
		return "announcement_signatures"
	case MsgQueryShortChanIDs:
		return "query_short_channel_ids"
	case MsgReplyShortChanIDsEnd:
		return "reply_short_channel_ids_end"
	case MsgQueryChannelRange:
		return "query_channel_range"
	case MsgReplyChannelRange:
		return "reply_channel_range"
	case MsgGossipTimestampRange:
		return "gossip_timestamp_filter"
	}
	if t >= firstCustomType {
		return fmt.Sprintf("custom(%d)", uint16(t))
	}
	return fmt.Sprintf("unknown(%d)", uint16(t))
}

// IsOdd reports whether t is odd, i.e. may be ignored by a node that does
// not understand it ("it's ok to be odd").
func (t MessageType) IsOdd() bool { return t%2 == 1 }

// IsCustom reports whether t is in the custom range (32768-65535).
func (t MessageType) IsCustom() bool { return t >= firstCustomType }

var (
	// ErrUnknownRequiredMessage is returned by ReadMessage for an unknown
	// message of even type; BOLT 1 requires closing the connection.
	ErrUnknownRequiredMessage = errors.New("lnwire: unknown even message type")

	// ErrMsgTooLarge is returned for a message, type included, longer
	// than MaxMsgBody.
	ErrMsgTooLarge = errors.New("lnwire: message exceeds 65535 bytes")

	// ErrMsgTooShort is returned when a message is too short to hold its
	// 2-byte type.
	ErrMsgTooShort = errors.New("lnwire: message shorter than its type")
)

// Message is one Lightning message. Decode reads the payload that follows
// the 2-byte type, up to the end of r, including any TLV extension; Encode
// writes that payload (without the type).
type Message interface {
	MsgType() MessageType
	Encode(w *bytes.Buffer) error
	Decode(r io.Reader) error
}

// bodyDecoder is implemented by every message of this package: decoding
// straight from a byte slice spares ReadMessage a copy.
type bodyDecoder interface {
	decodeBody(b []byte) error
}

// NewMessage returns an empty message of type t, or false if the type is not
// one this package knows.
func NewMessage(t MessageType) (Message, bool) {
	var m Message
	switch t {
	case MsgWarning:
		m = &Warning{}
	case MsgInit:
		m = &Init{}
	case MsgError:
		m = &Error{}
	case MsgPing:
		m = &Ping{}
	case MsgPong:
		m = &Pong{}
	case MsgStfu:
		m = &Stfu{}
	case MsgPeerStorage:
		m = &PeerStorage{}
	case MsgPeerStorageRetrieval:
		m = &PeerStorageRetrieval{}
	case MsgOpenChannel:
		m = &OpenChannel{}
	case MsgAcceptChannel:
		m = &AcceptChannel{}
	case MsgFundingCreated:
		m = &FundingCreated{}
	case MsgFundingSigned:
		m = &FundingSigned{}
	case MsgChannelReady:
		m = &ChannelReady{}
	case MsgShutdown:
		m = &Shutdown{}
	case MsgClosingSigned:
		m = &ClosingSigned{}
	case MsgUpdateAddHTLC:
		m = &UpdateAddHTLC{}
	case MsgUpdateFulfillHTLC:
		m = &UpdateFulfillHTLC{}
	case MsgUpdateFailHTLC:
		m = &UpdateFailHTLC{}
	case MsgCommitSig:
		m = &CommitSig{}
	case MsgRevokeAndAck:
		m = &RevokeAndAck{}
	case MsgUpdateFee:
		m = &UpdateFee{}
	case MsgUpdateFailMalformedHTLC:
		m = &UpdateFailMalformedHTLC{}
	case MsgChannelReestablish:
		m = &ChannelReestablish{}
	case MsgChannelAnnouncement:
		m = &ChannelAnnouncement{}
	case MsgNodeAnnouncement:
		m = &NodeAnnouncement{}
	case MsgChannelUpdate:
		m = &ChannelUpdate{}
	case MsgAnnounceSignatures:
		m = &AnnounceSignatures{}
	case MsgQueryShortChanIDs:
		m = &QueryShortChanIDs{}
	case MsgReplyShortChanIDsEnd:
		m = &ReplyShortChanIDsEnd{}
	case MsgQueryChannelRange:
		m = &QueryChannelRange{}
	case MsgReplyChannelRange:
		m = &ReplyChannelRange{}
	case MsgGossipTimestampRange:
		m = &GossipTimestampRange{}
	default:
		return nil, false
	}
	return m, true
}

// UnknownMessage is a message of a type this package does not know. Only odd
// types are returned this way (the caller ignores them, or hands custom
// messages to whoever registered for them); WriteMessage sends it as is.
type UnknownMessage struct {
	Type    MessageType
	Payload []byte
}

// MsgType returns the message's type.
func (m *UnknownMessage) MsgType() MessageType { return m.Type }

// Encode writes the payload unchanged.
func (m *UnknownMessage) Encode(w *bytes.Buffer) error {
	w.Write(m.Payload)
	return nil
}

// Decode keeps everything r holds as the payload.
func (m *UnknownMessage) Decode(r io.Reader) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	m.Payload = b
	return nil
}

// readBody reads the rest of a message payload from r.
func readBody(r io.Reader) ([]byte, error) {
	// Readers over memory (bytes.Reader, bytes.Buffer) say how much is
	// left: read it in one allocation.
	if l, ok := r.(interface{ Len() int }); ok {
		n := l.Len()
		if n > MaxMsgBody {
			return nil, ErrMsgTooLarge
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, unexpectedEOF(err)
		}
		// A reader that grew past what Len reported still holds
		// message bytes.
		var probe [1]byte
		if _, err := io.ReadFull(r, probe[:]); err != nil {
			if err == io.EOF {
				return b, nil
			}
			return nil, err
		}
		if n+1 > MaxMsgBody {
			return nil, ErrMsgTooLarge
		}
		rest, err := readBodyGeneric(r, MaxMsgBody-n-1)
		if err != nil {
			return nil, err
		}
		return append(append(b, probe[0]), rest...), nil
	}
	return readBodyGeneric(r, MaxMsgBody)
}

// readBodyGeneric reads r to its end, failing past limit bytes.
func readBodyGeneric(r io.Reader, limit int) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if len(b) > limit {
		return nil, ErrMsgTooLarge
	}
	return b, nil
}

// ReadMessage reads one complete message (2-byte type and payload) from r,
// which must end where the message ends (for example a bytes.Reader over
// what brontide.Conn.ReadMessage returned).
//
// A known type is decoded into its struct. An unknown odd type comes back as
// an *UnknownMessage with no error; an unknown even type is an error wrapping
// ErrUnknownRequiredMessage.
func ReadMessage(r io.Reader) (Message, error) {
	b, err := readBody(r)
	if err != nil {
		return nil, err
	}
	return ParseMessage(b)
}

// ParseMessage is ReadMessage over a byte slice. The decoded message may
// alias b.
func ParseMessage(b []byte) (Message, error) {
	if len(b) > MaxMsgBody {
		return nil, ErrMsgTooLarge
	}
	if len(b) < 2 {
		return nil, ErrMsgTooShort
	}
	t := MessageType(binary.BigEndian.Uint16(b))
	payload := b[2:]
	msg, ok := NewMessage(t)
	if !ok {
		if !t.IsOdd() {
			return nil, fmt.Errorf("%w: %d", ErrUnknownRequiredMessage,
				uint16(t))
		}
		return &UnknownMessage{Type: t, Payload: payload}, nil
	}
	if err := msg.(bodyDecoder).decodeBody(payload); err != nil {
		return nil, fmt.Errorf("lnwire: decode %v: %w", t, err)
	}
	return msg, nil
}

// AppendMessage appends the full encoding of msg (type and payload) to buf
// and checks the size limit.
func AppendMessage(buf *bytes.Buffer, msg Message) error {
	start := buf.Len()
	var t [2]byte
	binary.BigEndian.PutUint16(t[:], uint16(msg.MsgType()))
	buf.Write(t[:])
	if err := msg.Encode(buf); err != nil {
		buf.Truncate(start)
		return fmt.Errorf("lnwire: encode %v: %w", msg.MsgType(), err)
	}
	if buf.Len()-start > MaxMsgBody {
		n := buf.Len() - start
		buf.Truncate(start)
		return fmt.Errorf("%w: %v is %d bytes", ErrMsgTooLarge,
			msg.MsgType(), n)
	}
	return nil
}

// WriteMessage encodes msg with its type and writes it to w in one Write. It
// returns the number of bytes written.
func WriteMessage(w io.Writer, msg Message) (int, error) {
	var buf bytes.Buffer
	if err := AppendMessage(&buf, msg); err != nil {
		return 0, err
	}
	return w.Write(buf.Bytes())
}

// Serialize returns the full encoding of msg, type included.
func Serialize(msg Message) ([]byte, error) {
	var buf bytes.Buffer
	if err := AppendMessage(&buf, msg); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
