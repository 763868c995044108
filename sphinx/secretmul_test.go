package sphinx

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"

	"lnd.xprv/internal/vartime"
)

// secretMulECDH is the node's ECDH as the wallet computes it, on
// vartime.SecretMul rather than btcec.
type secretMulECDH struct{ key *btcec.PrivateKey }

func (s secretMulECDH) ECDH(pub *btcec.PublicKey) (Hash256, error) {
	p := vartime.FromPubKey(pub)
	c, ok := vartime.SecretMul(&p, &s.key.Key)
	if !ok {
		return Hash256{}, errors.New("infinity")
	}
	return sha256.Sum256(c[:]), nil
}

// TestOnionVectorSecretMul peels BOLT 4's onion-test.json with the
// constant-time ECDH the node key uses and checks every hop's shared
// secret, payload and forwarded packet byte for byte against the btcec
// ECDH.
func TestOnionVectorSecretMul(t *testing.T) {
	var v onionVector
	loadJSON(t, "onion-test.json", &v)
	route := vectorRoute(t, &v)
	ad := mustHex(t, v.Generate.AssociatedData)
	pkt, err := DecodeOnionPacket(mustHex(t, v.Onion))
	if err != nil {
		t.Fatal(err)
	}
	for i, privHex := range v.Decode {
		priv := mustPriv(t, privHex)
		got, err := NewRouter(secretMulECDH{priv}, nil).Peel(pkt, ad)
		if err != nil {
			t.Fatalf("hop %d: %v", i, err)
		}
		want, err := NewRouter(PrivKeyECDH{priv}, nil).Peel(pkt, ad)
		if err != nil {
			t.Fatalf("hop %d (btcec): %v", i, err)
		}
		if got.SharedSecret != want.SharedSecret ||
			!bytes.Equal(got.Payload, route[i].Payload) {
			t.Fatalf("hop %d: secret %x payload %x, want %x %x", i,
				got.SharedSecret, got.Payload, want.SharedSecret,
				route[i].Payload)
		}
		if got.IsFinal() != (i == len(route)-1) {
			t.Fatalf("hop %d: IsFinal %v", i, got.IsFinal())
		}
		if got.IsFinal() {
			break
		}
		if !bytes.Equal(got.NextPacket.Bytes(), want.NextPacket.Bytes()) {
			t.Fatalf("hop %d: next packet differs", i)
		}
		pkt = got.NextPacket
	}
}

// TestRouteBlindingSecretMul checks the constant-time ECDH against
// BOLT 4's route-blinding-test.json: each hop's shared secret from the
// path private key and the node id, and each unblinding node's ECDH with
// its path key against btcec.
func TestRouteBlindingSecretMul(t *testing.T) {
	var v routeBlindingVector
	loadJSON(t, "route-blinding-test.json", &v)
	for i, h := range v.Generate.Hops {
		got, err := secretMulECDH{mustPriv(t, h.PathPrivKey)}.ECDH(
			mustPub(t, h.NodeID))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got[:], mustHex(t, h.SharedSecret)) {
			t.Fatalf("hop %d: %x, vector %s", i, got, h.SharedSecret)
		}
	}
	for i, h := range v.Unblind.Hops {
		priv, path := mustPriv(t, h.NodePrivKey), mustPub(t, h.PathKey)
		got, err := secretMulECDH{priv}.ECDH(path)
		if err != nil {
			t.Fatal(err)
		}
		want, err := PrivKeyECDH{priv}.ECDH(path)
		if err != nil || got != want {
			t.Fatalf("unblind hop %d: %x, want %x (%v)", i, got, want, err)
		}
	}
	if len(v.Generate.Hops) == 0 || len(v.Unblind.Hops) == 0 {
		t.Fatal("empty vector")
	}
}
