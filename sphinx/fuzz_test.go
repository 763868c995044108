package sphinx

import (
	"bytes"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
)

func fuzzNodeKey() *btcec.PrivateKey {
	k, _ := btcec.PrivKeyFromBytes(append(bytes.Repeat([]byte{0x21}, 31), 1))
	return k
}

// FuzzProcessPacket feeds arbitrary bytes to the packet decoder and, when
// they have the right length, to the processor. It also processes a valid
// onion with arbitrary bytes XORed in, which reaches past the HMAC check
// only for unmodified packets. Nothing may panic, and a processed packet's
// next packet must serialize to PacketSize bytes.
func FuzzProcessPacket(f *testing.F) {
	key := fuzzNodeKey()
	pkt, _, _, ad := testRoute(f, 3, 40)
	f.Add(pkt.Bytes(), ad)
	f.Add(make([]byte, PacketSize), []byte(nil))
	f.Add([]byte{0, 1, 2}, []byte{1})
	r := NewRouter(PrivKeyECDH{key}, NewMemoryReplayLog())
	f.Fuzz(func(t *testing.T, b []byte, ad []byte) {
		p, err := DecodeOnionPacket(b)
		if err != nil {
			if len(b) == PacketSize {
				t.Fatalf("right-sized packet rejected: %v", err)
			}
			return
		}
		res, err := r.Peel(p, ad)
		if err != nil {
			if _, ok := FailureForError(err, p.Hash()); !ok {
				t.Fatalf("error without failure mapping: %v", err)
			}
			return
		}
		if len(res.Payload) < MinPayloadSize {
			t.Fatalf("payload of %d bytes", len(res.Payload))
		}
		if res.NextPacket != nil && len(res.NextPacket.Bytes()) != PacketSize {
			t.Fatal("next packet size")
		}
		if hp, err := DecodeHopPayload(res.Payload); err == nil {
			_ = hp.Validate(res.IsFinal(), false)
		}
	})
}

// FuzzProcessCrafted processes packets whose HMAC is valid for the fuzzed
// hop_payloads, so the framing and payload code after the HMAC check is
// exercised with arbitrary plaintext.
func FuzzProcessCrafted(f *testing.F) {
	key := fuzzNodeKey()
	session, _ := btcec.PrivKeyFromBytes(bytes.Repeat([]byte{0x55}, 32))
	ss, err := SharedSecrets(session, []*btcec.PublicKey{key.PubKey()})
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte{0x13, 2, 2, 0x3a, 0x98, 4, 2, 5, 0xdc, 6, 8, 0, 0, 0, 0, 0, 0, 0, 1})
	f.Add([]byte{0})
	f.Add([]byte{0xfd, 0x04, 0xf1})
	r := NewRouter(PrivKeyECDH{key}, nil)
	f.Fuzz(func(t *testing.T, plain []byte) {
		p := &OnionPacket{}
		copy(p.RoutingInfo[:], plain)
		xorStream(generateKey(keyRho, ss[0][:]), p.RoutingInfo[:])
		p.HMAC = computeHMAC(generateKey(keyMu, ss[0][:]), p.RoutingInfo[:], nil)
		copy(p.EphemeralKey[:], session.PubKey().SerializeCompressed())
		res, err := r.Peel(p, nil)
		if err != nil {
			return
		}
		if hp, err := DecodeHopPayload(res.Payload); err == nil {
			_ = hp.Validate(res.IsFinal(), false)
			_ = hp.Validate(res.IsFinal(), true)
			enc, err := hp.Encode()
			if err != nil || !bytes.Equal(enc, res.Payload) {
				t.Fatalf("payload does not re-encode: %v", err)
			}
		}
	})
}

// FuzzDecryptFailure decrypts arbitrary reasons and attribution data over a
// fixed circuit.
func FuzzDecryptFailure(f *testing.F) {
	c, secrets := testCircuit(f, 5)
	reason, attr, err := NewFailureWithAttribution(secrets[4], &FailTemporaryNodeFailure{}, 1)
	if err != nil {
		f.Fatal(err)
	}
	for i := 3; i >= 0; i-- {
		reason, attr, _ = WrapFailureWithAttribution(secrets[i], reason, attr, 1)
	}
	f.Add(reason, attr)
	f.Add([]byte{}, []byte{})
	f.Add(make([]byte, 40), make([]byte, AttributionDataSize))
	f.Fuzz(func(t *testing.T, reason, attr []byte) {
		df, err := c.DecryptFailure(reason, attr)
		if err == nil && (df.SenderIdx < 0 || df.SenderIdx >= len(c.Path)) {
			t.Fatalf("sender index %d", df.SenderIdx)
		}
		_, _ = c.FulfillHoldTimes(attr)
		// Wrapping must accept anything too.
		_, _, _ = WrapFailureWithAttribution(secrets[0], reason, attr, 9)
	})
}

// FuzzDecodeFailureMessage checks that decoding never panics and that a
// decoded message re-encodes to the bytes it came from, unless the decoder
// was liberal (channel_update length absent, or short payment details).
func FuzzDecodeFailureMessage(f *testing.F) {
	for _, m := range allFailures() {
		f.Add(EncodeFailureMessage(m))
	}
	f.Add([]byte{0x10, 0x07})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeFailureMessage(b)
		if err != nil {
			return
		}
		enc := EncodeFailureMessage(m)
		m2, err := DecodeFailureMessage(enc)
		if err != nil {
			t.Fatalf("re-encoded message does not decode: %v", err)
		}
		if !bytes.Equal(EncodeFailureMessage(m2), enc) {
			t.Fatal("encoding not stable")
		}
	})
}

// FuzzDecodeHopPayload checks decoding, validation and re-encoding of
// arbitrary payloads.
func FuzzDecodeHopPayload(f *testing.F) {
	var v onionVector
	loadJSON(f, "onion-test.json", &v)
	for _, h := range vectorRoute(f, &v) {
		f.Add(h.Payload)
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodeHopPayload(b)
		if err != nil {
			return
		}
		for _, final := range []bool{false, true} {
			_ = p.Validate(final, false)
			_ = p.Validate(final, true)
		}
		enc, err := p.Encode()
		if err != nil {
			if len(b) >= MinPayloadSize {
				t.Fatalf("decoded payload does not encode: %v", err)
			}
			return
		}
		if !bytes.Equal(enc, b) {
			t.Fatalf("re-encoded\n%x\nfrom\n%x", enc, b)
		}
		p2, err := DecodeHopPayload(enc)
		if err != nil {
			t.Fatalf("re-encoded payload does not decode: %v", err)
		}
		enc2, err := p2.Encode()
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding not stable: %v", err)
		}
	})
}

// FuzzDecodeBlindedData checks decoding and re-encoding of arbitrary
// encrypted_data_tlv streams, and decryption of arbitrary ciphertexts.
func FuzzDecodeBlindedData(f *testing.F) {
	var v routeBlindingVector
	loadJSON(f, "route-blinding-test.json", &v)
	for _, h := range v.Generate.Hops {
		f.Add(mustHex(f, h.EncodedTLVs))
	}
	key := PrivKeyECDH{fuzzNodeKey()}
	pathKey := fuzzNodeKey().PubKey()
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, _ = DecryptBlindedData(key, pathKey, b)
		d, err := DecodeBlindedData(b)
		if err != nil {
			return
		}
		enc, err := d.Encode()
		if err != nil {
			t.Fatalf("decoded data does not encode: %v", err)
		}
		if !bytes.Equal(enc, b) {
			t.Fatalf("re-encoded\n%x\nfrom\n%x", enc, b)
		}
	})
}
