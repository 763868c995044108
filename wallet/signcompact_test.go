package wallet

import (
	"bytes"
	"math/rand"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"

	"lnd.xprv/internal/cpumeter"
)

// TestSignCompactMatchesBtcec: byte for byte btcec's SignCompact, for
// random keys and digests and the edge keys 1 and n - 1, and the key
// recovered from each signature is the signer's.
func TestSignCompactMatchesBtcec(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	var keys []*btcec.PrivateKey
	var one, minusOne btcec.ModNScalar
	one.SetInt(1)
	minusOne.SetInt(1).Negate()
	keys = append(keys, &btcec.PrivateKey{Key: one},
		&btcec.PrivateKey{Key: minusOne})
	for i := 0; i < 100; i++ {
		var b [32]byte
		r.Read(b[:])
		k, _ := btcec.PrivKeyFromBytes(b[:])
		keys = append(keys, k)
	}
	for i, key := range keys {
		for j := 0; j < 5; j++ {
			hash := make([]byte, 32)
			r.Read(hash)
			if j == 0 {
				hash = make([]byte, 32)
			}
			got, err := signCompact(key, hash)
			if err != nil {
				t.Fatal(err)
			}
			want, err := ecdsa.SignCompact(key, hash, true)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("key %d digest %x: %x, want %x", i, hash, got, want)
			}
			pub, comp, err := ecdsa.RecoverCompact(got, hash)
			if err != nil || !comp || !pub.IsEqual(key.PubKey()) {
				t.Fatalf("key %d: recovery %v %v", i, comp, err)
			}
		}
	}
	if _, err := signCompact(keys[2], make([]byte, 31)); err == nil {
		t.Fatal("31-byte digest signed")
	}
	if _, err := signCompact(&btcec.PrivateKey{}, make([]byte, 32)); err == nil {
		t.Fatal("zero key signed")
	}
}

func BenchmarkSignCompact(b *testing.B) {
	key, _ := btcec.NewPrivateKey()
	hash := make([]byte, 32)
	b.ReportAllocs()
	m := cpumeter.Start()
	for b.Loop() {
		if _, err := signCompact(key, hash); err != nil {
			b.Fatal(err)
		}
	}
	m.Report(b)
}

func BenchmarkBtcecSignCompact(b *testing.B) {
	key, _ := btcec.NewPrivateKey()
	hash := make([]byte, 32)
	b.ReportAllocs()
	m := cpumeter.Start()
	for b.Loop() {
		if _, err := ecdsa.SignCompact(key, hash, true); err != nil {
			b.Fatal(err)
		}
	}
	m.Report(b)
}
