package brontide

import (
	"fmt"
	"testing"
)

// BenchmarkHandshake measures a complete handshake, both roles, on byte
// slices: five ECDH operations, two ephemeral keys, the hashing and HKDF.
func BenchmarkHandshake(b *testing.B) {
	a, r := newTestKey(b), newTestKey(b)
	b.ReportAllocs()
	for b.Loop() {
		ini, err := NewMachine(true, a, r.PubKey())
		if err != nil {
			b.Fatal(err)
		}
		resp, err := NewMachine(false, r, nil)
		if err != nil {
			b.Fatal(err)
		}
		completeHandshake(b, ini, resp)
	}
}

// benchSizes are the message sizes of the throughput benchmarks.
var benchSizes = []struct {
	name string
	size int
}{
	{"1KiB", 1024},
	{"64KiB", MaxMessageSize},
}

// BenchmarkEncryptDecrypt measures sealing a message into a packet and
// opening it again (length header and body), with buffer reuse, including
// key rotations every 500 messages.
func BenchmarkEncryptDecrypt(b *testing.B) {
	for _, bs := range benchSizes {
		b.Run(bs.name, func(b *testing.B) {
			ini, resp := machinePair(b)
			msg := make([]byte, bs.size)
			pkt := make([]byte, 0, MaxPacketSize)
			b.SetBytes(int64(bs.size))
			b.ReportAllocs()
			for b.Loop() {
				var err error
				pkt, err = ini.EncryptMessage(pkt[:0], msg)
				if err != nil {
					b.Fatal(err)
				}
				n, err := resp.DecryptHeader(pkt[:LengthHeaderSize])
				if err != nil {
					b.Fatal(err)
				}
				body := pkt[LengthHeaderSize : LengthHeaderSize+n+macSize]
				if _, err := resp.DecryptBody(body[:0], body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkConnLoopback measures WriteMessage to ReadMessage over a
// loopback TCP socket between two Conns.
func BenchmarkConnLoopback(b *testing.B) {
	for _, bs := range benchSizes {
		b.Run(bs.name, func(b *testing.B) {
			client, server := connPair(b)
			msg := make([]byte, bs.size)
			done := make(chan error, 1)
			n := b.N
			go func() {
				for i := range n {
					if err := client.WriteMessage(msg); err != nil {
						done <- fmt.Errorf("write %d: %w", i, err)
						return
					}
				}
				done <- nil
			}()
			b.SetBytes(int64(bs.size))
			b.ReportAllocs()
			b.ResetTimer()
			for range n {
				if _, err := server.ReadMessage(); err != nil {
					b.Fatal(err)
				}
			}
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		})
	}
}
