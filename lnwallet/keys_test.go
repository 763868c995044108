package lnwallet

import (
	"math/rand"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
)

// TestAppendixE checks the key derivations against BOLT 3 Appendix E.
func TestAppendixE(t *testing.T) {
	h := make(map[string]string)
	names := 0
	for _, e := range readKVs(t, "testdata/bolt03-appendix-e.txt") {
		if e.key == "name" {
			names++
		}
		h[e.key] = e.val
	}
	if names != 4 {
		t.Fatalf("parsed %d Appendix E cases, want 4", names)
	}

	baseSecret := parsePriv(t, h["base_secret"])
	commitSecret := parsePriv(t, h["per_commitment_secret"])
	basePoint := parsePub(t, h["base_point"])
	commitPoint := parsePub(t, h["per_commitment_point"])
	if !baseSecret.PubKey().IsEqual(basePoint) {
		t.Fatal("base_point does not match base_secret")
	}
	var cs [32]byte
	copy(cs[:], commitSecret.Serialize())
	if !CommitPoint(cs).IsEqual(commitPoint) {
		t.Fatal("CommitPoint does not match per_commitment_point")
	}

	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{
			"derivation of pubkey from basepoint and per_commitment_point",
			TweakPubKey(basePoint, commitPoint).SerializeCompressed(),
			h["localpubkey"],
		},
		{
			"derivation of private key from basepoint secret and per_commitment_secret",
			TweakPrivKey(baseSecret, commitPoint).Serialize(),
			h["localprivkey"],
		},
		{
			"derivation of revocation pubkey from basepoint and per_commitment_point",
			DeriveRevocationPubKey(basePoint, commitPoint).SerializeCompressed(),
			h["revocationpubkey"],
		},
		{
			"derivation of revocation secret from basepoint_secret and per_commitment_secret",
			DeriveRevocationPrivKey(baseSecret, commitSecret).Serialize(),
			h["revocationprivkey"],
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := "0x" + hexKey(tc.got); got != tc.want {
				t.Fatalf("got %s want %s", got, tc.want)
			}
		})
	}
}

// TestKeyPairsMatch checks that the private key derivations match the
// public ones for random keys.
func TestKeyPairsMatch(t *testing.T) {
	for i := 0; i < 20; i++ {
		base, err := btcec.NewPrivateKey()
		if err != nil {
			t.Fatal(err)
		}
		commit, err := btcec.NewPrivateKey()
		if err != nil {
			t.Fatal(err)
		}
		if !TweakPrivKey(base, commit.PubKey()).PubKey().IsEqual(
			TweakPubKey(base.PubKey(), commit.PubKey())) {

			t.Fatal("tweaked key pair mismatch")
		}
		if !DeriveRevocationPrivKey(base, commit).PubKey().IsEqual(
			DeriveRevocationPubKey(base.PubKey(), commit.PubKey())) {

			t.Fatal("revocation key pair mismatch")
		}
	}
}

// TestCommitPointChecks checks CommitPoint against btcec.PrivKeyFromBytes
// and revealedPointIs against CommitPoint, for random secrets and the
// edges: zero, the order (reduced to zero), above the order, all ones.
func TestCommitPointChecks(t *testing.T) {
	r := rand.New(rand.NewSource(9))
	var secrets [][32]byte
	var order, above, ones [32]byte
	btcec.S256().N.FillBytes(order[:])
	above = order
	above[31]++
	for i := range ones {
		ones[i] = 0xff
	}
	secrets = append(secrets, [32]byte{}, order, above, ones)
	for i := 0; i < 30; i++ {
		var s [32]byte
		r.Read(s[:])
		secrets = append(secrets, s)
	}
	other := CommitPoint([32]byte{1})
	for _, s := range secrets {
		_, want := btcec.PrivKeyFromBytes(s[:])
		got := CommitPoint(s)
		if !got.IsEqual(want) {
			t.Fatalf("CommitPoint(%x) differs", s)
		}
		valid := want.IsOnCurve()
		if revealedPointIs(s, want) != valid {
			t.Fatalf("revealedPointIs(%x) != %v", s, valid)
		}
		if revealedPointIs(s, other) != (valid && want.IsEqual(other)) {
			t.Fatalf("revealedPointIs(%x, other point)", s)
		}
	}
}

// TestPutCompressed checks putCompressed against SerializeCompressed for
// keys with even and odd Y.
func TestPutCompressed(t *testing.T) {
	r := rand.New(rand.NewSource(10))
	odd := 0
	for i := 0; i < 40; i++ {
		pub := keyFrom(r).PubKey()
		var b [33]byte
		putCompressed(b[:], pub)
		want := pub.SerializeCompressed()
		if string(b[:]) != string(want) {
			t.Fatalf("putCompressed(%x) = %x", want, b)
		}
		if b[0] == 0x03 {
			odd++
		}
	}
	if odd == 0 || odd == 40 {
		t.Fatalf("%d of 40 keys with odd Y: both parities not covered", odd)
	}
}
