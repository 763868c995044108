package lnwire

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/lnwire/tlv"
)

type eqIDs struct {
	Array    []string `json:"array"`
	Encoding string   `json:"encoding"`
}

type eqVector struct {
	Hex string `json:"hex"`
	Msg struct {
		Type            string `json:"type"`
		ChainHash       string `json:"chainHash"`
		FirstBlockNum   uint32 `json:"firstBlockNum"`
		NumberOfBlocks  uint32 `json:"numberOfBlocks"`
		Complete        uint8  `json:"complete"`
		ShortChannelIDs *eqIDs `json:"shortChannelIds"`
		TLVStream       *struct {
			Records []json.RawMessage `json:"records"`
			Unknown []json.RawMessage `json:"unknown"`
		} `json:"tlvStream"`
		Timestamps *struct {
			Encoding   string `json:"encoding"`
			Timestamps []struct {
				T1 uint32 `json:"timestamp1"`
				T2 uint32 `json:"timestamp2"`
			} `json:"timestamps"`
		} `json:"timestamps"`
		Checksums *struct {
			Checksums []struct {
				C1 uint32 `json:"checksum1"`
				C2 uint32 `json:"checksum2"`
			} `json:"checksums"`
		} `json:"checksums"`
	} `json:"msg"`
}

func parseSCIDs(t *testing.T, ids []string) []ShortChannelID {
	t.Helper()
	var out []ShortChannelID
	for _, s := range ids {
		id, err := ParseShortChannelID(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	return out
}

// TestExtendedQueriesVectors runs bolt07/extended-queries.json.
func TestExtendedQueriesVectors(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "bolt07", "extended-queries.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vecs []eqVector
	if err := json.Unmarshal(raw, &vecs); err != nil {
		t.Fatal(err)
	}
	if len(vecs) != 10 {
		t.Fatalf("want 10 vectors, have %d", len(vecs))
	}
	var passed, rejected int
	for i, v := range vecs {
		in := mustHex(t, v.Hex)
		usesZlib := strings.Contains(string(mustJSON(t, v.Msg)), "COMPRESSED_ZLIB")
		msg, err := ParseMessage(in)
		if usesZlib {
			if !errors.Is(err, ErrUnknownEncoding) {
				t.Errorf("vector %d (zlib): want ErrUnknownEncoding, got %v", i, err)
			}
			rejected++
			continue
		}
		if err != nil {
			t.Fatalf("vector %d: %v", i, err)
		}
		out, err := Serialize(msg)
		if err != nil || !bytes.Equal(out, in) {
			t.Fatalf("vector %d: re-encoded %x (%v)", i, out, err)
		}
		wantChain := mustHex(t, v.Msg.ChainHash)
		switch m := msg.(type) {
		case *QueryChannelRange:
			if v.Msg.Type != "QueryChannelRange" || !bytes.Equal(m.ChainHash[:], wantChain) ||
				m.FirstBlockHeight != v.Msg.FirstBlockNum || m.NumBlocks != v.Msg.NumberOfBlocks {
				t.Fatalf("vector %d: %+v", i, m)
			}
			var want *uint64
			if recs := v.Msg.TLVStream.Records; len(recs) > 0 {
				var s string
				if err := json.Unmarshal(recs[0], &s); err != nil {
					t.Fatal(err)
				}
				var f uint64
				for _, name := range strings.Split(s, " | ") {
					switch name {
					case "WANT_TIMESTAMPS":
						f |= QueryOptionTimestamps
					case "WANT_CHECKSUMS":
						f |= QueryOptionChecksums
					default:
						t.Fatalf("flag %q", name)
					}
				}
				want = &f
			}
			if (want == nil) != (m.QueryOptions == nil) || (want != nil && *want != *m.QueryOptions) {
				t.Fatalf("vector %d: query options %v", i, m.QueryOptions)
			}
		case *ReplyChannelRange:
			if v.Msg.Type != "ReplyChannelRange" || !bytes.Equal(m.ChainHash[:], wantChain) ||
				m.FirstBlockHeight != v.Msg.FirstBlockNum || m.NumBlocks != v.Msg.NumberOfBlocks ||
				m.SyncComplete != v.Msg.Complete {
				t.Fatalf("vector %d: %+v", i, m)
			}
			assertSCIDs(t, m.ShortChanIDs, parseSCIDs(t, v.Msg.ShortChannelIDs.Array))
			if v.Msg.Timestamps != nil {
				if len(m.Timestamps) != len(v.Msg.Timestamps.Timestamps) {
					t.Fatalf("vector %d: timestamps %v", i, m.Timestamps)
				}
				for j, ts := range v.Msg.Timestamps.Timestamps {
					if m.Timestamps[j] != (ChanUpdateTimestamps{ts.T1, ts.T2}) {
						t.Fatalf("vector %d: timestamp %d", i, j)
					}
				}
			} else if m.Timestamps != nil {
				t.Fatalf("vector %d: unexpected timestamps", i)
			}
			if v.Msg.Checksums != nil {
				if len(m.Checksums) != len(v.Msg.Checksums.Checksums) {
					t.Fatalf("vector %d: checksums %v", i, m.Checksums)
				}
				for j, c := range v.Msg.Checksums.Checksums {
					if m.Checksums[j] != (ChanUpdateChecksums{c.C1, c.C2}) {
						t.Fatalf("vector %d: checksum %d", i, j)
					}
				}
			} else if m.Checksums != nil {
				t.Fatalf("vector %d: unexpected checksums", i)
			}
		case *QueryShortChanIDs:
			if v.Msg.Type != "QueryShortChannelIds" || !bytes.Equal(m.ChainHash[:], wantChain) {
				t.Fatalf("vector %d: %+v", i, m)
			}
			assertSCIDs(t, m.ShortChanIDs, parseSCIDs(t, v.Msg.ShortChannelIDs.Array))
			if len(v.Msg.TLVStream.Records) == 0 && m.QueryFlags != nil {
				t.Fatalf("vector %d: unexpected flags", i)
			}
		default:
			t.Fatalf("vector %d: unexpected %T", i, msg)
		}
		passed++
	}
	if passed != 5 || rejected != 5 {
		t.Fatalf("passed %d, rejected %d", passed, rejected)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func assertSCIDs(t *testing.T, got, want []ShortChannelID) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("scids %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("scids %v, want %v", got, want)
		}
	}
}

func testNodeAnnouncement(t testing.TB) *NodeAnnouncement {
	alias, err := NewNodeAlias("xlnd-test ⚡")
	if err != nil {
		t.Fatal(err)
	}
	var nodeID [33]byte
	copy(nodeID[:], testKey(1).SerializeCompressed())
	onion := make([]byte, TorV3AddrLen)
	for i := range onion {
		onion[i] = byte(i * 7)
	}
	onionName := strings.ToLower(onionEncoding.EncodeToString(onion)) + ".onion"
	return &NodeAnnouncement{
		Signature: testSig(t, 9),
		Features:  NewRawFeatureVector(DataLossProtectOptional, GossipQueriesOptional),
		Timestamp: 1_700_000_000,
		NodeID:    nodeID,
		RGBColor:  RGB{0x68, 0xf4, 0x42},
		Alias:     alias,
		Addresses: []net.Addr{
			&net.TCPAddr{IP: net.IPv4(203, 0, 113, 7).To4(), Port: 9735},
			&net.TCPAddr{IP: net.ParseIP("2001:db8::7"), Port: 9735},
			&OnionAddr{OnionService: onionName, Port: 9735},
			&DNSAddr{Hostname: "node.example.org", Port: 9735},
		},
	}
}

func TestNodeAnnouncementAddresses(t *testing.T) {
	na := testNodeAnnouncement(t)
	b := roundTrip(t, na)
	got, _ := ParseMessage(b)
	g := got.(*NodeAnnouncement)
	if len(g.Addresses) != 4 {
		t.Fatalf("addresses %v", g.Addresses)
	}
	for i, a := range na.Addresses {
		if g.Addresses[i].String() != a.String() {
			t.Errorf("address %d: %v, want %v", i, g.Addresses[i], a)
		}
	}
	if g.Alias.String() != "xlnd-test ⚡" {
		t.Fatalf("alias %q", g.Alias)
	}
	if _, err := NewNodeAlias(strings.Repeat("a", 33)); !errors.Is(err, ErrBadAlias) {
		t.Fatal("long alias accepted")
	}
	if _, err := NewNodeAlias("\xff"); !errors.Is(err, ErrBadAlias) {
		t.Fatal("invalid UTF-8 alias accepted")
	}

	// Exact descriptor bytes per BOLT 7.
	var w bytes.Buffer
	if err := encodeAddresses(&w, na.Addresses[:1]); err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(w.Bytes()) != "000701cb0071072607" {
		t.Fatalf("ipv4 descriptor %x", w.Bytes())
	}
	w.Reset()
	if err := encodeAddresses(&w, []net.Addr{&DNSAddr{Hostname: "a.b", Port: 1}}); err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(w.Bytes()) != "00070503612e620001" {
		t.Fatalf("dns descriptor %x", w.Bytes())
	}

	// Address fields with unknown and odd descriptors decode, and the
	// whole message re-encodes byte for byte.
	ipv4 := "01cb00710726070"[:14]
	torV2 := "03" + strings.Repeat("ab", 10) + "2607"
	mapped := "02" + "00000000000000000000ffff01020304" + "2607"
	nonASCII := "0502ffee" + "2607"
	unknown := "09" + "deadbeef"
	tests := []struct {
		name   string
		field  string
		types  []string
		strict bool
	}{
		{"unknown type stops parsing", ipv4 + unknown + ipv4, []string{"*net.TCPAddr", "*lnwire.OpaqueAddrs"}, false},
		{"type 0 is unknown", "00" + ipv4, []string{"*lnwire.OpaqueAddrs"}, false},
		{"tor v2 kept, parsing goes on", torV2 + ipv4, []string{"*lnwire.OpaqueAddrs", "*net.TCPAddr"}, false},
		{"ipv4-mapped ipv6 kept opaque", mapped + ipv4, []string{"*lnwire.OpaqueAddrs", "*net.TCPAddr"}, false},
		{"non-ascii hostname kept opaque", nonASCII + ipv4, []string{"*lnwire.OpaqueAddrs", "*net.TCPAddr"}, false},
		{"two dns names both kept", "0501612607" + "0501622607", []string{"*lnwire.DNSAddr", "*lnwire.DNSAddr"}, false},
		{"port zero kept", "01cb0071070000", []string{"*net.TCPAddr"}, false},
	}
	base := testNodeAnnouncement(t)
	base.Addresses = nil
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := withAddressField(t, base, mustHex(t, tc.field))
			got, err := ParseMessage(msg)
			if err != nil {
				t.Fatal(err)
			}
			addrs := got.(*NodeAnnouncement).Addresses
			if len(addrs) != len(tc.types) {
				t.Fatalf("addresses %v", addrs)
			}
			for i, a := range addrs {
				if typeName(a) != tc.types[i] {
					t.Fatalf("address %d is %T", i, a)
				}
			}
			out, err := Serialize(got)
			if err != nil || !bytes.Equal(out, msg) {
				t.Fatalf("re-encode differs (%v)", err)
			}
		})
	}

	// A known descriptor cut short fails.
	for _, field := range []string{"01cb00", "02" + strings.Repeat("00", 10), "04" + strings.Repeat("00", 36), "0505616263", "05"} {
		if _, err := ParseMessage(withAddressField(t, base, mustHex(t, field))); !errors.Is(err, ErrBadAddress) {
			t.Errorf("field %s: %v", field, err)
		}
	}
}

func typeName(a net.Addr) string {
	switch a.(type) {
	case *net.TCPAddr:
		return "*net.TCPAddr"
	case *OpaqueAddrs:
		return "*lnwire.OpaqueAddrs"
	case *DNSAddr:
		return "*lnwire.DNSAddr"
	case *OnionAddr:
		return "*lnwire.OnionAddr"
	}
	return "?"
}

// withAddressField serialises na with a raw address field.
func withAddressField(t *testing.T, na *NodeAnnouncement, field []byte) []byte {
	t.Helper()
	cp := *na
	cp.Addresses = []net.Addr{&OpaqueAddrs{Payload: field}}
	b, err := Serialize(&cp)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testChannelUpdate(t testing.TB) *ChannelUpdate {
	return &ChannelUpdate{
		Signature:       testSig(t, 5),
		ChainHash:       *chaincfg.MainNetParams.GenesisHash,
		ShortChannelID:  ShortChannelID{BlockHeight: 800_000, TxIndex: 1234, TxPosition: 1},
		Timestamp:       1_700_000_001,
		MessageFlags:    MsgFlagMustBeOne,
		ChannelFlags:    ChanFlagDirection,
		TimeLockDelta:   80,
		HtlcMinimumMsat: 1000,
		BaseFee:         1000,
		FeeRate:         100,
		HtlcMaximumMsat: 990_000_000,
	}
}

func TestBOLT7RoundTrips(t *testing.T) {
	var k [33]byte
	copy(k[:], testKey(3).SerializeCompressed())
	extra := tlv.Stream{{Type: 101, Value: []byte("future field")}}
	cu := testChannelUpdate(t)
	cuExtra := testChannelUpdate(t)
	cuExtra.ExtraTLV = extra
	cuExtra.MessageFlags |= MsgFlagDontForward
	cuLegacy := testChannelUpdate(t)
	cuLegacy.MessageFlags = 0
	cuLegacy.HtlcMaximumMsat = 0
	na := testNodeAnnouncement(t)
	na.ExtraTLV = extra
	paddedFeatures, _ := NewRawFeatureVectorFromBytes([]byte{0, 0, 0x02})
	naPadded := testNodeAnnouncement(t)
	naPadded.Features = paddedFeatures
	regtest := *chaincfg.RegressionNetParams.GenesisHash
	opts := QueryOptionTimestamps | QueryOptionChecksums
	ids := []ShortChannelID{{1, 2, 3}, {100, 0, 1}, {700_000, 2000, 0}}

	msgs := []Message{
		&AnnounceSignatures{ChannelID: ChannelID(fill32(1)),
			ShortChannelID: ids[2], NodeSignature: testSig(t, 1),
			BitcoinSignature: testSig(t, 2)},
		&ChannelAnnouncement{NodeSig1: testSig(t, 1), NodeSig2: testSig(t, 2),
			BitcoinSig1: testSig(t, 3), BitcoinSig2: testSig(t, 4),
			Features: NewRawFeatureVector(), ChainHash: regtest,
			ShortChannelID: ids[0], NodeID1: k, NodeID2: k, BitcoinKey1: k,
			BitcoinKey2: k, ExtraTLV: extra},
		na, naPadded, cu, cuExtra, cuLegacy,
		&QueryShortChanIDs{ChainHash: regtest, ShortChanIDs: ids},
		&QueryShortChanIDs{ChainHash: regtest, ShortChanIDs: ids,
			QueryFlags: []uint64{1, 0x1f, 300}},
		&QueryShortChanIDs{ChainHash: regtest},
		&ReplyShortChanIDsEnd{ChainHash: regtest, Complete: 1},
		&QueryChannelRange{ChainHash: regtest, FirstBlockHeight: 0, NumBlocks: 0xffffffff},
		&QueryChannelRange{ChainHash: regtest, FirstBlockHeight: 10, NumBlocks: 20,
			QueryOptions: &opts},
		&ReplyChannelRange{ChainHash: regtest, FirstBlockHeight: 1, NumBlocks: 2,
			SyncComplete: 1, ShortChanIDs: ids,
			Timestamps: []ChanUpdateTimestamps{{1, 2}, {3, 4}, {5, 6}},
			Checksums:  []ChanUpdateChecksums{{7, 8}, {9, 10}, {11, 12}}},
		&ReplyChannelRange{ChainHash: regtest, SyncComplete: 1,
			Timestamps: []ChanUpdateTimestamps{}, Checksums: []ChanUpdateChecksums{}},
		&GossipTimestampRange{ChainHash: regtest, FirstTimestamp: 1_700_000_000,
			TimestampRange: 0xffffffff},
	}
	for _, m := range msgs {
		t.Run(m.MsgType().String(), func(t *testing.T) {
			b := roundTrip(t, m)
			got, _ := ParseMessage(b)
			assertEqualMsg(t, m, got)
		})
	}
	b := roundTrip(t, naPadded)
	if !bytes.Contains(b, []byte{0x00, 0x03, 0x00, 0x00, 0x02}) {
		t.Fatal("padded feature field not kept")
	}
}

func TestGossipSignedData(t *testing.T) {
	cu := testChannelUpdate(t)
	full, _ := Serialize(cu)
	data, err := cu.DataToSign()
	if err != nil || !bytes.Equal(data, full[2+64:]) {
		t.Fatal("channel_update DataToSign is not everything after the signature")
	}
	na := testNodeAnnouncement(t)
	full, _ = Serialize(na)
	data, _ = na.DataToSign()
	if !bytes.Equal(data, full[2+64:]) {
		t.Fatal("node_announcement DataToSign")
	}
	ca := &ChannelAnnouncement{Features: NewRawFeatureVector(), ExtraTLV: tlv.Stream{{Type: 3}}}
	full, _ = Serialize(ca)
	data, _ = ca.DataToSign()
	if !bytes.Equal(data, full[2+256:]) {
		t.Fatal("channel_announcement DataToSign")
	}

	// The checksum ignores signature and timestamp, not the rest.
	c1, _ := cu.Checksum()
	cu2 := testChannelUpdate(t)
	cu2.Signature = testSig(t, 77)
	cu2.Timestamp++
	c2, _ := cu2.Checksum()
	cu2.FeeRate++
	c3, _ := cu2.Checksum()
	if c1 != c2 || c1 == c3 || c1 == 0 {
		t.Fatalf("checksums %x %x %x", c1, c2, c3)
	}
	if cu.Direction() != 1 || cu.IsDisabled() {
		t.Fatal("channel flags")
	}
}

func TestBOLT7DecodeErrors(t *testing.T) {
	chain := hex.EncodeToString(make([]byte, chainhash.HashSize))
	ids := "00" + "0000010000020003"
	tests := []struct {
		name string
		hex  string
		want error
	}{
		{"qscid zlib", "0105" + chain + "0003" + "01aabb", ErrUnknownEncoding},
		{"qscid encoding 2", "0105" + chain + "0001" + "02", ErrUnknownEncoding},
		{"qscid no encoding byte", "0105" + chain + "0000", ErrBadEncodedArray},
		{"qscid partial id", "0105" + chain + "0005" + "0000000001", ErrBadEncodedArray},
		{"qscid flags zlib", "0105" + chain + "0009" + ids + "010201" + "00", ErrUnknownEncoding},
		{"qscid flags non-minimal", "0105" + chain + "0009" + ids + "0104" + "00fd0001", tlv.ErrNonCanonical},
		{"qscid flags truncated", "0105" + chain + "0009" + ids + "0102" + "00fd", io.ErrUnexpectedEOF},
		{"qcr option non-minimal", "0107" + chain + "00000001" + "00000002" + "0103fd0001", tlv.ErrNonCanonical},
		{"qcr option trailing", "0107" + chain + "00000001" + "00000002" + "01020101", ErrTLVLength},
		{"qcr option empty", "0107" + chain + "00000001" + "00000002" + "0100", ErrTLVLength},
		{"rcr timestamps zlib", "0108" + chain + "00000001" + "00000002" + "01" + "0009" + ids + "010901" + "0000000000000000", ErrUnknownEncoding},
		{"rcr timestamps partial", "0108" + chain + "00000001" + "00000002" + "01" + "0009" + ids + "010500" + "00000000", ErrBadEncodedArray},
		{"rcr checksums partial", "0108" + chain + "00000001" + "00000002" + "01" + "0009" + ids + "0304" + "00000000", ErrBadEncodedArray},
		{"rcr unknown even", "0108" + chain + "00000001" + "00000002" + "01" + "0009" + ids + "0200", tlv.ErrUnknownEvenType},
		{"channel_update truncated", "0102" + strings.Repeat("00", 64) + chain, io.ErrUnexpectedEOF},
		{"gossip filter truncated", "0109" + chain + "000000", io.ErrUnexpectedEOF},
	}
	for _, tc := range tests {
		_, err := ParseMessage(mustHex(t, tc.hex))
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: want %v, got %v", tc.name, tc.want, err)
		}
	}
	// A channel_update whose must_be_one bit is set but that lacks
	// htlc_maximum_msat is short.
	cu, _ := Serialize(testChannelUpdate(t))
	if _, err := ParseMessage(cu[:len(cu)-8]); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("channel_update without htlc_maximum_msat: %v", err)
	}
	// Unencodable addresses.
	na := testNodeAnnouncement(t)
	for _, a := range []net.Addr{
		&OnionAddr{OnionService: "short.onion", Port: 1},
		&DNSAddr{Hostname: "", Port: 1},
		&DNSAddr{Hostname: "a b", Port: 1},
		&net.TCPAddr{IP: net.IPv4(1, 2, 3, 4), Port: 70000},
		&net.UnixAddr{Name: "/tmp/x"},
	} {
		na.Addresses = []net.Addr{a}
		if _, err := Serialize(na); !errors.Is(err, ErrBadAddress) {
			t.Errorf("%v encoded: %v", a, err)
		}
	}
}

func TestQueryRangeHelpers(t *testing.T) {
	q := &QueryChannelRange{FirstBlockHeight: 0xfffffff0, NumBlocks: 0x100}
	if q.LastBlockHeight() != 0xffffffff {
		t.Fatalf("last block %d", q.LastBlockHeight())
	}
	q = &QueryChannelRange{FirstBlockHeight: 100, NumBlocks: 10}
	if q.LastBlockHeight() != 109 || q.WantsTimestamps() || q.WantsChecksums() {
		t.Fatal("range helpers")
	}
	opt := QueryOptionChecksums
	q.QueryOptions = &opt
	if q.WantsTimestamps() || !q.WantsChecksums() {
		t.Fatal("query options")
	}
	r := &ReplyChannelRange{FirstBlockHeight: 5, NumBlocks: 1}
	if r.LastBlockHeight() != 5 {
		t.Fatal("reply last block")
	}
}
