package sphinx

import (
	"bytes"
	"errors"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"lnd.xprv/lnwire/tlv"
)

func u64p(v uint64) *uint64 { return &v }

// TestHopPayloadVector decodes the payloads of onion-test.json and
// re-encodes them to the same bytes.
func TestHopPayloadVector(t *testing.T) {
	var v onionVector
	loadJSON(t, "onion-test.json", &v)
	route := vectorRoute(t, &v)
	for i, h := range route {
		p, err := DecodeHopPayload(h.Payload)
		if err != nil {
			t.Fatalf("hop %d: %v", i, err)
		}
		final := i == len(route)-1
		if err := p.Validate(final, false); err != nil {
			t.Fatalf("hop %d: validate: %v", i, err)
		}
		enc, err := p.Encode()
		if err != nil {
			t.Fatalf("hop %d: encode: %v", i, err)
		}
		if !bytes.Equal(enc, h.Payload) {
			t.Fatalf("hop %d re-encoded\n got %x\nwant %x", i, enc, h.Payload)
		}
		if final {
			if p.PaymentData == nil || p.ShortChannelID != nil {
				t.Fatalf("final hop: %+v", p)
			}
		} else if p.ShortChannelID == nil || *p.ShortChannelID != uint64(i+1) {
			t.Fatalf("hop %d short_channel_id %v", i, p.ShortChannelID)
		}
	}
	// Spot-check the first hop's values (02 02 3a98, 04 02 05dc).
	p, _ := DecodeHopPayload(route[0].Payload)
	if p.AmtToForward != 15000 || p.OutgoingCLTV != 1500 {
		t.Fatalf("hop 0: amt %d cltv %d", p.AmtToForward, p.OutgoingCLTV)
	}
}

func TestHopPayloadRoundTrip(t *testing.T) {
	pathKey, _ := btcec.PrivKeyFromBytes(bytes.Repeat([]byte{7}, 32))
	var secret [32]byte
	copy(secret[:], bytes.Repeat([]byte{0xaa}, 32))
	preimage := bytes.Repeat([]byte{0x11}, 32)
	tests := []struct {
		name    string
		p       HopPayload
		final   bool
		blinded bool
	}{
		{"forward", HopPayload{AmtToForward: 1000, OutgoingCLTV: 700000, ShortChannelID: u64p(123 << 40)}, false, false},
		{"final with payment_data and metadata", HopPayload{
			AmtToForward: 5000, OutgoingCLTV: 800000,
			PaymentData:     &PaymentData{PaymentSecret: secret, TotalMsat: 10000},
			PaymentMetadata: []byte{1, 2, 3},
		}, true, false},
		{"final empty metadata", HopPayload{AmtToForward: 1, OutgoingCLTV: 1, PaymentMetadata: []byte{}}, true, false},
		{"keysend", HopPayload{
			AmtToForward: 5000, OutgoingCLTV: 800000,
			CustomRecords: map[uint64][]byte{KeysendPreimageType: preimage, 65537: {9}},
		}, true, false},
		{"zero amount", HopPayload{AmtToForward: 0, OutgoingCLTV: 0}, true, false},
		{"blinded intermediate", HopPayload{
			EncryptedRecipientData: []byte{1, 2, 3, 4},
			CurrentPathKey:         pathKey.PubKey(),
		}, false, false},
		{"blinded intermediate, path_key in htlc", HopPayload{EncryptedRecipientData: []byte{1, 2}}, false, true},
		{"blinded final", HopPayload{
			AmtToForward: 10, OutgoingCLTV: 20, TotalAmountMsat: u64p(30),
			EncryptedRecipientData: []byte{5},
		}, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.p.Validate(tc.final, tc.blinded); err != nil {
				t.Fatalf("built payload invalid: %v", err)
			}
			b, err := tc.p.Encode()
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeHopPayload(b)
			if err != nil {
				t.Fatal(err)
			}
			if err := got.Validate(tc.final, tc.blinded); err != nil {
				t.Fatalf("decoded payload invalid: %v", err)
			}
			b2, err := got.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, b2) {
				t.Fatalf("re-encode differs\n%x\n%x", b, b2)
			}
			if got.AmtToForward != tc.p.AmtToForward || got.OutgoingCLTV != tc.p.OutgoingCLTV {
				t.Fatalf("amt/cltv %d/%d", got.AmtToForward, got.OutgoingCLTV)
			}
			if (got.PaymentMetadata == nil) != (tc.p.PaymentMetadata == nil) {
				t.Fatal("payment_metadata presence lost")
			}
			if tc.p.PaymentData != nil && *got.PaymentData != *tc.p.PaymentData {
				t.Fatalf("payment_data %+v", got.PaymentData)
			}
			if tc.p.CurrentPathKey != nil && !got.CurrentPathKey.IsEqual(tc.p.CurrentPathKey) {
				t.Fatal("current_path_key")
			}
			if len(got.CustomRecords) != len(tc.p.CustomRecords) {
				t.Fatalf("custom records %v", got.CustomRecords)
			}
		})
	}

	p := HopPayload{CustomRecords: map[uint64][]byte{KeysendPreimageType: preimage}}
	pre, ok := p.KeysendPreimage()
	if !ok || !bytes.Equal(pre[:], preimage) {
		t.Fatal("keysend preimage")
	}
}

func TestHopPayloadEncodeErrors(t *testing.T) {
	p := HopPayload{CustomRecords: map[uint64][]byte{65535: {1}}}
	if _, err := p.Encode(); !errors.Is(err, ErrCustomRecordRange) {
		t.Fatalf("custom record below range: %v", err)
	}
	p = HopPayload{UnknownRecords: tlv.Stream{{Type: 100, Value: nil}}}
	if _, err := p.Encode(); err == nil {
		t.Fatal("even unknown record encoded")
	}
}

// rec encodes one TLV record.
func rec(typ uint64, v []byte) []byte {
	b := tlv.AppendBigSize(nil, typ)
	b = tlv.AppendBigSize(b, uint64(len(v)))
	return append(b, v...)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestDecodeHopPayloadErrors(t *testing.T) {
	amt := rec(2, []byte{1})
	cltv := rec(4, []byte{1})
	tests := []struct {
		name    string
		b       []byte
		errType uint64
		hasType bool
	}{
		{"not a stream", []byte{2, 5, 1}, 0, false},
		{"out of order", cat(cltv, amt), 0, false},
		{"non-minimal amount", cat(rec(2, []byte{0, 1}), cltv), 2, true},
		{"amount too long", cat(rec(2, make([]byte, 9)), cltv), 2, true},
		{"cltv too long", cat(amt, rec(4, []byte{1, 2, 3, 4, 5})), 4, true},
		{"short scid", cat(amt, cltv, rec(6, []byte{1, 2, 3})), 6, true},
		{"short payment_data", cat(amt, cltv, rec(8, make([]byte, 31))), 8, true},
		{"payment_data total too long", cat(amt, cltv, rec(8, make([]byte, 41))), 8, true},
		{"bad path key", cat(rec(10, []byte{1}), rec(12, make([]byte, 33))), 12, true},
		{"unknown even", cat(amt, cltv, rec(100, nil)), 100, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeHopPayload(tc.b)
			var pe *PayloadError
			if !errors.As(err, &pe) || !errors.Is(err, ErrInvalidPayload) {
				t.Fatalf("err %v", err)
			}
			if pe.HasType != tc.hasType || (tc.hasType && pe.Type != tc.errType) {
				t.Fatalf("error names type %d (%v), want %d", pe.Type, pe.HasType, tc.errType)
			}
			f := pe.Failure()
			if f.Code() != CodeInvalidOnionPayload || f.Type != pe.Type {
				t.Fatalf("failure %+v", f)
			}
		})
	}

	// The offset names where the record starts.
	_, err := DecodeHopPayload(cat(amt, cltv, rec(100, nil)))
	var pe *PayloadError
	if !errors.As(err, &pe) || pe.Offset != uint16(len(amt)+len(cltv)) {
		t.Fatalf("offset: %v", err)
	}
}

func TestHopPayloadValidate(t *testing.T) {
	amt := rec(2, []byte{1})
	cltv := rec(4, []byte{1})
	scid := rec(6, make([]byte, 8))
	pd := rec(8, append(make([]byte, 32), 1))
	erd := rec(10, []byte{1})
	pk, _ := btcec.PrivKeyFromBytes(bytes.Repeat([]byte{3}, 32))
	cpk := rec(12, pk.PubKey().SerializeCompressed())
	meta := rec(16, []byte{1})
	total := rec(18, []byte{1})
	odd := rec(65537, []byte{1})

	tests := []struct {
		name    string
		b       []byte
		final   bool
		blinded bool
		badType uint64 // 0: valid
	}{
		{"forward ok", cat(amt, cltv, scid), false, false, 0},
		{"forward with custom record ok", cat(amt, cltv, scid, odd), false, false, 0},
		{"forward missing scid", cat(amt, cltv), false, false, 6},
		{"forward missing amt", cat(cltv, scid), false, false, 2},
		{"forward missing cltv", cat(amt, scid), false, false, 4},
		{"forward with payment_data", cat(amt, cltv, scid, pd), false, false, 8},
		{"forward with metadata", cat(amt, cltv, scid, meta), false, false, 16},
		{"forward with total_amount_msat", cat(amt, cltv, scid, total), false, false, 18},
		{"final ok", cat(amt, cltv, pd, meta), true, false, 0},
		{"final without payment_data ok", cat(amt, cltv), true, false, 0},
		{"final with scid", cat(amt, cltv, scid), true, false, 6},
		{"final missing cltv", cat(amt), true, false, 4},
		{"path key outside blinded route", cat(amt, cltv, cpk), true, false, 12},
		{"htlc path_key but no encrypted data", cat(amt, cltv), true, true, 10},
		{"blinded intro ok", cat(erd, cpk), false, false, 0},
		{"blinded intro missing path key", cat(erd), false, false, 12},
		{"blinded both path keys", cat(erd, cpk), false, true, 12},
		{"blinded intermediate ok", cat(erd), false, true, 0},
		{"blinded intermediate with amt", cat(amt, erd), false, true, 2},
		{"blinded intermediate with custom", cat(erd, odd), false, true, 65537},
		{"even custom record at final", cat(amt, cltv, rec(65538, nil)), true, false, 65538},
		{"keysend at final ok", cat(amt, cltv, rec(KeysendPreimageType, make([]byte, 32))), true, false, 0},
		{"keysend at intermediate", cat(amt, cltv, scid, rec(KeysendPreimageType, make([]byte, 32))), false, false, KeysendPreimageType},
		{"blinded final ok", cat(amt, cltv, erd, total), true, true, 0},
		{"blinded final missing total", cat(amt, cltv, erd), true, true, 18},
		{"blinded final with payment_data", cat(amt, cltv, pd, erd, total), true, true, 8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := DecodeHopPayload(tc.b)
			if err != nil {
				t.Fatal(err)
			}
			err = p.Validate(tc.final, tc.blinded)
			if tc.badType == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var pe *PayloadError
			if !errors.As(err, &pe) || pe.Type != tc.badType {
				t.Fatalf("want error on type %d, got %v", tc.badType, err)
			}
		})
	}
}

func TestTotalMsat(t *testing.T) {
	p := HopPayload{AmtToForward: 5}
	if p.TotalMsat() != 5 {
		t.Fatal("default total")
	}
	p.TotalAmountMsat = u64p(7)
	if p.TotalMsat() != 7 {
		t.Fatal("total_amount_msat")
	}
	p.PaymentData = &PaymentData{TotalMsat: 9}
	if p.TotalMsat() != 9 {
		t.Fatal("payment_data total")
	}
}
