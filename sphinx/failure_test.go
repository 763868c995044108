package sphinx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
)

// sampleUpdate is a stand-in channel_update carried as raw bytes, with the
// 2-byte message type as lnd, CLN and LDK send it.
var sampleUpdate = append([]byte{0x01, 0x02}, bytes.Repeat([]byte{0x5a}, 136)...)

func allFailures() []FailureMessage {
	h := Hash256{1, 2, 3}
	return []FailureMessage{
		&FailTemporaryNodeFailure{},
		&FailPermanentNodeFailure{},
		&FailRequiredNodeFeatureMissing{},
		&FailInvalidOnionVersion{OnionSHA256: h},
		&FailInvalidOnionHMAC{OnionSHA256: h},
		&FailInvalidOnionKey{OnionSHA256: h},
		&FailTemporaryChannelFailure{ChannelUpdate: sampleUpdate},
		&FailPermanentChannelFailure{},
		&FailRequiredChannelFeatureMissing{},
		&FailUnknownNextPeer{},
		&FailAmountBelowMinimum{HtlcMsat: 1000, ChannelUpdate: sampleUpdate},
		&FailFeeInsufficient{HtlcMsat: 2000, ChannelUpdate: sampleUpdate},
		&FailIncorrectCltvExpiry{CltvExpiry: 700123, ChannelUpdate: sampleUpdate},
		&FailExpiryTooSoon{ChannelUpdate: sampleUpdate},
		&FailIncorrectOrUnknownPaymentDetails{HtlcMsat: 3000, Height: 800000},
		&FailIncorrectPaymentAmount{},
		&FailFinalExpiryTooSoon{},
		&FailFinalIncorrectCltvExpiry{CltvExpiry: 650000},
		&FailFinalIncorrectHtlcAmount{IncomingHtlcAmt: 4000},
		&FailChannelDisabled{DisabledFlags: 0, ChannelUpdate: sampleUpdate},
		&FailExpiryTooFar{},
		&FailInvalidOnionPayload{Type: 65537, Offset: 12},
		&FailMPPTimeout{},
		&FailInvalidOnionBlinding{OnionSHA256: h},
		&FailUnknown{FailCode: FlagPerm | 99, Data: []byte{1, 2, 3}},
	}
}

// TestFailureMessageRoundTrip encodes and decodes every failure code, with
// and without a trailing TLV stream, and through the full encrypt / wrap /
// decrypt path over a three-hop circuit.
func TestFailureMessageRoundTrip(t *testing.T) {
	c, secrets := testCircuit(t, 3)
	seen := map[FailCode]bool{}
	for _, msg := range allFailures() {
		if seen[msg.Code()] {
			t.Fatalf("code %v listed twice", msg.Code())
		}
		seen[msg.Code()] = true
		for _, extra := range [][]byte{nil, rec(1, []byte{0xff})} {
			msg.tail().ExtraData = extra
			if _, unknown := msg.(*FailUnknown); unknown && extra != nil {
				// Unknown data is opaque: the tail is part of Data.
				continue
			}
			t.Run(msg.Code().String(), func(t *testing.T) {
				b := EncodeFailureMessage(msg)
				if got := FailCode(binary.BigEndian.Uint16(b)); got != msg.Code() {
					t.Fatalf("encoded code %v", got)
				}
				dec, err := DecodeFailureMessage(b)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(dec, msg) {
					t.Fatalf("decoded %#v\nwant %#v", dec, msg)
				}

				for failAt := 0; failAt < 3; failAt++ {
					reason, err := NewFailure(secrets[failAt], msg)
					if err != nil {
						t.Fatal(err)
					}
					if len(reason) != HMACSize+4+FailurePadSize {
						t.Fatalf("reason is %d bytes", len(reason))
					}
					for i := failAt - 1; i >= 0; i-- {
						reason = WrapFailure(secrets[i], reason)
					}
					df, err := c.DecryptFailure(reason, nil)
					if err != nil {
						t.Fatal(err)
					}
					if df.SenderIdx != failAt || !df.Sender.IsEqual(c.Path[failAt]) {
						t.Fatalf("sender %d, want %d", df.SenderIdx, failAt)
					}
					if df.DecodeErr != nil || !reflect.DeepEqual(df.Failure, msg) {
						t.Fatalf("decrypted %#v (%v)", df.Failure, df.DecodeErr)
					}
				}
			})
		}
	}
	for code := range codeNames {
		if !seen[code] {
			t.Errorf("code %v not covered", code)
		}
	}
}

func TestFailCodeFlags(t *testing.T) {
	if !CodeInvalidOnionHMAC.IsBadOnion() || !CodeInvalidOnionHMAC.IsPerm() || CodeInvalidOnionHMAC.IsNode() {
		t.Fatal("invalid_onion_hmac flags")
	}
	if !CodeTemporaryChannelFailure.IsUpdate() || CodeTemporaryChannelFailure.IsPerm() {
		t.Fatal("temporary_channel_failure flags")
	}
	if !CodePermanentNodeFailure.IsNode() || !CodePermanentNodeFailure.IsPerm() {
		t.Fatal("permanent_node_failure flags")
	}
	if uint16(CodeInvalidOnionVersion) != 0xc004 || uint16(CodeTemporaryChannelFailure) != 0x1007 ||
		uint16(CodeIncorrectOrUnknownPaymentDetails) != 0x400f || uint16(CodeInvalidOnionBlinding) != 0xc018 {
		t.Fatal("code values")
	}
	if FailCode(0x1234).String() != "unknown_failure_0x1234" {
		t.Fatal(FailCode(0x1234).String())
	}
}

// TestDecodeFailureLiberal covers the encodings seen from other
// implementations (INTEROP.md "Onion failures").
func TestDecodeFailureLiberal(t *testing.T) {
	body := bytes.Repeat([]byte{0x5a}, 136)
	u16 := func(v int) []byte { return binary.BigEndian.AppendUint16(nil, uint16(v)) }
	tests := []struct {
		name  string
		b     []byte
		check func(t *testing.T, m FailureMessage)
	}{
		{"update without type prefix", cat(u16(0x1007), u16(len(body)), body), func(t *testing.T, m FailureMessage) {
			u := m.(UpdateCarrier).Update()
			if !bytes.Equal(u, body) || !bytes.Equal(StripChannelUpdateType(u), body) {
				t.Fatalf("update %x", u)
			}
		}},
		{"update with type prefix", cat(u16(0x1007), u16(len(body)+2), u16(258), body), func(t *testing.T, m FailureMessage) {
			u := m.(UpdateCarrier).Update()
			if len(u) != len(body)+2 || !bytes.Equal(StripChannelUpdateType(u), body) {
				t.Fatalf("update %x", u)
			}
		}},
		{"zero-length update", cat(u16(0x100c), make([]byte, 8), u16(0)), func(t *testing.T, m FailureMessage) {
			if m.(UpdateCarrier).Update() != nil {
				t.Fatal("update present")
			}
		}},
		{"update length missing", cat(u16(0x100e)), func(t *testing.T, m FailureMessage) {
			if m.(UpdateCarrier).Update() != nil {
				t.Fatal("update present")
			}
		}},
		{"channel_disabled with trailing tlv", cat(u16(0x1014), u16(0), u16(0), rec(3, []byte{7})), func(t *testing.T, m FailureMessage) {
			f := m.(*FailChannelDisabled)
			s, err := f.ExtraTLV()
			if err != nil || len(s) != 1 || s[0].Type != 3 {
				t.Fatalf("tlv %v %v", s, err)
			}
		}},
		{"payment details without data", u16(0x400f), func(t *testing.T, m FailureMessage) {
			f := m.(*FailIncorrectOrUnknownPaymentDetails)
			if f.HtlcMsat != 0 || f.Height != 0 {
				t.Fatal(f)
			}
		}},
		{"payment details without height", cat(u16(0x400f), []byte{0, 0, 0, 0, 0, 0, 0, 9}), func(t *testing.T, m FailureMessage) {
			f := m.(*FailIncorrectOrUnknownPaymentDetails)
			if f.HtlcMsat != 9 || f.Height != 0 {
				t.Fatal(f)
			}
		}},
		{"invalid_onion_payload without data", u16(0x4016), func(t *testing.T, m FailureMessage) {
			if f := m.(*FailInvalidOnionPayload); f.Type != 0 || f.Offset != 0 {
				t.Fatal(f)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := DecodeFailureMessage(tc.b)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, m)
		})
	}

	bad := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"one byte", []byte{0x10}},
		{"truncated hash", cat(u16(0xc005), make([]byte, 31))},
		{"update longer than message", cat(u16(0x1007), u16(200), body)},
		{"truncated htlc_msat", cat(u16(0x100b), make([]byte, 7))},
		{"truncated cltv", cat(u16(0x12), make([]byte, 3))},
		{"bad bigsize in invalid_onion_payload", cat(u16(0x4016), []byte{0xfd, 0x00, 0x01})},
	}
	for _, tc := range bad {
		if _, err := DecodeFailureMessage(tc.b); !errors.Is(err, ErrMalformedFailure) {
			t.Errorf("%s: err %v", tc.name, err)
		}
	}
}

func TestDecryptFailureTampered(t *testing.T) {
	c, secrets := testCircuit(t, 5)
	reason, err := NewFailure(secrets[4], &FailTemporaryNodeFailure{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 3; i >= 0; i-- {
		reason = WrapFailure(secrets[i], reason)
	}
	for _, pos := range []int{0, 31, 32, 100, len(reason) - 1} {
		bad := append([]byte(nil), reason...)
		bad[pos] ^= 1
		_, err := c.DecryptFailure(bad, nil)
		var ue *UnreadableFailureError
		if !errors.As(err, &ue) || !errors.Is(err, ErrUnreadableFailure) || ue.AttributedIdx != -1 {
			t.Fatalf("byte %d flipped: %v", pos, err)
		}
	}
	for _, n := range []int{0, 10, HMACSize + 1} {
		if _, err := c.DecryptFailure(make([]byte, n), nil); !errors.Is(err, ErrUnreadableFailure) {
			t.Fatalf("%d-byte reason: %v", n, err)
		}
	}
}

// TestAttributionBlame checks that attribution data points at the hop
// after which a failure was corrupted, and that hold times are reported.
func TestAttributionBlame(t *testing.T) {
	const n = 6
	c, secrets := testCircuit(t, n)
	for corruptAfter := 1; corruptAfter < n; corruptAfter++ {
		reason, attr, err := NewFailureWithAttribution(secrets[n-1], &FailMPPTimeout{}, 7)
		if err != nil {
			t.Fatal(err)
		}
		for i := n - 2; i >= 0; i-- {
			if i == corruptAfter-1 {
				// The link between hop i and corruptAfter flips bits.
				reason[40] ^= 1
				attr[0] ^= 1
			}
			reason, attr, err = WrapFailureWithAttribution(secrets[i], reason, attr, uint32(i))
			if err != nil {
				t.Fatal(err)
			}
		}
		_, err = c.DecryptFailure(reason, attr)
		var ue *UnreadableFailureError
		if !errors.As(err, &ue) {
			t.Fatalf("corrupt after %d: %v", corruptAfter, err)
		}
		if ue.AttributedIdx != corruptAfter {
			t.Fatalf("corrupt after hop %d: attribution points at %d", corruptAfter, ue.AttributedIdx)
		}
		if len(ue.HoldTimes) != corruptAfter {
			t.Fatalf("hold times %v", ue.HoldTimes)
		}
		for i, ht := range ue.HoldTimes {
			if ht != uint32(i) {
				t.Fatalf("hold times %v", ue.HoldTimes)
			}
		}
	}

	// Honest route: the failure and every hold time come through.
	reason, attr, err := NewFailureWithAttribution(secrets[n-1], &FailMPPTimeout{}, 99)
	if err != nil {
		t.Fatal(err)
	}
	for i := n - 2; i >= 0; i-- {
		reason, attr, _ = WrapFailureWithAttribution(secrets[i], reason, attr, uint32(i))
	}
	df, err := c.DecryptFailure(reason, attr)
	if err != nil {
		t.Fatal(err)
	}
	if df.SenderIdx != n-1 || len(df.HoldTimes) != n || df.HoldTimes[n-1] != 99 {
		t.Fatalf("%d %v", df.SenderIdx, df.HoldTimes)
	}

	// A hop without attribution support in the middle: the origin keeps
	// the hold times up to it and still reads the failure.
	reason, attr, _ = NewFailureWithAttribution(secrets[n-1], &FailMPPTimeout{}, 99)
	for i := n - 2; i >= 0; i-- {
		if i == 2 {
			reason, attr = WrapFailure(secrets[i], reason), nil
			continue
		}
		reason, attr, _ = WrapFailureWithAttribution(secrets[i], reason, attr, uint32(i))
	}
	df, err = c.DecryptFailure(reason, attr)
	if err != nil {
		t.Fatal(err)
	}
	if df.SenderIdx != n-1 || len(df.HoldTimes) != 2 {
		t.Fatalf("legacy hop: %d %v", df.SenderIdx, df.HoldTimes)
	}
}

func TestFulfillAttributionRoundTrip(t *testing.T) {
	c, secrets := testCircuit(t, 20)
	var attr []byte
	for i := 19; i >= 0; i-- {
		var err error
		if attr, err = AddFulfillAttribution(secrets[i], attr, uint32(100+i)); err != nil {
			t.Fatal(err)
		}
	}
	hts, err := c.FulfillHoldTimes(attr)
	if err != nil || len(hts) != 20 || hts[0] != 100 || hts[19] != 119 {
		t.Fatalf("%v %v", hts, err)
	}
	attr[AttributionDataSize-1] ^= 1
	hts, _ = c.FulfillHoldTimes(attr)
	if len(hts) == 20 {
		t.Fatal("tampered attribution fully verified")
	}
	if _, err := c.FulfillHoldTimes(attr[:10]); !errors.Is(err, ErrAttributionSize) {
		t.Fatal(err)
	}
}

func TestFailurePadding(t *testing.T) {
	var ss Hash256
	big := &FailUnknown{FailCode: 0x1234, Data: make([]byte, 500)}
	reason, err := NewFailure(ss, big)
	if err != nil {
		t.Fatal(err)
	}
	if len(reason) != HMACSize+4+LargeFailurePadSize {
		t.Fatalf("large failure is %d bytes", len(reason))
	}
	huge := &FailUnknown{FailCode: 0x1234, Data: make([]byte, LargeFailurePadSize)}
	if _, err := NewFailure(ss, huge); !errors.Is(err, ErrFailureTooLong) {
		t.Fatal(err)
	}
	if _, err := NewFailureRaw(ss, make([]byte, 100), 50); !errors.Is(err, ErrFailureTooLong) {
		t.Fatal(err)
	}
}

func TestMalformedToFailure(t *testing.T) {
	h := Hash256{9}
	for _, code := range []FailCode{CodeInvalidOnionVersion, CodeInvalidOnionHMAC, CodeInvalidOnionKey, CodeInvalidOnionBlinding, FlagBadOnion | 77} {
		m, err := MalformedToFailure(code, h)
		if err != nil || m.Code() != code {
			t.Fatalf("%v: %v %v", code, m, err)
		}
		b := EncodeFailureMessage(m)
		if !bytes.Equal(b[2:34], h[:]) {
			t.Fatalf("%v: hash not carried: %x", code, b)
		}
	}
	if _, err := MalformedToFailure(CodeTemporaryChannelFailure, h); !errors.Is(err, ErrNotBadOnion) {
		t.Fatal(err)
	}
}

func TestFailureForError(t *testing.T) {
	h := Hash256{4}
	tests := []struct {
		err      error
		code     FailCode
		badOnion bool
	}{
		{ErrInvalidOnionVersion, CodeInvalidOnionVersion, true},
		{ErrInvalidOnionKey, CodeInvalidOnionKey, true},
		{ErrInvalidOnionHMAC, CodeInvalidOnionHMAC, true},
		{ErrInvalidHopPayload, CodeInvalidOnionPayload, false},
		{&PayloadError{Type: 6, HasType: true}, CodeInvalidOnionPayload, false},
		{ErrReplayedPacket, CodeTemporaryChannelFailure, false},
	}
	for _, tc := range tests {
		m, ok := FailureForError(tc.err, h)
		if !ok || m.Code() != tc.code || m.Code().IsBadOnion() != tc.badOnion {
			t.Fatalf("%v: %v %v", tc.err, m, ok)
		}
	}
	if _, ok := FailureForError(errors.New("other"), h); ok {
		t.Fatal("unrelated error mapped")
	}
}

// testCircuit returns a circuit over n random-looking but deterministic
// nodes and its shared secrets.
func testCircuit(t testing.TB, n int) (*Circuit, []Hash256) {
	t.Helper()
	path := make([]*btcec.PublicKey, n)
	for i := range path {
		k, _ := btcec.PrivKeyFromBytes(bytes.Repeat([]byte{byte(i + 1)}, 32))
		path[i] = k.PubKey()
	}
	session, _ := btcec.PrivKeyFromBytes(bytes.Repeat([]byte{0x99}, 32))
	c, err := NewCircuit(session, path)
	if err != nil {
		t.Fatal(err)
	}
	return c, c.SharedSecrets
}
