package lnwire

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/lnwire/tlv"
)

// TestMessageExtensionVectors runs BOLT 1 Appendix C on init.
func TestMessageExtensionVectors(t *testing.T) {
	var vecs []struct {
		Hex     string `json:"hex"`
		Valid   bool   `json:"valid"`
		Comment string `json:"comment"`
	}
	loadVectors(t, "message_extension.json", &vecs)
	if len(vecs) != 5 {
		t.Fatalf("want 5 vectors, have %d", len(vecs))
	}
	for _, v := range vecs {
		in := mustHex(t, v.Hex)
		msg, err := ReadMessage(bytes.NewReader(in))
		if !v.Valid {
			if err == nil {
				t.Errorf("%s: %s: accepted", v.Hex, v.Comment)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", v.Hex, err)
		}
		init, ok := msg.(*Init)
		if !ok {
			t.Fatalf("%s: got %T", v.Hex, msg)
		}
		out, err := Serialize(init)
		if err != nil || !bytes.Equal(out, in) {
			t.Fatalf("%s: re-encoded %x (%v)", v.Hex, out, err)
		}
	}
	// The odd records of the second vector are kept.
	msg, _ := ParseMessage(mustHex(t, "001000000000c9012acb0104"))
	extra := msg.(*Init).ExtraTLV
	if len(extra) != 2 || extra[0].Type != 0xc9 || extra[1].Type != 0xcb {
		t.Fatalf("extra records %v", extra)
	}
}

func TestInitRoundTrip(t *testing.T) {
	regtest := *chaincfg.RegressionNetParams.GenesisHash
	mainnet := *chaincfg.MainNetParams.GenesisHash
	onion := &OnionAddr{
		OnionService: strings.Repeat("a", 52) + "ayad.onion", Port: 9735,
	}
	tests := []struct {
		name string
		msg  *Init
	}{
		{"empty", &Init{}},
		{"features", &Init{
			GlobalFeatures: NewRawFeatureVector(DataLossProtectOptional),
			Features: NewRawFeatureVector(StaticRemoteKeyRequired,
				PaymentAddrRequired, TLVOnionPayloadRequired,
				AnchorsZeroFeeHtlcTxOptional, ChannelTypeOptional),
		}},
		{"networks", &Init{Networks: []chainhash.Hash{regtest, mainnet}}},
		{"empty networks", &Init{Networks: []chainhash.Hash{}}},
		{"ipv4", &Init{RemoteAddr: &net.TCPAddr{
			IP: net.IPv4(203, 0, 113, 5).To4(), Port: 9735}}},
		{"ipv6", &Init{RemoteAddr: &net.TCPAddr{
			IP: net.ParseIP("2001:db8::1"), Port: 9736}}},
		{"onion", &Init{RemoteAddr: onion}},
		{"dns", &Init{RemoteAddr: &DNSAddr{Hostname: "ln.example.com", Port: 9735}}},
		{"extra", &Init{
			Networks:   []chainhash.Hash{regtest},
			RemoteAddr: &net.TCPAddr{IP: net.IPv4(1, 2, 3, 4).To4(), Port: 1},
			ExtraTLV: tlv.Stream{{Type: 5, Value: []byte{1}},
				{Type: 1<<20 + 1, Value: nil}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := roundTrip(t, tc.msg)
			got, _ := ParseMessage(b)
			g := got.(*Init)
			if (g.Networks == nil) != (tc.msg.Networks == nil) ||
				len(g.Networks) != len(tc.msg.Networks) {
				t.Fatalf("networks %v, want %v", g.Networks, tc.msg.Networks)
			}
			if tc.msg.RemoteAddr != nil &&
				g.RemoteAddr.String() != tc.msg.RemoteAddr.String() {
				t.Fatalf("remote addr %v, want %v", g.RemoteAddr,
					tc.msg.RemoteAddr)
			}
		})
	}

	// An extra record colliding with a known type cannot be encoded.
	bad := &Init{Networks: []chainhash.Hash{}, ExtraTLV: tlv.Stream{{Type: 1}}}
	if _, err := Serialize(bad); !errors.Is(err, ErrExtraConflict) {
		t.Fatalf("want ErrExtraConflict, got %v", err)
	}
}

func TestInitDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		want error
	}{
		{"no features", "0010", io.ErrUnexpectedEOF},
		{"short globalfeatures", "00100002aa", io.ErrUnexpectedEOF},
		{"short features", "0010000000020a", io.ErrUnexpectedEOF},
		{"networks not multiple of 32", "0010000000000101aa", ErrTLVLength},
		{"unknown even tlv", "0010000000000400", tlv.ErrUnknownEvenType},
	}
	for _, tc := range tests {
		_, err := ParseMessage(mustHex(t, tc.hex))
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: want %v, got %v", tc.name, tc.want, err)
		}
	}
	// An unparseable remote_addr is kept, not fatal.
	msg, err := ParseMessage(mustHex(t, "0010000000000302ffee"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := msg.(*Init).RemoteAddr.(*OpaqueAddrs); !ok {
		t.Fatalf("remote addr %T", msg.(*Init).RemoteAddr)
	}
}

func TestInitAllFeatures(t *testing.T) {
	m := &Init{
		GlobalFeatures: NewRawFeatureVector(DataLossProtectOptional),
		Features:       NewRawFeatureVector(GossipQueriesOptional),
	}
	all := m.AllFeatures()
	if !all.HasFeature(DataLossProtectRequired) ||
		!all.HasFeature(GossipQueriesRequired) {
		t.Fatalf("merged features %v", all.Bits())
	}
}

func TestErrorWarningPingPong(t *testing.T) {
	cid := ChannelID{1, 2, 3}
	msgs := []Message{
		&Error{ChanID: cid, Data: []byte("funding failed")},
		&Error{},
		&Warning{ChanID: cid, Data: []byte("slow down")},
		&Warning{Data: []byte{0xff, 0x00}},
		&Ping{NumPongBytes: 10, Padding: make([]byte, 100)},
		NewPing(MaxPongBytes+1, 0),
		NewPong(10),
		&Pong{ExtraTLV: tlv.Stream{{Type: 33, Value: []byte("x")}}},
		&PeerStorage{Blob: make([]byte, MaxPeerStorageBlob)},
		&PeerStorageRetrieval{Blob: []byte{1, 2, 3}},
		&PeerStorageRetrieval{},
	}
	for _, m := range msgs {
		roundTrip(t, m)
	}
	if s := (&Error{Data: []byte{0x07, 'a'}}).Error(); !strings.Contains(s, "0x0761") {
		t.Fatalf("non-printable data printed verbatim: %q", s)
	}
	if s := (&Warning{Data: []byte("ok then")}).Warning(); !strings.Contains(s, "ok then") {
		t.Fatalf("warning text: %q", s)
	}
	if !NewPing(MaxPongBytes, 0).WantsPong() || NewPing(65532, 0).WantsPong() {
		t.Fatal("WantsPong boundary wrong")
	}
	// Exact wire form of a ping: type 18, num_pong_bytes 4, 2 bytes.
	b, _ := Serialize(&Ping{NumPongBytes: 4, Padding: []byte{0, 0}})
	if want := mustHex(t, "0012000400020000"); !bytes.Equal(b, want) {
		t.Fatalf("ping bytes %x", b)
	}
	// A pong with the largest padding fits exactly in 65535 bytes.
	if _, err := Serialize(NewPong(MaxPongBytes)); err != nil {
		t.Fatalf("max pong: %v", err)
	}
	if _, err := Serialize(&Pong{Padding: make([]byte, MaxPongBytes+1)}); !errors.Is(err, ErrMsgTooLarge) {
		t.Fatalf("oversized pong: %v", err)
	}
}

func TestReadMessageUnknown(t *testing.T) {
	// Unknown odd: handed back, not an error.
	msg, err := ReadMessage(bytes.NewReader(mustHex(t, "8001beef")))
	if err != nil {
		t.Fatal(err)
	}
	u, ok := msg.(*UnknownMessage)
	if !ok || u.Type != 32769 || !bytes.Equal(u.Payload, []byte{0xbe, 0xef}) {
		t.Fatalf("got %#v", msg)
	}
	b, _ := Serialize(u)
	if !bytes.Equal(b, mustHex(t, "8001beef")) {
		t.Fatalf("unknown message re-encoded as %x", b)
	}
	// Unknown even: an error naming the type.
	_, err = ReadMessage(bytes.NewReader(mustHex(t, "8000beef")))
	if !errors.Is(err, ErrUnknownRequiredMessage) || !strings.Contains(err.Error(), "32768") {
		t.Fatalf("want ErrUnknownRequiredMessage naming 32768, got %v", err)
	}
	for _, in := range []string{"", "00"} {
		if _, err := ReadMessage(bytes.NewReader(mustHex(t, in))); !errors.Is(err, ErrMsgTooShort) {
			t.Fatalf("%q: %v", in, err)
		}
	}
	big := make([]byte, MaxMsgBody+1)
	big[1] = 19
	if _, err := ReadMessage(bytes.NewReader(big)); !errors.Is(err, ErrMsgTooLarge) {
		t.Fatalf("oversized: %v", err)
	}
	// A known message with insufficient length fails.
	if _, err := ReadMessage(bytes.NewReader(mustHex(t, "0011aa"))); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("short error message: %v", err)
	}
	if MsgUpdateAddHTLC.String() != "update_add_htlc" || MessageType(40001).String() != "custom(40001)" {
		t.Fatal("MessageType.String")
	}
}

// TestReadMessageReaders covers readers that do and do not report their
// length.
func TestReadMessageReaders(t *testing.T) {
	ping, _ := Serialize(&Ping{NumPongBytes: 3, Padding: make([]byte, 500)})
	readers := map[string]io.Reader{
		"bytes.Reader": bytes.NewReader(ping),
		"bytes.Buffer": bytes.NewBuffer(ping),
		"one byte":     iotest.OneByteReader(bytes.NewReader(ping)),
		"multi":        io.MultiReader(bytes.NewReader(ping[:10]), bytes.NewReader(ping[10:])),
		"data+EOF":     iotest.DataErrReader(bytes.NewReader(ping)),
	}
	for name, r := range readers {
		msg, err := ReadMessage(r)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if p := msg.(*Ping); p.NumPongBytes != 3 || len(p.Padding) != 500 {
			t.Fatalf("%s: %+v", name, p)
		}
	}
	big := make([]byte, MaxMsgBody+1)
	big[1] = 19
	if _, err := ReadMessage(iotest.OneByteReader(bytes.NewReader(big))); !errors.Is(err, ErrMsgTooLarge) {
		t.Fatalf("oversized stream: %v", err)
	}
	// A failing reader's error is returned.
	if _, err := ReadMessage(iotest.ErrReader(io.ErrClosedPipe)); !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("reader error: %v", err)
	}
	// Decode through io.Reader rejects oversized payloads too.
	if err := (&Pong{}).Decode(bytes.NewReader(big)); !errors.Is(err, ErrMsgTooLarge) {
		t.Fatalf("oversized Decode: %v", err)
	}
}
