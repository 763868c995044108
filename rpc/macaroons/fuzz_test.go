package macaroons

import (
	"bytes"
	"encoding/hex"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

func lndAdminMacaroon(f *testing.F) []byte {
	data, err := os.ReadFile("testdata/lnd_admin_macaroon.hex")
	if err != nil {
		f.Fatal(err)
	}
	raw, err := hex.DecodeString(strings.TrimSpace(string(data)))
	if err != nil {
		f.Fatal(err)
	}
	return raw
}

// FuzzDecodeID checks that any identifier decodes without panic and that
// what decodes re-encodes to an identifier with the same permissions.
func FuzzDecodeID(f *testing.F) {
	f.Add((&ID{Nonce: []byte{1}, StorageID: []byte("0"), Ops: AdminPermissions()}).Encode())
	f.Add([]byte{3})
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := DecodeID(b)
		if err != nil {
			return
		}
		again, err := DecodeID(id.Encode())
		if err != nil {
			t.Fatalf("re-encoded id does not decode: %v", err)
		}
		for _, op := range id.Ops {
			if Allows(again.Ops, []Op{op}, "") != nil {
				t.Fatalf("op %v lost in re-encoding", op)
			}
		}
	})
}

// FuzzVerify feeds arbitrary bytes as a macaroon: never a panic, never an
// acceptance of something not baked with the root key.
func FuzzVerify(f *testing.F) {
	svc := NewService(fixedKey(bytes.Repeat([]byte{7}, 32)), func() time.Time { return time.Unix(1e9, 0) })
	good, err := svc.BakeBinary(ReadPermissions())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(lndAdminMacaroon(f))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		err := svc.Verify(b, "", []Op{{"info", "read"}}, net.IPv4(127, 0, 0, 1))
		if err == nil && !bytes.Equal(b, good) {
			// Only a re-serialisation of the baked macaroon may pass.
			if _, err2 := DecodeID(b); err2 != nil {
				t.Fatalf("accepted a macaroon with a bad id: %x", b)
			}
		}
	})
}
