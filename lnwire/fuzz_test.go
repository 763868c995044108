package lnwire

import (
	"bytes"
	"encoding/binary"
	"net"
	"testing"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/lnwire/tlv"
)

// sampleMessages returns one or more well-formed messages of every known
// type, used as fuzz seeds and benchmark inputs.
func sampleMessages(t testing.TB) []Message {
	regtest := *chaincfg.RegressionNetParams.GenesisHash
	extra := tlv.Stream{{Type: 9, Value: []byte{1, 2, 3}}}
	alias := ShortChannelID{BlockHeight: 1, TxIndex: 2, TxPosition: 3}
	txid := chainhash.Hash(fill32(3))
	open := testOpenChannel()
	open.UpfrontShutdownScript = []byte{0, 20, 1, 2}
	open.ChannelType = NewRawFeatureVector(StaticRemoteKeyRequired)
	acc := testAcceptChannel()
	acc.ChannelType = NewRawFeatureVector(StaticRemoteKeyRequired)
	add := &UpdateAddHTLC{ChanID: ChannelID(fill32(1)), ID: 1, Amount: 1000,
		PaymentHash: fill32(2), Expiry: 500, BlindingPoint: testKey(3),
		ExtraTLV: extra}
	opts := QueryOptionTimestamps
	var k [33]byte
	copy(k[:], testKey(4).SerializeCompressed())
	na := testNodeAnnouncement(t)
	na.Addresses = append(na.Addresses, &OpaqueAddrs{Payload: []byte{9, 9}})
	return []Message{
		&Init{Features: NewRawFeatureVector(DataLossProtectOptional),
			Networks:   []chainhash.Hash{regtest},
			RemoteAddr: &net.TCPAddr{IP: net.IPv4(1, 2, 3, 4).To4(), Port: 9735},
			ExtraTLV:   extra},
		&Error{ChanID: ChannelID(fill32(1)), Data: []byte("boom")},
		&Warning{Data: []byte("hm")},
		&Ping{NumPongBytes: 8, Padding: make([]byte, 4)},
		&Pong{Padding: make([]byte, 8)},
		&PeerStorage{Blob: []byte("encrypted")},
		&PeerStorageRetrieval{Blob: []byte("encrypted")},
		open, acc,
		&FundingCreated{FundingPoint: wire.OutPoint{Hash: txid, Index: 1}, CommitSig: testSig(t, 1)},
		&FundingSigned{ChanID: ChannelID(fill32(5)), CommitSig: testSig(t, 2)},
		&ChannelReady{ChanID: ChannelID(fill32(5)), NextPerCommitmentPoint: testKey(5), AliasScid: &alias},
		&Shutdown{ChanID: ChannelID(fill32(6)), Address: []byte{0, 20, 9}},
		&ClosingSigned{FeeSatoshis: 500, Signature: testSig(t, 3), FeeRange: &FeeRange{1, 2}},
		add,
		&UpdateFulfillHTLC{ID: 3, PaymentPreimage: fill32(4), AttributionData: &AttributionData{}},
		&UpdateFailHTLC{ID: 4, Reason: []byte{1, 2, 3}},
		&UpdateFailMalformedHTLC{ID: 5, FailureCode: FailCodeBadOnion | 5},
		&CommitSig{CommitSig: testSig(t, 4), HtlcSigs: []Sig{testSig(t, 5)}, FundingTxid: &txid},
		&RevokeAndAck{Revocation: fill32(6), NextRevocationKey: testKey(6)},
		&UpdateFee{FeePerKw: 253},
		&ChannelReestablish{NextCommitmentNumber: 2, NextRevocationNumber: 1,
			MyCurrentPerCommitmentPoint: testKey(7),
			NextFunding:                 &FundingTxidFlags{Txid: txid, RetransmitFlags: 1}},
		&ChannelReestablish{NextCommitmentNumber: 2},
		&Stfu{Initiator: true},
		&AnnounceSignatures{ShortChannelID: alias, NodeSignature: testSig(t, 6)},
		&ChannelAnnouncement{Features: NewRawFeatureVector(), ChainHash: regtest,
			ShortChannelID: alias, NodeID1: k, NodeID2: k, BitcoinKey1: k, BitcoinKey2: k},
		na,
		testChannelUpdate(t),
		&QueryShortChanIDs{ChainHash: regtest, ShortChanIDs: []ShortChannelID{alias},
			QueryFlags: []uint64{0x1f}},
		&ReplyShortChanIDsEnd{ChainHash: regtest, Complete: 1},
		&QueryChannelRange{ChainHash: regtest, NumBlocks: 100, QueryOptions: &opts},
		&ReplyChannelRange{ChainHash: regtest, NumBlocks: 100, SyncComplete: 1,
			ShortChanIDs: []ShortChannelID{alias},
			Timestamps:   []ChanUpdateTimestamps{{1, 2}},
			Checksums:    []ChanUpdateChecksums{{3, 4}}},
		&GossipTimestampRange{ChainHash: regtest, TimestampRange: 100},
		&UnknownMessage{Type: 32769, Payload: []byte{1}},
	}
}

// checkMessageBytes is the property every fuzz target checks: decoding
// never panics, and what decodes re-encodes to exactly the input, and
// decodes again to the same bytes.
func checkMessageBytes(t *testing.T, data []byte) {
	msg, err := ParseMessage(data)
	if err != nil {
		return
	}
	out, err := Serialize(msg)
	if err != nil {
		t.Fatalf("decoded %v does not encode: %v", msg.MsgType(), err)
	}
	if !bytes.Equal(out, data) {
		t.Fatalf("%v re-encodes differently:\n in %x\nout %x",
			msg.MsgType(), data, out)
	}
	msg2, err := ParseMessage(out)
	if err != nil {
		t.Fatalf("re-encoded %v does not decode: %v", msg.MsgType(), err)
	}
	out2, err := Serialize(msg2)
	if err != nil || !bytes.Equal(out2, out) {
		t.Fatalf("%v unstable: %v", msg.MsgType(), err)
	}
}

// FuzzReadMessage covers every decoder through ReadMessage.
func FuzzReadMessage(f *testing.F) {
	for _, m := range sampleMessages(f) {
		b, err := Serialize(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkMessageBytes(t, data)
		// The io.Reader path agrees with the slice path.
		m1, err1 := ReadMessage(bytes.NewReader(data))
		m2, err2 := ParseMessage(data)
		if (err1 == nil) != (err2 == nil) || (m1 != nil && m1.MsgType() != m2.MsgType()) {
			t.Fatalf("ReadMessage and ParseMessage disagree: %v / %v", err1, err2)
		}
	})
}

// fuzzType fuzzes the payload of one message type: the type is fixed so
// every input reaches that decoder.
func fuzzType(f *testing.F, typ MessageType) {
	for _, m := range sampleMessages(f) {
		if m.MsgType() != typ {
			continue
		}
		b, err := Serialize(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[2:])
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, payload []byte) {
		data := binary.BigEndian.AppendUint16(nil, uint16(typ))
		data = append(data, payload...)
		checkMessageBytes(t, data)
		// The public Decode on a fresh value agrees with ParseMessage.
		m, _ := NewMessage(typ)
		err := m.Decode(bytes.NewReader(payload))
		_, err2 := ParseMessage(data)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("Decode and ParseMessage disagree: %v / %v", err, err2)
		}
	})
}

func FuzzInit(f *testing.F)                    { fuzzType(f, MsgInit) }
func FuzzError(f *testing.F)                   { fuzzType(f, MsgError) }
func FuzzWarning(f *testing.F)                 { fuzzType(f, MsgWarning) }
func FuzzPing(f *testing.F)                    { fuzzType(f, MsgPing) }
func FuzzPong(f *testing.F)                    { fuzzType(f, MsgPong) }
func FuzzPeerStorage(f *testing.F)             { fuzzType(f, MsgPeerStorage) }
func FuzzPeerStorageRetrieval(f *testing.F)    { fuzzType(f, MsgPeerStorageRetrieval) }
func FuzzOpenChannel(f *testing.F)             { fuzzType(f, MsgOpenChannel) }
func FuzzAcceptChannel(f *testing.F)           { fuzzType(f, MsgAcceptChannel) }
func FuzzFundingCreated(f *testing.F)          { fuzzType(f, MsgFundingCreated) }
func FuzzFundingSigned(f *testing.F)           { fuzzType(f, MsgFundingSigned) }
func FuzzChannelReady(f *testing.F)            { fuzzType(f, MsgChannelReady) }
func FuzzShutdown(f *testing.F)                { fuzzType(f, MsgShutdown) }
func FuzzClosingSigned(f *testing.F)           { fuzzType(f, MsgClosingSigned) }
func FuzzUpdateAddHTLC(f *testing.F)           { fuzzType(f, MsgUpdateAddHTLC) }
func FuzzUpdateFulfillHTLC(f *testing.F)       { fuzzType(f, MsgUpdateFulfillHTLC) }
func FuzzUpdateFailHTLC(f *testing.F)          { fuzzType(f, MsgUpdateFailHTLC) }
func FuzzUpdateFailMalformedHTLC(f *testing.F) { fuzzType(f, MsgUpdateFailMalformedHTLC) }
func FuzzCommitSig(f *testing.F)               { fuzzType(f, MsgCommitSig) }
func FuzzRevokeAndAck(f *testing.F)            { fuzzType(f, MsgRevokeAndAck) }
func FuzzUpdateFee(f *testing.F)               { fuzzType(f, MsgUpdateFee) }
func FuzzChannelReestablish(f *testing.F)      { fuzzType(f, MsgChannelReestablish) }
func FuzzStfu(f *testing.F)                    { fuzzType(f, MsgStfu) }
func FuzzAnnounceSignatures(f *testing.F)      { fuzzType(f, MsgAnnounceSignatures) }
func FuzzChannelAnnouncement(f *testing.F)     { fuzzType(f, MsgChannelAnnouncement) }
func FuzzNodeAnnouncement(f *testing.F)        { fuzzType(f, MsgNodeAnnouncement) }
func FuzzChannelUpdate(f *testing.F)           { fuzzType(f, MsgChannelUpdate) }
func FuzzQueryShortChanIDs(f *testing.F)       { fuzzType(f, MsgQueryShortChanIDs) }
func FuzzReplyShortChanIDsEnd(f *testing.F)    { fuzzType(f, MsgReplyShortChanIDsEnd) }
func FuzzQueryChannelRange(f *testing.F)       { fuzzType(f, MsgQueryChannelRange) }
func FuzzReplyChannelRange(f *testing.F)       { fuzzType(f, MsgReplyChannelRange) }
func FuzzGossipTimestampRange(f *testing.F)    { fuzzType(f, MsgGossipTimestampRange) }

// FuzzFeatureVector checks the feature field codec and the validators.
func FuzzFeatureVector(f *testing.F) {
	f.Add([]byte{0x02, 0x01})
	f.Add([]byte{0, 0, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		fv, err := NewRawFeatureVectorFromBytes(b)
		if err != nil {
			return
		}
		if !bytes.Equal(fv.Bytes(), b) {
			t.Fatalf("feature bytes %x re-encode as %x", b, fv.Bytes())
		}
		rebuilt := NewRawFeatureVector(fv.Bits()...)
		if !rebuilt.Equals(fv) || len(rebuilt.Bytes()) > len(b) {
			t.Fatal("rebuilt vector differs or is not minimal")
		}
		_ = ValidateDeps(fv)
		for _, c := range []FeatureContext{ContextInit, ContextNodeAnn,
			ContextInvoice, ContextChannelType} {
			_ = ValidateContext(c, fv)
		}
		_ = ValidateChannelType(fv)
		_ = NewFeatureVector(fv).UnknownRequiredFeatures()
	})
}

// FuzzShortChannelIDString checks ParseShortChannelID against String.
func FuzzShortChannelIDString(f *testing.F) {
	f.Add("539268x845x1")
	f.Add("0x0x0")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseShortChannelID(s)
		if err != nil {
			return
		}
		back, err := ParseShortChannelID(id.String())
		if err != nil || back != id || NewShortChanIDFromInt(id.ToUint64()) != id {
			t.Fatalf("%q -> %v -> %v (%v)", s, id, back, err)
		}
	})
}

// FuzzSig checks the signature conversions never panic and agree.
func FuzzSig(f *testing.F) {
	f.Add(make([]byte, 64))
	s := testSig(f, 1)
	f.Add(s[:])
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) != 64 {
			if _, err := NewSigFromDER(b); err == nil {
				if _, err := NewSigFromDER(b); err != nil {
					t.Fatal("unstable")
				}
			}
			return
		}
		sig := Sig(b)
		es, err := sig.ToSignature()
		if err != nil {
			return
		}
		back, err := NewSigFromSignature(es)
		if err != nil || back != sig {
			t.Fatalf("round trip %x -> %x (%v)", sig, back, err)
		}
	})
}
