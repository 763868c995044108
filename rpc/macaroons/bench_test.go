package macaroons

import (
	"bytes"
	"net"
	"testing"
	"time"
)

func BenchmarkVerify(b *testing.B) {
	svc := NewService(fixedKey(bytes.Repeat([]byte{7}, 32)), nil)
	mac, err := svc.Bake(AdminPermissions())
	if err != nil {
		b.Fatal(err)
	}
	if err := mac.AddFirstPartyCaveat([]byte(TimeBeforeCaveat(time.Now().Add(time.Hour)))); err != nil {
		b.Fatal(err)
	}
	raw, err := mac.MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	req := []Op{{"onchain", "write"}}
	peer := net.IPv4(127, 0, 0, 1)
	b.ReportAllocs()
	for b.Loop() {
		if err := svc.Verify(raw, "/lnrpc.Lightning/SendCoins", req, peer); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBake(b *testing.B) {
	svc := NewService(fixedKey(bytes.Repeat([]byte{7}, 32)), nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := svc.BakeBinary(AdminPermissions()); err != nil {
			b.Fatal(err)
		}
	}
}
