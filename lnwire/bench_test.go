package lnwire

import (
	"bytes"
	"testing"
)

func benchAddHTLC() *UpdateAddHTLC {
	m := &UpdateAddHTLC{ChanID: ChannelID(fill32(1)), ID: 1 << 20,
		Amount: 50_000_000, PaymentHash: fill32(2), Expiry: 850_000}
	for i := range m.OnionBlob {
		m.OnionBlob[i] = byte(i * 31)
	}
	return m
}

func benchCommitSig(b *testing.B) *CommitSig {
	m := &CommitSig{ChanID: ChannelID(fill32(1)), CommitSig: testSig(b, 0),
		HtlcSigs: make([]Sig, 483)}
	for i := range m.HtlcSigs {
		m.HtlcSigs[i] = testSig(b, byte(i))
	}
	return m
}

// benchEncode measures encoding into a reused buffer, the way a write loop
// would.
func benchEncode(b *testing.B, msg Message) {
	var buf bytes.Buffer
	if err := AppendMessage(&buf, msg); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf.Reset()
		if err := AppendMessage(&buf, msg); err != nil {
			b.Fatal(err)
		}
	}
}

// benchDecode measures ParseMessage over a complete message, as the read
// loop does with what brontide returns.
func benchDecode(b *testing.B, msg Message) {
	raw, err := Serialize(msg)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := ParseMessage(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeUpdateAddHTLC(b *testing.B) { benchEncode(b, benchAddHTLC()) }
func BenchmarkDecodeUpdateAddHTLC(b *testing.B) { benchDecode(b, benchAddHTLC()) }

func BenchmarkEncodeCommitSig483(b *testing.B) { benchEncode(b, benchCommitSig(b)) }
func BenchmarkDecodeCommitSig483(b *testing.B) { benchDecode(b, benchCommitSig(b)) }

func BenchmarkEncodeChannelUpdate(b *testing.B) { benchEncode(b, testChannelUpdate(b)) }
func BenchmarkDecodeChannelUpdate(b *testing.B) { benchDecode(b, testChannelUpdate(b)) }

// BenchmarkReadMessageUpdateAddHTLC includes the copy ReadMessage makes
// from an io.Reader.
func BenchmarkReadMessageUpdateAddHTLC(b *testing.B) {
	raw, err := Serialize(benchAddHTLC())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := ReadMessage(bytes.NewReader(raw)); err != nil {
			b.Fatal(err)
		}
	}
}
