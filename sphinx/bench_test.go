package sphinx

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"

	"lnd.xprv/internal/cpumeter"
)

// benchRoute returns a 20-hop route with realistic payloads (a forwarding
// payload is ~20 bytes: amount, CLTV, short_channel_id) and a final payload
// with payment_data.
func benchRoute(b *testing.B) ([]Hop, []*btcec.PrivateKey) {
	b.Helper()
	keys := testKeys(20, 0x61)
	route := make([]Hop, len(keys))
	for i, k := range keys {
		p := HopPayload{AmtToForward: 1_000_000 + uint64(i), OutgoingCLTV: 800_000 + uint32(i)}
		if i < len(keys)-1 {
			scid := uint64(800_000<<40 | i)
			p.ShortChannelID = &scid
		} else {
			p.PaymentData = &PaymentData{TotalMsat: 1_000_000}
		}
		enc, err := p.Encode()
		if err != nil {
			b.Fatal(err)
		}
		route[i] = Hop{PubKey: k.PubKey(), Payload: enc}
	}
	return route, keys
}

func BenchmarkNewOnionPacket20Hops(b *testing.B) {
	route, _ := benchRoute(b)
	session, _ := btcec.PrivKeyFromBytes(bytes.Repeat([]byte{0x13}, 32))
	ad := make([]byte, 32)
	b.SetBytes(PacketSize)
	b.ReportAllocs()
	cpu := cpumeter.Start()
	for b.Loop() {
		if _, err := NewOnionPacket(route, session, ad); err != nil {
			b.Fatal(err)
		}
	}
	cpu.Report(b)
}

func BenchmarkProcessOnionPacket(b *testing.B) {
	route, keys := benchRoute(b)
	session, _ := btcec.PrivKeyFromBytes(bytes.Repeat([]byte{0x13}, 32))
	ad := make([]byte, 32)
	pkt, err := NewOnionPacket(route, session, ad)
	if err != nil {
		b.Fatal(err)
	}
	r := NewRouter(PrivKeyECDH{keys[0]}, nil)
	b.SetBytes(PacketSize)
	b.ReportAllocs()
	cpu := cpumeter.Start()
	for b.Loop() {
		if _, err := r.Peel(pkt, ad); err != nil {
			b.Fatal(err)
		}
	}
	cpu.Report(b)
}

// BenchmarkProcessOnionPacketReplayLog includes the in-memory replay log;
// each iteration uses a fresh log entry.
func BenchmarkProcessOnionPacketReplayLog(b *testing.B) {
	route, keys := benchRoute(b)
	session, _ := btcec.PrivKeyFromBytes(bytes.Repeat([]byte{0x13}, 32))
	ad := make([]byte, 32)
	pkt, err := NewOnionPacket(route, session, ad)
	if err != nil {
		b.Fatal(err)
	}
	log := NewMemoryReplayLog()
	r := NewRouter(PrivKeyECDH{keys[0]}, log)
	b.SetBytes(PacketSize)
	b.ReportAllocs()
	cpu := cpumeter.Start()
	for b.Loop() {
		if _, err := r.ProcessOnionPacket(pkt, ad, 1); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		_ = log.PruneBelow(2)
		b.StartTimer()
	}
	cpu.Report(b)
}

func benchFailure(b *testing.B, attribution bool) {
	c, secrets := testCircuit(b, 20)
	msg := &FailTemporaryChannelFailure{ChannelUpdate: sampleUpdate}
	var reason, attr []byte
	var err error
	if attribution {
		reason, attr, err = NewFailureWithAttribution(secrets[19], msg, 1)
	} else {
		reason, err = NewFailure(secrets[19], msg)
	}
	if err != nil {
		b.Fatal(err)
	}
	for i := 18; i >= 0; i-- {
		if attribution {
			reason, attr, _ = WrapFailureWithAttribution(secrets[i], reason, attr, 1)
		} else {
			reason = WrapFailure(secrets[i], reason)
		}
	}
	b.SetBytes(int64(len(reason)))
	b.ReportAllocs()
	cpu := cpumeter.Start()
	for b.Loop() {
		df, err := c.DecryptFailure(reason, attr)
		if err != nil || df.SenderIdx != 19 {
			b.Fatal(err)
		}
	}
	cpu.Report(b)
}

// BenchmarkDecryptFailureHop20 decrypts a failure produced by the 20th hop
// of a 20-hop route (the origin's worst case besides the fixed dummy
// rounds).
func BenchmarkDecryptFailureHop20(b *testing.B) { benchFailure(b, false) }

// BenchmarkDecryptFailureHop20Attribution is the same with attribution
// data verified at every hop.
func BenchmarkDecryptFailureHop20Attribution(b *testing.B) { benchFailure(b, true) }

func BenchmarkWrapFailureWithAttribution(b *testing.B) {
	_, secrets := testCircuit(b, 2)
	reason, attr, err := NewFailureWithAttribution(secrets[1], &FailMPPTimeout{}, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu := cpumeter.Start()
	for b.Loop() {
		if _, _, err := WrapFailureWithAttribution(secrets[0], reason, attr, 1); err != nil {
			b.Fatal(err)
		}
	}
	cpu.Report(b)
}

// BenchmarkNewOnionPacketHops builds the onion of a route of 1, 2 and 20
// hops: a payer's cost per attempt (one hop is a payment to a peer).
func BenchmarkNewOnionPacketHops(b *testing.B) {
	full, _ := benchRoute(b)
	session, _ := btcec.PrivKeyFromBytes(bytes.Repeat([]byte{0x13}, 32))
	ad := make([]byte, 32)
	for _, n := range []int{1, 2, 20} {
		route := full[len(full)-n:]
		b.Run(fmt.Sprintf("hops=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			cpu := cpumeter.Start()
			for b.Loop() {
				if _, err := NewOnionPacket(route, session, ad); err != nil {
					b.Fatal(err)
				}
			}
			cpu.Report(b)
		})
	}
}

// BenchmarkNewOnionPacketHopTables is BenchmarkNewOnionPacketHops through
// a HopTables whose keys are warm: an origin paying through the same
// peers again.
func BenchmarkNewOnionPacketHopTables(b *testing.B) {
	full, _ := benchRoute(b)
	session, _ := btcec.PrivKeyFromBytes(bytes.Repeat([]byte{0x13}, 32))
	ad := make([]byte, 32)
	for _, n := range []int{1, 2, 20} {
		route := full[len(full)-n:]
		b.Run(fmt.Sprintf("hops=%d", n), func(b *testing.B) {
			tables := NewHopTables()
			for i := 0; i < hopTableUses; i++ {
				if _, err := tables.NewOnionPacket(route, session, ad); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			cpu := cpumeter.Start()
			for b.Loop() {
				if _, err := tables.NewOnionPacket(route, session, ad); err != nil {
					b.Fatal(err)
				}
			}
			cpu.Report(b)
		})
	}
}
