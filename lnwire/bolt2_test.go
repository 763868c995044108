package lnwire

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/lnwire/tlv"
)

// testKey returns a deterministic public key.
func testKey(i byte) *btcec.PublicKey {
	seed := sha256.Sum256([]byte{i})
	_, pub := btcec.PrivKeyFromBytes(seed[:])
	return pub
}

// testSig returns a deterministic valid signature.
func testSig(t testing.TB, i byte) Sig {
	seed := sha256.Sum256([]byte{i, 1})
	priv, _ := btcec.PrivKeyFromBytes(seed[:])
	h := sha256.Sum256([]byte{i, 2})
	s, err := NewSigFromSignature(ecdsa.Sign(priv, h[:]))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func fill32(b byte) (out [32]byte) {
	for i := range out {
		out[i] = b + byte(i)
	}
	return out
}

func testOpenChannel() *OpenChannel {
	return &OpenChannel{
		ChainHash:            *chaincfg.RegressionNetParams.GenesisHash,
		PendingChannelID:     fill32(7),
		FundingAmount:        1_000_000,
		PushAmount:           5000,
		DustLimit:            354,
		MaxValueInFlight:     990_000_000,
		ChannelReserve:       10_000,
		HtlcMinimum:          1,
		FeePerKiloWeight:     253,
		CsvDelay:             144,
		MaxAcceptedHTLCs:     483,
		FundingKey:           testKey(1),
		RevocationPoint:      testKey(2),
		PaymentPoint:         testKey(3),
		DelayedPaymentPoint:  testKey(4),
		HtlcPoint:            testKey(5),
		FirstCommitmentPoint: testKey(6),
		ChannelFlags:         FFAnnounceChannel,
	}
}

func testAcceptChannel() *AcceptChannel {
	return &AcceptChannel{
		PendingChannelID:     fill32(7),
		DustLimit:            546,
		MaxValueInFlight:     1 << 40,
		ChannelReserve:       10_000,
		HtlcMinimum:          1000,
		MinAcceptDepth:       3,
		CsvDelay:             720,
		MaxAcceptedHTLCs:     30,
		FundingKey:           testKey(11),
		RevocationPoint:      testKey(12),
		PaymentPoint:         testKey(13),
		DelayedPaymentPoint:  testKey(14),
		HtlcPoint:            testKey(15),
		FirstCommitmentPoint: testKey(16),
	}
}

func TestBOLT2RoundTrips(t *testing.T) {
	anchors := NewRawFeatureVector(StaticRemoteKeyRequired, AnchorsZeroFeeHtlcTxRequired)
	p2wpkh := append([]byte{0x00, 0x14}, make([]byte, 20)...)
	alias := ShortChannelID{BlockHeight: 16_000_000, TxIndex: 1, TxPosition: 2}
	txid := chainhash.Hash(fill32(40))
	extra := tlv.Stream{{Type: 7, Value: []byte{1, 2}}, {Type: 65537, Value: []byte("custom")}}

	open1 := testOpenChannel()
	open2 := testOpenChannel()
	open2.UpfrontShutdownScript = p2wpkh
	open2.ChannelType = anchors
	open3 := testOpenChannel()
	open3.UpfrontShutdownScript = []byte{}
	open3.ChannelType = NewRawFeatureVector()
	open3.ExtraTLV = extra
	acc1 := testAcceptChannel()
	acc2 := testAcceptChannel()
	acc2.UpfrontShutdownScript = []byte{}
	acc2.ChannelType = anchors

	add := &UpdateAddHTLC{ChanID: ChannelID(fill32(1)), ID: 42,
		Amount: 123_456_789, PaymentHash: fill32(9), Expiry: 800_000}
	for i := range add.OnionBlob {
		add.OnionBlob[i] = byte(i)
	}
	addBlinded := *add
	addBlinded.BlindingPoint = testKey(20)
	addBlinded.ExtraTLV = extra

	attr := &AttributionData{}
	for i := range attr.HoldTimes {
		attr.HoldTimes[i] = uint32(i * 100)
	}
	for i := range attr.HMACs {
		attr.HMACs[i] = [4]byte{byte(i), 1, 2, 3}
	}

	htlcSigs := make([]Sig, 483)
	for i := range htlcSigs {
		htlcSigs[i] = testSig(t, byte(i))
	}

	msgs := []Message{
		open1, open2, open3, acc1, acc2,
		&FundingCreated{PendingChannelID: fill32(3),
			FundingPoint: wire.OutPoint{Hash: txid, Index: 65535},
			CommitSig:    testSig(t, 1)},
		&FundingSigned{ChanID: ChannelID(fill32(4)), CommitSig: testSig(t, 2)},
		&ChannelReady{ChanID: ChannelID(fill32(5)), NextPerCommitmentPoint: testKey(7)},
		&ChannelReady{ChanID: ChannelID(fill32(5)), NextPerCommitmentPoint: testKey(7),
			AliasScid: &alias, ExtraTLV: extra},
		&Shutdown{ChanID: ChannelID(fill32(6)), Address: p2wpkh},
		&Shutdown{},
		&ClosingSigned{ChanID: ChannelID(fill32(6)), FeeSatoshis: 1000,
			Signature: testSig(t, 3)},
		&ClosingSigned{ChanID: ChannelID(fill32(6)), FeeSatoshis: 1000,
			Signature: testSig(t, 3), FeeRange: &FeeRange{500, 2000}},
		add, &addBlinded,
		&UpdateFulfillHTLC{ChanID: ChannelID(fill32(8)), ID: 7, PaymentPreimage: fill32(2)},
		&UpdateFulfillHTLC{ChanID: ChannelID(fill32(8)), ID: 7,
			PaymentPreimage: fill32(2), AttributionData: attr, ExtraTLV: extra},
		&UpdateFailHTLC{ChanID: ChannelID(fill32(8)), ID: 8, Reason: make([]byte, 292)},
		&UpdateFailHTLC{ChanID: ChannelID(fill32(8)), ID: 8, Reason: []byte{1},
			AttributionData: attr},
		&UpdateFailMalformedHTLC{ChanID: ChannelID(fill32(8)), ID: 9,
			ShaOnionBlob: fill32(3), FailureCode: FailCodeBadOnion | 0x4000 | 5},
		&CommitSig{ChanID: ChannelID(fill32(9)), CommitSig: testSig(t, 4)},
		&CommitSig{ChanID: ChannelID(fill32(9)), CommitSig: testSig(t, 4),
			HtlcSigs: htlcSigs, FundingTxid: &txid, ExtraTLV: extra},
		&RevokeAndAck{ChanID: ChannelID(fill32(10)), Revocation: fill32(11),
			NextRevocationKey: testKey(8)},
		&UpdateFee{ChanID: ChannelID(fill32(10)), FeePerKw: 2500},
		&ChannelReestablish{ChanID: ChannelID(fill32(12)),
			NextCommitmentNumber: 5, NextRevocationNumber: 4},
		&ChannelReestablish{ChanID: ChannelID(fill32(12)),
			NextCommitmentNumber: 1, NextRevocationNumber: 0,
			MyCurrentPerCommitmentPoint: testKey(9)},
		&ChannelReestablish{ChanID: ChannelID(fill32(12)),
			NextCommitmentNumber: 100, NextRevocationNumber: 99,
			YourLastPerCommitmentSecret: fill32(13),
			MyCurrentPerCommitmentPoint: testKey(9),
			NextFunding:                 &FundingTxidFlags{Txid: txid, RetransmitFlags: 1},
			MyCurrentFundingLocked:      &FundingTxidFlags{Txid: txid},
			ExtraTLV:                    extra},
		&Stfu{ChanID: ChannelID(fill32(14)), Initiator: true},
		&Stfu{},
	}
	for _, m := range msgs {
		t.Run(m.MsgType().String(), func(t *testing.T) {
			b := roundTrip(t, m)
			got, _ := ParseMessage(b)
			assertEqualMsg(t, m, got)
		})
	}

	// Presence distinctions survive a round trip.
	got, _ := ParseMessage(roundTrip(t, open3))
	o := got.(*OpenChannel)
	if o.UpfrontShutdownScript == nil || len(o.UpfrontShutdownScript) != 0 ||
		o.ChannelType == nil || !o.ChannelType.IsEmpty() {
		t.Fatal("empty upfront script / channel type lost")
	}
	got, _ = ParseMessage(roundTrip(t, open1))
	if o := got.(*OpenChannel); o.UpfrontShutdownScript != nil || o.ChannelType != nil {
		t.Fatal("absent records appeared")
	}
	got, _ = ParseMessage(roundTrip(t, open2))
	if o := got.(*OpenChannel); !o.ChannelType.Equals(anchors) ||
		!bytes.Equal(o.UpfrontShutdownScript, p2wpkh) {
		t.Fatal("channel type / script")
	}
	got, _ = ParseMessage(roundTrip(t, &addBlinded))
	if a := got.(*UpdateAddHTLC); !a.BlindingPoint.IsEqual(testKey(20)) ||
		a.OnionBlob != add.OnionBlob {
		t.Fatal("blinding point / onion")
	}
}

// TestBOLT2WireLayout checks exact bytes of a few messages built by hand
// from the BOLT 2 field lists.
func TestBOLT2WireLayout(t *testing.T) {
	cid := strings.Repeat("11", 32)
	sig := testSig(t, 1)
	sigHex := bytesHex(sig[:])
	key := bytesHex(testKey(1).SerializeCompressed())
	alias := ShortChannelID{BlockHeight: 1, TxIndex: 2, TxPosition: 3}
	txid := chainhash.Hash(fill32(0))
	tests := []struct {
		msg  Message
		want string
	}{
		{&UpdateFee{ChanID: ChannelID(mustHex(t, cid)), FeePerKw: 253},
			"0086" + cid + "000000fd"},
		{&Stfu{ChanID: ChannelID(mustHex(t, cid)), Initiator: true},
			"0002" + cid + "01"},
		{&ChannelReady{ChanID: ChannelID(mustHex(t, cid)),
			NextPerCommitmentPoint: testKey(1), AliasScid: &alias},
			"0024" + cid + key + "0108" + "0000010000020003"},
		{&ClosingSigned{ChanID: ChannelID(mustHex(t, cid)), FeeSatoshis: 2,
			Signature: sig, FeeRange: &FeeRange{1, 3}},
			"0027" + cid + "0000000000000002" + sigHex + "0110" +
				"0000000000000001" + "0000000000000003"},
		{&CommitSig{ChanID: ChannelID(mustHex(t, cid)), CommitSig: sig,
			HtlcSigs: []Sig{sig}, FundingTxid: &txid},
			"0084" + cid + sigHex + "0001" + sigHex + "0120" + bytesHex(txid[:])},
		{&FundingCreated{PendingChannelID: [32]byte(mustHex(t, cid)),
			FundingPoint: wire.OutPoint{Hash: txid, Index: 258}, CommitSig: sig},
			"0022" + cid + bytesHex(txid[:]) + "0102" + sigHex},
		{&ChannelReestablish{ChanID: ChannelID(mustHex(t, cid)),
			NextCommitmentNumber: 1, NextRevocationNumber: 2,
			YourLastPerCommitmentSecret: [32]byte(mustHex(t, cid)),
			MyCurrentPerCommitmentPoint: testKey(1),
			MyCurrentFundingLocked:      &FundingTxidFlags{Txid: txid, RetransmitFlags: 1}},
			"0088" + cid + "0000000000000001" + "0000000000000002" + cid + key +
				"0521" + bytesHex(txid[:]) + "01"},
	}
	for _, tc := range tests {
		b, err := Serialize(tc.msg)
		if err != nil {
			t.Fatal(err)
		}
		if got := bytesHex(b); got != tc.want {
			t.Errorf("%v:\n got %s\nwant %s", tc.msg.MsgType(), got, tc.want)
		}
	}
}

func bytesHex(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}

func TestBOLT2DecodeErrors(t *testing.T) {
	open, _ := Serialize(testOpenChannel())
	// Corrupt the funding_pubkey prefix (offset: type 2 + 32 + 32 + 6*8 +
	// 4 + 2 + 2 = 122).
	badKey := append([]byte{}, open...)
	badKey[122] = 0x04
	// A point not on the curve: x = 5 has no square root? Use all-ff x,
	// which is above the field prime.
	offCurve := append([]byte{}, open...)
	copy(offCurve[123:155], bytes.Repeat([]byte{0xff}, 32))

	cid := strings.Repeat("00", 32)
	key := bytesHex(testKey(1).SerializeCompressed())
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"open truncated", open[:len(open)-1], io.ErrUnexpectedEOF},
		{"open bad point prefix", badKey, ErrInvalidPoint},
		{"open point off field", offCurve, ErrInvalidPoint},
		{"open unknown even tlv", append(append([]byte{}, open...), 0x02, 0x00), tlv.ErrUnknownEvenType},
		{"open bad tlv order", append(append([]byte{}, open...), 0x01, 0x00, 0x00, 0x00), tlv.ErrNotIncreasing},
		{"channel_ready alias short", mustHex(t, "0024"+cid+key+"0107"+"00000100000200"), ErrTLVLength},
		{"closing_signed fee_range short", mustHex(t, "0027"+cid+"0000000000000002"+strings.Repeat("00", 64)+"010f"+strings.Repeat("00", 15)), ErrTLVLength},
		{"update_add blinding bad length", append(append(addHTLCBytes(t), 0x00, 0x20), make([]byte, 32)...), ErrTLVLength},
		{"update_add record past end", append(addHTLCBytes(t), 0x00, 0x20), tlv.ErrRecordTooLong},
		{"update_add blinding not a point", append(append(addHTLCBytes(t), 0x00, 0x21), make([]byte, 33)...), ErrInvalidPoint},
		{"update_add short onion", addHTLCBytes(t)[:100], io.ErrUnexpectedEOF},
		{"commit_sig count exceeds", mustHex(t, "0084"+cid+strings.Repeat("00", 64)+"0002"+strings.Repeat("00", 64)), io.ErrUnexpectedEOF},
		{"commit_sig funding_txid short", mustHex(t, "0084"+cid+strings.Repeat("00", 64)+"0000"+"011f"+strings.Repeat("00", 31)), ErrTLVLength},
		{"fulfill attribution short", mustHex(t, "0082"+cid+"0000000000000001"+cid+"0101ff"), ErrTLVLength},
		{"reestablish half dlp", mustHex(t, "0088"+cid+"0000000000000001"+"0000000000000000"+cid), io.ErrUnexpectedEOF},
		{"reestablish next_funding short", mustHex(t, "0088"+cid+"0000000000000001"+"0000000000000000"+cid+key+"0120"+cid), ErrTLVLength},
		{"shutdown truncated script", mustHex(t, "0026"+cid+"0016"+"0014"), io.ErrUnexpectedEOF},
	}
	for _, tc := range tests {
		_, err := ParseMessage(tc.in)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: want %v, got %v", tc.name, tc.want, err)
		}
	}
	if _, err := ParseMessage(mustHex(t, "0002"+cid+"02")); err == nil {
		t.Error("stfu initiator 2 accepted")
	}

	// Encoding refuses what it cannot represent.
	bad := []Message{
		&FundingCreated{FundingPoint: wire.OutPoint{Index: 65536}},
		&ChannelReady{},
		&RevokeAndAck{},
		&ChannelReestablish{NextFunding: &FundingTxidFlags{}},
		&ChannelReestablish{YourLastPerCommitmentSecret: [32]byte{1}},
		&UpdateFee{ExtraTLV: tlv.Stream{{Type: 5}, {Type: 3}}},
	}
	for _, m := range bad {
		if _, err := Serialize(m); err == nil {
			t.Errorf("%T %+v encoded", m, m)
		}
	}
	open4 := testOpenChannel()
	open4.ChannelType = NewRawFeatureVector()
	open4.ExtraTLV = tlv.Stream{{Type: 1}}
	if _, err := Serialize(open4); !errors.Is(err, ErrExtraConflict) {
		t.Errorf("conflicting ExtraTLV: %v", err)
	}
}

func addHTLCBytes(t *testing.T) []byte {
	b, err := Serialize(&UpdateAddHTLC{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
