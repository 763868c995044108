package sphinx

import (
	"bytes"
	"errors"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
)

func testKeys(n int, seed byte) []*btcec.PrivateKey {
	keys := make([]*btcec.PrivateKey, n)
	for i := range keys {
		b := bytes.Repeat([]byte{seed}, 32)
		b[31] = byte(i + 1)
		keys[i], _ = btcec.PrivKeyFromBytes(b)
	}
	return keys
}

// testRoute builds an n-hop onion with payloads of the given size and
// returns it with the hop keys.
func testRoute(t testing.TB, n, payloadSize int) (*OnionPacket, []*btcec.PrivateKey, []Hop, []byte) {
	t.Helper()
	keys := testKeys(n, 0x21)
	route := make([]Hop, n)
	for i := range route {
		p := bytes.Repeat([]byte{byte(i)}, payloadSize)
		route[i] = Hop{PubKey: keys[i].PubKey(), Payload: p}
	}
	session, _ := btcec.PrivKeyFromBytes(bytes.Repeat([]byte{0x77}, 32))
	ad := bytes.Repeat([]byte{0x42}, 32)
	pkt, err := NewOnionPacket(route, session, ad)
	if err != nil {
		t.Fatal(err)
	}
	return pkt, keys, route, ad
}

// walk processes pkt through every hop and checks each payload.
func walk(t *testing.T, pkt *OnionPacket, keys []*btcec.PrivateKey, route []Hop, ad []byte) {
	t.Helper()
	for i, k := range keys {
		res, err := NewRouter(PrivKeyECDH{k}, nil).ProcessOnionPacket(pkt, ad, 0)
		if err != nil {
			t.Fatalf("hop %d: %v", i, err)
		}
		if !bytes.Equal(res.Payload, route[i].Payload) {
			t.Fatalf("hop %d payload %x", i, res.Payload)
		}
		if res.IsFinal() != (i == len(keys)-1) {
			t.Fatalf("hop %d final=%v", i, res.IsFinal())
		}
		pkt = res.NextPacket
	}
}

func TestRouteLengths(t *testing.T) {
	tests := []struct {
		name       string
		hops, size int
	}{
		{"one hop", 1, 2},
		{"20 hops of 30 bytes", 20, 30},
		{"27 hops of 15 bytes", 27, 15},
		{"one hop filling the onion", 1, RoutingInfoSize - 3 - HMACSize},
		{"two hops, 253-byte payloads (3-byte length)", 2, 253},
		{"four hops of 290 bytes", 4, 290},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pkt, keys, route, ad := testRoute(t, tc.hops, tc.size)
			walk(t, pkt, keys, route, ad)
		})
	}
}

func TestNewOnionPacketErrors(t *testing.T) {
	keys := testKeys(3, 0x21)
	session, _ := btcec.PrivKeyFromBytes(bytes.Repeat([]byte{0x77}, 32))
	if _, err := NewOnionPacket(nil, session, nil); !errors.Is(err, ErrEmptyRoute) {
		t.Fatal(err)
	}
	short := []Hop{{PubKey: keys[0].PubKey(), Payload: []byte{1}}}
	if _, err := NewOnionPacket(short, session, nil); !errors.Is(err, ErrPayloadTooShort) {
		t.Fatal(err)
	}
	big := []Hop{{PubKey: keys[0].PubKey(), Payload: make([]byte, RoutingInfoSize-3-HMACSize+1)}}
	if _, err := NewOnionPacket(big, session, nil); !errors.Is(err, ErrRouteTooLong) {
		t.Fatal(err)
	}
	many := make([]Hop, 3)
	for i := range many {
		many[i] = Hop{PubKey: keys[i].PubKey(), Payload: make([]byte, 420)}
	}
	if _, err := NewOnionPacket(many, session, nil); !errors.Is(err, ErrRouteTooLong) {
		t.Fatal(err)
	}
	nilKey := []Hop{{Payload: []byte{1, 2}}}
	if _, err := NewOnionPacket(nilKey, session, nil); !errors.Is(err, ErrInvalidKey) {
		t.Fatal(err)
	}
}

func TestProcessErrors(t *testing.T) {
	pkt, keys, _, ad := testRoute(t, 3, 40)
	r := NewRouter(PrivKeyECDH{keys[0]}, nil)

	mutate := func(f func(b []byte)) *OnionPacket {
		b := pkt.Bytes()
		f(b)
		p, err := DecodeOnionPacket(b)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name string
		pkt  *OnionPacket
		ad   []byte
		want error
		code FailCode
	}{
		{"version 1", mutate(func(b []byte) { b[0] = 1 }), ad, ErrInvalidOnionVersion, CodeInvalidOnionVersion},
		{"key prefix 0x04", mutate(func(b []byte) { b[1] = 4 }), ad, ErrInvalidOnionKey, CodeInvalidOnionKey},
		{"key not on curve", mutate(func(b []byte) {
			copy(b[1:34], append([]byte{2}, bytes.Repeat([]byte{0xff}, 32)...))
		}), ad, ErrInvalidOnionKey, CodeInvalidOnionKey},
		{"all-zero key", mutate(func(b []byte) { clear(b[1:34]) }), ad, ErrInvalidOnionKey, CodeInvalidOnionKey},
		{"routing info byte", mutate(func(b []byte) { b[100] ^= 1 }), ad, ErrInvalidOnionHMAC, CodeInvalidOnionHMAC},
		{"last routing info byte", mutate(func(b []byte) { b[1+33+1299] ^= 0x80 }), ad, ErrInvalidOnionHMAC, CodeInvalidOnionHMAC},
		{"hmac byte", mutate(func(b []byte) { b[PacketSize-1] ^= 1 }), ad, ErrInvalidOnionHMAC, CodeInvalidOnionHMAC},
		{"other key", mutate(func(b []byte) {
			copy(b[1:34], keys[2].PubKey().SerializeCompressed())
		}), ad, ErrInvalidOnionHMAC, CodeInvalidOnionHMAC},
		{"associated data", pkt, bytes.Repeat([]byte{0x43}, 32), ErrInvalidOnionHMAC, CodeInvalidOnionHMAC},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.ProcessOnionPacket(tc.pkt, tc.ad, 0)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			f, ok := FailureForError(err, tc.pkt.Hash())
			if !ok || f.Code() != tc.code {
				t.Fatalf("failure %v", f)
			}
			h := tc.pkt.Hash()
			if b := EncodeFailureMessage(f); !bytes.Equal(b[2:], h[:]) {
				t.Fatal("sha256_of_onion not carried")
			}
		})
	}

	// Hop 1 cannot read the packet meant for hop 0.
	if _, err := NewRouter(PrivKeyECDH{keys[1]}, nil).Peel(pkt, ad); !errors.Is(err, ErrInvalidOnionHMAC) {
		t.Fatal(err)
	}
	if _, err := r.Peel(nil, ad); err == nil {
		t.Fatal("nil packet accepted")
	}
}

// craftSingleHop builds a one-hop onion whose decrypted hop_payloads start
// with framing, with a valid HMAC, to exercise the reader's framing checks.
func craftSingleHop(t *testing.T, node *btcec.PublicKey, framing []byte) *OnionPacket {
	t.Helper()
	session, _ := btcec.PrivKeyFromBytes(bytes.Repeat([]byte{0x55}, 32))
	ss, err := SharedSecrets(session, []*btcec.PublicKey{node})
	if err != nil {
		t.Fatal(err)
	}
	p := &OnionPacket{}
	copy(p.RoutingInfo[:], framing)
	xorStream(generateKey(keyRho, ss[0][:]), p.RoutingInfo[:])
	p.HMAC = computeHMAC(generateKey(keyMu, ss[0][:]), p.RoutingInfo[:], nil)
	copy(p.EphemeralKey[:], session.PubKey().SerializeCompressed())
	return p
}

func TestProcessFraming(t *testing.T) {
	key := testKeys(1, 0x31)[0]
	r := NewRouter(PrivKeyECDH{key}, nil)
	tests := []struct {
		name    string
		framing []byte
		ok      bool
	}{
		{"length 0 (legacy)", []byte{0}, false},
		{"length 1 (reserved)", []byte{1, 9}, false},
		{"non-minimal bigsize", []byte{0xfd, 0x00, 0x10}, false},
		{"length past the end", []byte{0xfd, 0x05, 0x00}, false},
		{"payload leaves no room for hmac", []byte{0xfd, 0x04, 0xf2}, false},
		{"largest payload", []byte{0xfd, 0x04, 0xf1}, true},
		{"2-byte payload", []byte{2, 1, 1}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := r.Peel(craftSingleHop(t, key.PubKey(), tc.framing), nil)
			if tc.ok {
				if err != nil || !res.IsFinal() {
					t.Fatalf("%v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidHopPayload) {
				t.Fatalf("err %v", err)
			}
			if f, ok := FailureForError(err, Hash256{}); !ok || f.Code() != CodeInvalidOnionPayload {
				t.Fatalf("failure %v", f)
			}
		})
	}
}

func TestReplay(t *testing.T) {
	pkt, keys, _, ad := testRoute(t, 2, 20)
	log := NewMemoryReplayLog()
	r := NewRouter(PrivKeyECDH{keys[0]}, log)
	first, err := r.ProcessOnionPacket(pkt, ad, 100)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.ProcessOnionPacket(pkt, ad, 100); !errors.Is(err, ErrReplayedPacket) {
		t.Fatalf("replay: %v", err)
	}
	if log.Len() != 1 {
		t.Fatalf("log has %d entries", log.Len())
	}
	// A failed check must not record anything.
	bad := *pkt
	bad.HMAC[0] ^= 1
	if _, err := r.ProcessOnionPacket(&bad, ad, 100); !errors.Is(err, ErrInvalidOnionHMAC) {
		t.Fatal(err)
	}
	if log.Len() != 1 {
		t.Fatal("failed packet recorded")
	}

	// Pruning below the expiry keeps the entry; above forgets it.
	if err := log.PruneBelow(100); err != nil || log.Len() != 1 {
		t.Fatal("pruned too early")
	}
	if err := log.PruneBelow(101); err != nil || log.Len() != 0 {
		t.Fatal("not pruned")
	}
	if _, err := r.ProcessOnionPacket(pkt, ad, 200); err != nil {
		t.Fatalf("after prune: %v", err)
	}

	replayed, err := log.PutBatch([]Hash256{first.ReplayHash(), {1}, {1}}, []uint32{5, 5, 5})
	if err != nil || len(replayed) != 2 || replayed[0] != 0 || replayed[1] != 2 {
		t.Fatalf("batch %v %v", replayed, err)
	}
	if _, err := log.PutBatch([]Hash256{{2}}, nil); err == nil {
		t.Fatal("mismatched batch accepted")
	}
}

func TestOnionPacketCodec(t *testing.T) {
	pkt, _, _, _ := testRoute(t, 2, 10)
	b := pkt.Bytes()
	if len(b) != PacketSize {
		t.Fatal(len(b))
	}
	var buf bytes.Buffer
	if err := pkt.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	p2, err := ReadOnionPacket(&buf)
	if err != nil || *p2 != *pkt {
		t.Fatal(err)
	}
	for _, n := range []int{0, PacketSize - 1, PacketSize + 1} {
		if _, err := DecodeOnionPacket(make([]byte, n)); !errors.Is(err, ErrPacketSize) {
			t.Fatalf("%d bytes: %v", n, err)
		}
	}
	if _, err := ReadOnionPacket(bytes.NewReader(b[:100])); err == nil {
		t.Fatal("short read accepted")
	}
}

// TestEndToEnd sends a payment onion over four hops built from HopPayloads,
// fails it at the third hop and decrypts the failure at the origin.
func TestEndToEnd(t *testing.T) {
	keys := testKeys(4, 0x41)
	var route []Hop
	var payloads []HopPayload
	for i := range keys {
		p := HopPayload{AmtToForward: uint64(1000 - i), OutgoingCLTV: uint32(500 - i)}
		if i < len(keys)-1 {
			scid := uint64(i + 10)
			p.ShortChannelID = &scid
		} else {
			p.PaymentData = &PaymentData{PaymentSecret: [32]byte{7}, TotalMsat: 997}
		}
		b, err := p.Encode()
		if err != nil {
			t.Fatal(err)
		}
		payloads = append(payloads, p)
		route = append(route, Hop{PubKey: keys[i].PubKey(), Payload: b})
	}
	session, _ := btcec.PrivKeyFromBytes(bytes.Repeat([]byte{0x13}, 32))
	hash := bytes.Repeat([]byte{0xab}, 32)
	pkt, err := NewOnionPacket(route, session, hash)
	if err != nil {
		t.Fatal(err)
	}

	var secrets []Hash256
	for i, k := range keys {
		res, err := NewRouter(PrivKeyECDH{k}, NewMemoryReplayLog()).ProcessOnionPacket(pkt, hash, 600)
		if err != nil {
			t.Fatal(err)
		}
		p, err := DecodeHopPayload(res.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Validate(res.IsFinal(), false); err != nil {
			t.Fatalf("hop %d: %v", i, err)
		}
		if p.AmtToForward != payloads[i].AmtToForward || p.OutgoingCLTV != payloads[i].OutgoingCLTV {
			t.Fatalf("hop %d payload %+v", i, p)
		}
		secrets = append(secrets, res.SharedSecret)
		pkt = res.NextPacket
	}

	reason, attr, err := NewFailureWithAttribution(secrets[2], &FailFeeInsufficient{HtlcMsat: 998, ChannelUpdate: sampleUpdate}, 3)
	if err != nil {
		t.Fatal(err)
	}
	reason, attr, _ = WrapFailureWithAttribution(secrets[1], reason, attr, 2)
	reason, attr, _ = WrapFailureWithAttribution(secrets[0], reason, attr, 1)

	c, err := NewCircuit(session, pathOf(route))
	if err != nil {
		t.Fatal(err)
	}
	df, err := c.DecryptFailure(reason, attr)
	if err != nil {
		t.Fatal(err)
	}
	f, ok := df.Failure.(*FailFeeInsufficient)
	if df.SenderIdx != 2 || !ok || f.HtlcMsat != 998 || !bytes.Equal(f.ChannelUpdate, sampleUpdate) {
		t.Fatalf("%d %#v", df.SenderIdx, df.Failure)
	}
	if len(df.HoldTimes) != 3 || df.HoldTimes[0] != 1 || df.HoldTimes[2] != 3 {
		t.Fatalf("hold times %v", df.HoldTimes)
	}
}
