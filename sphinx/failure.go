package sphinx

import (
	"encoding/binary"
	"errors"
	"fmt"

	"lnd.xprv/lnwire/tlv"
)

// FailCode is a BOLT 4 failure_code. Its top bits are flags.
type FailCode uint16

// Failure code flags.
const (
	FlagBadOnion FailCode = 0x8000 // unparsable onion encrypted by sending peer
	FlagPerm     FailCode = 0x4000 // permanent failure
	FlagNode     FailCode = 0x2000 // node failure (otherwise channel)
	FlagUpdate   FailCode = 0x1000 // channel forwarding parameter violated
)

// The failure codes of BOLT 4 "Failure Messages".
const (
	CodeTemporaryNodeFailure             = FlagNode | 2
	CodePermanentNodeFailure             = FlagPerm | FlagNode | 2
	CodeRequiredNodeFeatureMissing       = FlagPerm | FlagNode | 3
	CodeInvalidOnionVersion              = FlagBadOnion | FlagPerm | 4
	CodeInvalidOnionHMAC                 = FlagBadOnion | FlagPerm | 5
	CodeInvalidOnionKey                  = FlagBadOnion | FlagPerm | 6
	CodeTemporaryChannelFailure          = FlagUpdate | 7
	CodePermanentChannelFailure          = FlagPerm | 8
	CodeRequiredChannelFeatureMissing    = FlagPerm | 9
	CodeUnknownNextPeer                  = FlagPerm | 10
	CodeAmountBelowMinimum               = FlagUpdate | 11
	CodeFeeInsufficient                  = FlagUpdate | 12
	CodeIncorrectCltvExpiry              = FlagUpdate | 13
	CodeExpiryTooSoon                    = FlagUpdate | 14
	CodeIncorrectOrUnknownPaymentDetails = FlagPerm | 15
	CodeIncorrectPaymentAmount           = FlagPerm | 16 // deprecated, decoded for old peers
	CodeFinalExpiryTooSoon               = 17            // deprecated, decoded for old peers
	CodeFinalIncorrectCltvExpiry         = 18
	CodeFinalIncorrectHtlcAmount         = 19
	CodeChannelDisabled                  = FlagUpdate | 20
	CodeExpiryTooFar                     = 21
	CodeInvalidOnionPayload              = FlagPerm | 22
	CodeMPPTimeout                       = 23
	CodeInvalidOnionBlinding             = FlagBadOnion | FlagPerm | 24
)

// IsBadOnion reports whether the BADONION flag is set.
func (c FailCode) IsBadOnion() bool { return c&FlagBadOnion != 0 }

// IsPerm reports whether the PERM flag is set.
func (c FailCode) IsPerm() bool { return c&FlagPerm != 0 }

// IsNode reports whether the NODE flag is set.
func (c FailCode) IsNode() bool { return c&FlagNode != 0 }

// IsUpdate reports whether the UPDATE flag is set.
func (c FailCode) IsUpdate() bool { return c&FlagUpdate != 0 }

var codeNames = map[FailCode]string{
	CodeTemporaryNodeFailure:             "temporary_node_failure",
	CodePermanentNodeFailure:             "permanent_node_failure",
	CodeRequiredNodeFeatureMissing:       "required_node_feature_missing",
	CodeInvalidOnionVersion:              "invalid_onion_version",
	CodeInvalidOnionHMAC:                 "invalid_onion_hmac",
	CodeInvalidOnionKey:                  "invalid_onion_key",
	CodeTemporaryChannelFailure:          "temporary_channel_failure",
	CodePermanentChannelFailure:          "permanent_channel_failure",
	CodeRequiredChannelFeatureMissing:    "required_channel_feature_missing",
	CodeUnknownNextPeer:                  "unknown_next_peer",
	CodeAmountBelowMinimum:               "amount_below_minimum",
	CodeFeeInsufficient:                  "fee_insufficient",
	CodeIncorrectCltvExpiry:              "incorrect_cltv_expiry",
	CodeExpiryTooSoon:                    "expiry_too_soon",
	CodeIncorrectOrUnknownPaymentDetails: "incorrect_or_unknown_payment_details",
	CodeIncorrectPaymentAmount:           "incorrect_payment_amount",
	CodeFinalExpiryTooSoon:               "final_expiry_too_soon",
	CodeFinalIncorrectCltvExpiry:         "final_incorrect_cltv_expiry",
	CodeFinalIncorrectHtlcAmount:         "final_incorrect_htlc_amount",
	CodeChannelDisabled:                  "channel_disabled",
	CodeExpiryTooFar:                     "expiry_too_far",
	CodeInvalidOnionPayload:              "invalid_onion_payload",
	CodeMPPTimeout:                       "mpp_timeout",
	CodeInvalidOnionBlinding:             "invalid_onion_blinding",
}

// String returns the BOLT 4 name of c, or its hex value if unknown.
func (c FailCode) String() string {
	if s, ok := codeNames[c]; ok {
		return s
	}
	return fmt.Sprintf("unknown_failure_0x%04x", uint16(c))
}

// ErrMalformedFailure is wrapped by errors decoding a failure message.
var ErrMalformedFailure = errors.New("sphinx: malformed failure message")

// FailureMessage is one decoded failuremsg: a code and its data. Every
// message carries the bytes that followed its data (Tail.ExtraData), a TLV
// stream in the current BOLT, kept verbatim.
type FailureMessage interface {
	Code() FailCode
	appendData(b []byte) []byte
	decodeData(r *failReader)
	tail() *Tail
}

// Tail is embedded in every failure message.
type Tail struct {
	// ExtraData holds the bytes after the failure data: an optional TLV
	// stream. Readers ignore it unless they understand it.
	ExtraData []byte
}

func (t *Tail) tail() *Tail { return t }

// ExtraTLV decodes ExtraData as a TLV stream.
func (t *Tail) ExtraTLV() (tlv.Stream, error) {
	return tlv.DecodeStream(t.ExtraData)
}

// EncodeFailureMessage serializes msg as failuremsg: the 2-byte code, its
// data, then ExtraData.
func EncodeFailureMessage(msg FailureMessage) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(msg.Code()))
	b = msg.appendData(b)
	return append(b, msg.tail().ExtraData...)
}

// DecodeFailureMessage parses failuremsg. It is liberal where
// implementations differ: a channel_update may come with or without its
// 2-byte message type, may be absent (length zero, or the length itself
// missing at the end of the message), and any bytes after the data are kept
// in ExtraData. An unknown code decodes to *FailUnknown.
func DecodeFailureMessage(b []byte) (FailureMessage, error) {
	if len(b) < 2 {
		return nil, fmt.Errorf("%w: %d bytes", ErrMalformedFailure, len(b))
	}
	code := FailCode(binary.BigEndian.Uint16(b))
	msg := newFailureMessage(code)
	r := &failReader{b: b[2:]}
	msg.decodeData(r)
	if r.err != nil {
		return nil, fmt.Errorf("%w: %v: %v", ErrMalformedFailure, code, r.err)
	}
	if len(r.b) > 0 {
		msg.tail().ExtraData = append([]byte(nil), r.b...)
	}
	return msg, nil
}

func newFailureMessage(code FailCode) FailureMessage {
	switch code {
	case CodeTemporaryNodeFailure:
		return &FailTemporaryNodeFailure{}
	case CodePermanentNodeFailure:
		return &FailPermanentNodeFailure{}
	case CodeRequiredNodeFeatureMissing:
		return &FailRequiredNodeFeatureMissing{}
	case CodeInvalidOnionVersion:
		return &FailInvalidOnionVersion{}
	case CodeInvalidOnionHMAC:
		return &FailInvalidOnionHMAC{}
	case CodeInvalidOnionKey:
		return &FailInvalidOnionKey{}
	case CodeTemporaryChannelFailure:
		return &FailTemporaryChannelFailure{}
	case CodePermanentChannelFailure:
		return &FailPermanentChannelFailure{}
	case CodeRequiredChannelFeatureMissing:
		return &FailRequiredChannelFeatureMissing{}
	case CodeUnknownNextPeer:
		return &FailUnknownNextPeer{}
	case CodeAmountBelowMinimum:
		return &FailAmountBelowMinimum{}
	case CodeFeeInsufficient:
		return &FailFeeInsufficient{}
	case CodeIncorrectCltvExpiry:
		return &FailIncorrectCltvExpiry{}
	case CodeExpiryTooSoon:
		return &FailExpiryTooSoon{}
	case CodeIncorrectOrUnknownPaymentDetails:
		return &FailIncorrectOrUnknownPaymentDetails{}
	case CodeIncorrectPaymentAmount:
		return &FailIncorrectPaymentAmount{}
	case CodeFinalExpiryTooSoon:
		return &FailFinalExpiryTooSoon{}
	case CodeFinalIncorrectCltvExpiry:
		return &FailFinalIncorrectCltvExpiry{}
	case CodeFinalIncorrectHtlcAmount:
		return &FailFinalIncorrectHtlcAmount{}
	case CodeChannelDisabled:
		return &FailChannelDisabled{}
	case CodeExpiryTooFar:
		return &FailExpiryTooFar{}
	case CodeInvalidOnionPayload:
		return &FailInvalidOnionPayload{}
	case CodeMPPTimeout:
		return &FailMPPTimeout{}
	case CodeInvalidOnionBlinding:
		return &FailInvalidOnionBlinding{}
	}
	return &FailUnknown{FailCode: code}
}

// failReader reads failure data, remembering the first error.
type failReader struct {
	b   []byte
	err error
}

func (r *failReader) take(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if len(r.b) < n {
		r.err = fmt.Errorf("%s: need %d bytes, have %d", what, n, len(r.b))
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *failReader) u16(what string) uint16 {
	if v := r.take(2, what); v != nil {
		return binary.BigEndian.Uint16(v)
	}
	return 0
}

func (r *failReader) u32(what string) uint32 {
	if v := r.take(4, what); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

func (r *failReader) u64(what string) uint64 {
	if v := r.take(8, what); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func (r *failReader) hash(what string) (h Hash256) {
	copy(h[:], r.take(32, what))
	return h
}

// channelUpdate reads [u16 len][len bytes]. A message that ends before the
// length is read as carrying no update.
func (r *failReader) channelUpdate() []byte {
	if r.err != nil || len(r.b) == 0 {
		return nil
	}
	n := r.u16("channel_update length")
	if n == 0 {
		return nil
	}
	return append([]byte(nil), r.take(int(n), "channel_update")...)
}

func appendUpdate(b, update []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(update)))
	return append(b, update...)
}

// ChannelUpdateMsgType is the BOLT 7 message type of channel_update.
const ChannelUpdateMsgType = 258

// StripChannelUpdateType returns the channel_update message body of raw,
// the update as carried in a failure: implementations differ on whether the
// 2-byte type 258 precedes it. A body starts with a 64-byte signature, so
// the check can misfire only on a body whose signature starts 0x0102 and
// that is not itself a valid update; callers parse the result and may retry
// with raw on failure.
func StripChannelUpdateType(raw []byte) []byte {
	if len(raw) >= 2 && binary.BigEndian.Uint16(raw) == ChannelUpdateMsgType {
		return raw[2:]
	}
	return raw
}

// UpdateCarrier is implemented by failures that can carry a channel_update.
type UpdateCarrier interface {
	FailureMessage
	// Update returns the raw channel_update as carried (possibly with
	// its message type; see StripChannelUpdateType), nil if absent.
	Update() []byte
}

// FailTemporaryNodeFailure is temporary_node_failure.
type FailTemporaryNodeFailure struct{ Tail }

// FailPermanentNodeFailure is permanent_node_failure.
type FailPermanentNodeFailure struct{ Tail }

// FailRequiredNodeFeatureMissing is required_node_feature_missing.
type FailRequiredNodeFeatureMissing struct{ Tail }

// FailPermanentChannelFailure is permanent_channel_failure.
type FailPermanentChannelFailure struct{ Tail }

// FailRequiredChannelFeatureMissing is required_channel_feature_missing.
type FailRequiredChannelFeatureMissing struct{ Tail }

// FailUnknownNextPeer is unknown_next_peer.
type FailUnknownNextPeer struct{ Tail }

// FailIncorrectPaymentAmount is the deprecated incorrect_payment_amount
// (PERM|16), decoded for old peers; never send it.
type FailIncorrectPaymentAmount struct{ Tail }

// FailFinalExpiryTooSoon is the deprecated final_expiry_too_soon (17),
// decoded for old peers; never send it.
type FailFinalExpiryTooSoon struct{ Tail }

// FailExpiryTooFar is expiry_too_far.
type FailExpiryTooFar struct{ Tail }

// FailMPPTimeout is mpp_timeout.
type FailMPPTimeout struct{ Tail }

func (*FailTemporaryNodeFailure) Code() FailCode          { return CodeTemporaryNodeFailure }
func (*FailPermanentNodeFailure) Code() FailCode          { return CodePermanentNodeFailure }
func (*FailRequiredNodeFeatureMissing) Code() FailCode    { return CodeRequiredNodeFeatureMissing }
func (*FailPermanentChannelFailure) Code() FailCode       { return CodePermanentChannelFailure }
func (*FailRequiredChannelFeatureMissing) Code() FailCode { return CodeRequiredChannelFeatureMissing }
func (*FailUnknownNextPeer) Code() FailCode               { return CodeUnknownNextPeer }
func (*FailIncorrectPaymentAmount) Code() FailCode        { return CodeIncorrectPaymentAmount }
func (*FailFinalExpiryTooSoon) Code() FailCode            { return CodeFinalExpiryTooSoon }
func (*FailExpiryTooFar) Code() FailCode                  { return CodeExpiryTooFar }
func (*FailMPPTimeout) Code() FailCode                    { return CodeMPPTimeout }

func (*FailTemporaryNodeFailure) appendData(b []byte) []byte          { return b }
func (*FailPermanentNodeFailure) appendData(b []byte) []byte          { return b }
func (*FailRequiredNodeFeatureMissing) appendData(b []byte) []byte    { return b }
func (*FailPermanentChannelFailure) appendData(b []byte) []byte       { return b }
func (*FailRequiredChannelFeatureMissing) appendData(b []byte) []byte { return b }
func (*FailUnknownNextPeer) appendData(b []byte) []byte               { return b }
func (*FailIncorrectPaymentAmount) appendData(b []byte) []byte        { return b }
func (*FailFinalExpiryTooSoon) appendData(b []byte) []byte            { return b }
func (*FailExpiryTooFar) appendData(b []byte) []byte                  { return b }
func (*FailMPPTimeout) appendData(b []byte) []byte                    { return b }

func (*FailTemporaryNodeFailure) decodeData(*failReader)          {}
func (*FailPermanentNodeFailure) decodeData(*failReader)          {}
func (*FailRequiredNodeFeatureMissing) decodeData(*failReader)    {}
func (*FailPermanentChannelFailure) decodeData(*failReader)       {}
func (*FailRequiredChannelFeatureMissing) decodeData(*failReader) {}
func (*FailUnknownNextPeer) decodeData(*failReader)               {}
func (*FailIncorrectPaymentAmount) decodeData(*failReader)        {}
func (*FailFinalExpiryTooSoon) decodeData(*failReader)            {}
func (*FailExpiryTooFar) decodeData(*failReader)                  {}
func (*FailMPPTimeout) decodeData(*failReader)                    {}

// FailInvalidOnionVersion is invalid_onion_version.
type FailInvalidOnionVersion struct {
	OnionSHA256 Hash256
	Tail
}

// FailInvalidOnionHMAC is invalid_onion_hmac.
type FailInvalidOnionHMAC struct {
	OnionSHA256 Hash256
	Tail
}

// FailInvalidOnionKey is invalid_onion_key.
type FailInvalidOnionKey struct {
	OnionSHA256 Hash256
	Tail
}

// FailInvalidOnionBlinding is invalid_onion_blinding.
type FailInvalidOnionBlinding struct {
	OnionSHA256 Hash256
	Tail
}

func (*FailInvalidOnionVersion) Code() FailCode  { return CodeInvalidOnionVersion }
func (*FailInvalidOnionHMAC) Code() FailCode     { return CodeInvalidOnionHMAC }
func (*FailInvalidOnionKey) Code() FailCode      { return CodeInvalidOnionKey }
func (*FailInvalidOnionBlinding) Code() FailCode { return CodeInvalidOnionBlinding }

func (f *FailInvalidOnionVersion) appendData(b []byte) []byte  { return append(b, f.OnionSHA256[:]...) }
func (f *FailInvalidOnionHMAC) appendData(b []byte) []byte     { return append(b, f.OnionSHA256[:]...) }
func (f *FailInvalidOnionKey) appendData(b []byte) []byte      { return append(b, f.OnionSHA256[:]...) }
func (f *FailInvalidOnionBlinding) appendData(b []byte) []byte { return append(b, f.OnionSHA256[:]...) }

func (f *FailInvalidOnionVersion) decodeData(r *failReader) {
	f.OnionSHA256 = r.hash("sha256_of_onion")
}
func (f *FailInvalidOnionHMAC) decodeData(r *failReader) { f.OnionSHA256 = r.hash("sha256_of_onion") }
func (f *FailInvalidOnionKey) decodeData(r *failReader)  { f.OnionSHA256 = r.hash("sha256_of_onion") }
func (f *FailInvalidOnionBlinding) decodeData(r *failReader) {
	f.OnionSHA256 = r.hash("sha256_of_onion")
}

// FailTemporaryChannelFailure is temporary_channel_failure.
type FailTemporaryChannelFailure struct {
	ChannelUpdate []byte
	Tail
}

func (*FailTemporaryChannelFailure) Code() FailCode { return CodeTemporaryChannelFailure }
func (f *FailTemporaryChannelFailure) appendData(b []byte) []byte {
	return appendUpdate(b, f.ChannelUpdate)
}
func (f *FailTemporaryChannelFailure) decodeData(r *failReader) { f.ChannelUpdate = r.channelUpdate() }

// Update implements UpdateCarrier.
func (f *FailTemporaryChannelFailure) Update() []byte { return f.ChannelUpdate }

// FailAmountBelowMinimum is amount_below_minimum.
type FailAmountBelowMinimum struct {
	HtlcMsat      uint64
	ChannelUpdate []byte
	Tail
}

func (*FailAmountBelowMinimum) Code() FailCode { return CodeAmountBelowMinimum }
func (f *FailAmountBelowMinimum) appendData(b []byte) []byte {
	return appendUpdate(binary.BigEndian.AppendUint64(b, f.HtlcMsat), f.ChannelUpdate)
}
func (f *FailAmountBelowMinimum) decodeData(r *failReader) {
	f.HtlcMsat = r.u64("htlc_msat")
	f.ChannelUpdate = r.channelUpdate()
}

// Update implements UpdateCarrier.
func (f *FailAmountBelowMinimum) Update() []byte { return f.ChannelUpdate }

// FailFeeInsufficient is fee_insufficient.
type FailFeeInsufficient struct {
	HtlcMsat      uint64
	ChannelUpdate []byte
	Tail
}

func (*FailFeeInsufficient) Code() FailCode { return CodeFeeInsufficient }
func (f *FailFeeInsufficient) appendData(b []byte) []byte {
	return appendUpdate(binary.BigEndian.AppendUint64(b, f.HtlcMsat), f.ChannelUpdate)
}
func (f *FailFeeInsufficient) decodeData(r *failReader) {
	f.HtlcMsat = r.u64("htlc_msat")
	f.ChannelUpdate = r.channelUpdate()
}

// Update implements UpdateCarrier.
func (f *FailFeeInsufficient) Update() []byte { return f.ChannelUpdate }

// FailIncorrectCltvExpiry is incorrect_cltv_expiry.
type FailIncorrectCltvExpiry struct {
	CltvExpiry    uint32
	ChannelUpdate []byte
	Tail
}

func (*FailIncorrectCltvExpiry) Code() FailCode { return CodeIncorrectCltvExpiry }
func (f *FailIncorrectCltvExpiry) appendData(b []byte) []byte {
	return appendUpdate(binary.BigEndian.AppendUint32(b, f.CltvExpiry), f.ChannelUpdate)
}
func (f *FailIncorrectCltvExpiry) decodeData(r *failReader) {
	f.CltvExpiry = r.u32("cltv_expiry")
	f.ChannelUpdate = r.channelUpdate()
}

// Update implements UpdateCarrier.
func (f *FailIncorrectCltvExpiry) Update() []byte { return f.ChannelUpdate }

// FailExpiryTooSoon is expiry_too_soon.
type FailExpiryTooSoon struct {
	ChannelUpdate []byte
	Tail
}

func (*FailExpiryTooSoon) Code() FailCode { return CodeExpiryTooSoon }
func (f *FailExpiryTooSoon) appendData(b []byte) []byte {
	return appendUpdate(b, f.ChannelUpdate)
}
func (f *FailExpiryTooSoon) decodeData(r *failReader) { f.ChannelUpdate = r.channelUpdate() }

// Update implements UpdateCarrier.
func (f *FailExpiryTooSoon) Update() []byte { return f.ChannelUpdate }

// FailChannelDisabled is channel_disabled.
type FailChannelDisabled struct {
	DisabledFlags uint16
	ChannelUpdate []byte
	Tail
}

func (*FailChannelDisabled) Code() FailCode { return CodeChannelDisabled }
func (f *FailChannelDisabled) appendData(b []byte) []byte {
	return appendUpdate(binary.BigEndian.AppendUint16(b, f.DisabledFlags), f.ChannelUpdate)
}
func (f *FailChannelDisabled) decodeData(r *failReader) {
	f.DisabledFlags = r.u16("disabled_flags")
	f.ChannelUpdate = r.channelUpdate()
}

// Update implements UpdateCarrier.
func (f *FailChannelDisabled) Update() []byte { return f.ChannelUpdate }

// FailIncorrectOrUnknownPaymentDetails is
// incorrect_or_unknown_payment_details. Old nodes send it without data or
// without height; those decode with zero values.
type FailIncorrectOrUnknownPaymentDetails struct {
	HtlcMsat uint64
	Height   uint32
	Tail
}

func (*FailIncorrectOrUnknownPaymentDetails) Code() FailCode {
	return CodeIncorrectOrUnknownPaymentDetails
}
func (f *FailIncorrectOrUnknownPaymentDetails) appendData(b []byte) []byte {
	return binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint64(b, f.HtlcMsat), f.Height)
}
func (f *FailIncorrectOrUnknownPaymentDetails) decodeData(r *failReader) {
	if len(r.b) == 0 {
		return
	}
	f.HtlcMsat = r.u64("htlc_msat")
	if len(r.b) == 0 {
		return
	}
	f.Height = r.u32("height")
}

// FailFinalIncorrectCltvExpiry is final_incorrect_cltv_expiry.
type FailFinalIncorrectCltvExpiry struct {
	CltvExpiry uint32
	Tail
}

func (*FailFinalIncorrectCltvExpiry) Code() FailCode { return CodeFinalIncorrectCltvExpiry }
func (f *FailFinalIncorrectCltvExpiry) appendData(b []byte) []byte {
	return binary.BigEndian.AppendUint32(b, f.CltvExpiry)
}
func (f *FailFinalIncorrectCltvExpiry) decodeData(r *failReader) { f.CltvExpiry = r.u32("cltv_expiry") }

// FailFinalIncorrectHtlcAmount is final_incorrect_htlc_amount.
type FailFinalIncorrectHtlcAmount struct {
	IncomingHtlcAmt uint64
	Tail
}

func (*FailFinalIncorrectHtlcAmount) Code() FailCode { return CodeFinalIncorrectHtlcAmount }
func (f *FailFinalIncorrectHtlcAmount) appendData(b []byte) []byte {
	return binary.BigEndian.AppendUint64(b, f.IncomingHtlcAmt)
}
func (f *FailFinalIncorrectHtlcAmount) decodeData(r *failReader) {
	f.IncomingHtlcAmt = r.u64("incoming_htlc_amt")
}

// FailInvalidOnionPayload is invalid_onion_payload. Type and Offset name
// the offending record when known; an empty failure (no data) decodes with
// both zero.
type FailInvalidOnionPayload struct {
	Type   uint64
	Offset uint16
	Tail
}

func (*FailInvalidOnionPayload) Code() FailCode { return CodeInvalidOnionPayload }
func (f *FailInvalidOnionPayload) appendData(b []byte) []byte {
	return binary.BigEndian.AppendUint16(tlv.AppendBigSize(b, f.Type), f.Offset)
}
func (f *FailInvalidOnionPayload) decodeData(r *failReader) {
	if len(r.b) == 0 {
		return
	}
	t, n, err := tlv.ParseBigSize(r.b)
	if err != nil {
		r.err = fmt.Errorf("type: %w", err)
		return
	}
	r.b = r.b[n:]
	f.Type = t
	f.Offset = r.u16("offset")
}

// FailUnknown is a failure with a code this package does not know. Data
// holds everything after the code; it is re-encoded verbatim.
type FailUnknown struct {
	FailCode FailCode
	Data     []byte
	Tail
}

// Code implements FailureMessage.
func (f *FailUnknown) Code() FailCode             { return f.FailCode }
func (f *FailUnknown) appendData(b []byte) []byte { return append(b, f.Data...) }
func (f *FailUnknown) decodeData(r *failReader)   { f.Data = append([]byte(nil), r.b...); r.b = nil }
