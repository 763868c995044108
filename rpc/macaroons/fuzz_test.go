package macaroons

import (
	"bytes"
	"encoding/hex"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"gopkg.in/macaroon.v2"
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
	rootKey := bytes.Repeat([]byte{7}, 32)
	svc := NewService(fixedKey(rootKey), func() time.Time { return time.Unix(1e9, 0) })
	goodMac, err := svc.Bake(ReadPermissions())
	if err != nil {
		f.Fatal(err)
	}
	good, err := goodMac.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(lndAdminMacaroon(f))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if svc.Verify(b, "", []Op{{"info", "read"}}, net.IPv4(127, 0, 0, 1)) != nil {
			return
		}
		// Whatever passed must carry read permission in a well-formed id
		// and a signature chain that recomputes from the root key.
		mac := &macaroon.Macaroon{}
		if err := mac.UnmarshalBinary(b); err != nil {
			t.Fatalf("accepted undecodable bytes %x", b)
		}
		id, err := DecodeID(mac.Id())
		if err != nil || Allows(id.Ops, []Op{{"info", "read"}}, "") != nil {
			t.Fatalf("accepted a macaroon without info:read: %x", b)
		}
		again, err := macaroon.New(rootKey, mac.Id(), mac.Location(), mac.Version())
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range mac.Caveats() {
			if err := again.AddFirstPartyCaveat(c.Id); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(again.Signature(), mac.Signature()) {
			t.Fatalf("accepted a forged signature: %x", b)
		}
	})
}

// FuzzDecodeResealed: Reseal's result is read back from the wallet
// database after a crash; any bytes decode without panic, and what decodes
// re-encodes to the same bytes.
func FuzzDecodeResealed(f *testing.F) {
	s, err := OpenStoreN(f.TempDir()+"/macaroons.db", 2)
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	if err := s.Unlock([]byte("old password")); err != nil {
		f.Fatal(err)
	}
	r, err := s.Reseal([]byte("old password"), []byte("new password"), false)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(r)
	f.Add([]byte{resealVersion})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeResealed(b)
		if err != nil {
			return
		}
		if !bytes.Equal(r.encode(), b) {
			t.Fatalf("re-encoding differs")
		}
	})
}
