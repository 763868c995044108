package bolt11

import (
	"crypto/sha256"
	"math/rand"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
)

// signRecoverable is a BOLT 11 signature (R || S || recovery id) by key.
func signRecoverable(t testing.TB, key *btcec.PrivateKey, hash [32]byte) [65]byte {
	t.Helper()
	c, err := ecdsa.SignCompact(key, hash[:], true)
	if err != nil {
		t.Fatal(err)
	}
	var sig [65]byte
	copy(sig[:64], c[1:])
	sig[64] = c[0] - 27 - 4
	return sig
}

// checkRecoverAgrees fails unless recoverPayee and btcec's RecoverCompact
// both reject sig over hash, or both return the same key.
func checkRecoverAgrees(t *testing.T, sig [65]byte, hash []byte) {
	t.Helper()
	got, err := recoverPayee(sig, hash)
	want, wantErr := recoverCompact(sig, hash)
	switch {
	case (err == nil) != (wantErr == nil):
		t.Fatalf("sig %x hash %x: recovered %v, btcec %v", sig, hash, err, wantErr)
	case err == nil && !got.IsEqual(want):
		t.Fatalf("sig %x hash %x: key %x, btcec %x", sig, hash,
			got.SerializeCompressed(), want.SerializeCompressed())
	}
}

// TestRecoverPayee checks the recovery against btcec's: the signer's key
// from real signatures, and the same answer for altered ones.
func TestRecoverPayee(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	for i := 0; i < 200; i++ {
		var seed [32]byte
		rng.Read(seed[:])
		key, _ := btcec.PrivKeyFromBytes(seed[:])
		hash := sha256.Sum256(seed[:])
		sig := signRecoverable(t, key, hash)
		got, err := recoverPayee(sig, hash[:])
		if err != nil || !got.IsEqual(key.PubKey()) {
			t.Fatalf("signature %d: %v", i, err)
		}
		checkRecoverAgrees(t, sig, hash[:])

		// The other parity, a flipped bit, another hash.
		other := sig
		other[64] ^= 1
		checkRecoverAgrees(t, other, hash[:])
		other = sig
		other[rng.Intn(64)] ^= byte(1 << rng.Intn(8))
		checkRecoverAgrees(t, other, hash[:])
		checkRecoverAgrees(t, sig, seed[:])
	}
	// Out of range R and S, zero, and the overflow ids.
	var sig [65]byte
	hash := sha256.Sum256([]byte("x"))
	for _, fill := range []byte{0x00, 0xff} {
		for i := range sig[:64] {
			sig[i] = fill
		}
		for id := byte(0); id < 4; id++ {
			sig[64] = id
			checkRecoverAgrees(t, sig, hash[:])
		}
	}
	sig = [65]byte{}
	sig[31], sig[63], sig[64] = 1, 1, 2
	checkRecoverAgrees(t, sig, hash[:])
}

// FuzzRecoverPayee compares the recovery with btcec's for any signature.
func FuzzRecoverPayee(f *testing.F) {
	key, _ := btcec.PrivKeyFromBytes([]byte("bolt11 recovery fuzz seed key!!!"))
	hash := sha256.Sum256([]byte("bolt11"))
	sig := signRecoverable(f, key, hash)
	f.Add(sig[:], hash[:])
	f.Add(make([]byte, 65), hash[:])
	f.Fuzz(func(t *testing.T, raw, hash []byte) {
		if len(raw) != 65 || raw[64] > 3 {
			return
		}
		checkRecoverAgrees(t, [65]byte(raw), hash)
	})
}

// BenchmarkRecoverPayee is the payer's recovery of an invoice's payee.
func BenchmarkRecoverPayee(b *testing.B) {
	key, _ := btcec.PrivKeyFromBytes([]byte("bolt11 recovery bench seed key!!"))
	hash := sha256.Sum256([]byte("bolt11"))
	sig := signRecoverable(b, key, hash)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := recoverPayee(sig, hash[:]); err != nil {
			b.Fatal(err)
		}
	}
}
