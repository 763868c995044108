package lnwallet

import (
	"errors"
	"math/rand"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"

	"lnd.xprv/internal/vartime"
	"lnd.xprv/lnwire"
)

// TestVerifyComb checks that ecdsaVerifyComb agrees with ecdsa.Verify on
// valid signatures (low and high S), on other hashes, other keys and
// altered R or S, for a fixed key and for a tweaked one.
func TestVerifyComb(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	for n := 0; n < 30; n++ {
		base := keyFrom(r)
		table := vartime.NewTable(base.PubKey(), sigCombTeeth)
		var tweak *btcec.ModNScalar
		priv := base
		if n%2 == 1 {
			var tb [32]byte
			r.Read(tb[:])
			tw := scalarFromHash(tb[:])
			tweak = &tw
			k := tw
			k.Add(&base.Key)
			priv = btcec.PrivKeyFromScalar(&k)
		}
		pub := priv.PubKey()
		var hash, other [32]byte
		r.Read(hash[:])
		r.Read(other[:])
		sig := ecdsa.Sign(priv, hash[:])
		raw, err := sigScalars(sig)
		if err != nil {
			t.Fatal(err)
		}
		rs, ss := raw[0], raw[1]
		var highS, rPlus, sPlus btcec.ModNScalar
		highS.NegateVal(&ss)
		one := new(btcec.ModNScalar).SetInt(1)
		rPlus.Add2(&rs, one)
		sPlus.Add2(&ss, one)
		cases := []struct {
			name string
			sig  *ecdsa.Signature
			hash []byte
			want bool
		}{
			{"valid", sig, hash[:], true},
			{"high S", ecdsa.NewSignature(&rs, &highS), hash[:], true},
			{"other hash", sig, other[:], false},
			{"R+1", ecdsa.NewSignature(&rPlus, &ss), hash[:], false},
			{"S+1", ecdsa.NewSignature(&rs, &sPlus), hash[:], false},
			{"other key", ecdsa.Sign(keyFrom(r), hash[:]), hash[:],
				false},
		}
		for _, tc := range cases {
			if got := tc.sig.Verify(tc.hash, pub); got != tc.want {
				t.Fatalf("%s: ecdsa.Verify %v", tc.name, got)
			}
			got := ecdsaVerifyComb(tc.hash, tc.sig, table, tweak)
			if got != tc.want {
				t.Fatalf("key %d %s: comb verify %v, want %v",
					n, tc.name, got, tc.want)
			}
		}
	}
}

// sigScalars returns R and S of sig.
func sigScalars(sig *ecdsa.Signature) ([2]btcec.ModNScalar, error) {
	var out [2]btcec.ModNScalar
	raw, err := lnwire.NewSigFromSignature(sig)
	if err != nil {
		return out, err
	}
	out[0].SetByteSlice(raw[:32])
	out[1].SetByteSlice(raw[32:])
	return out, nil
}

// TestSignHTLCsParallel checks that a set of HTLC signatures large enough
// to be made on all CPUs is the one made one by one (RFC 6979 signatures
// are deterministic), in output order, and verifies; and that a bad one
// among them is reported.
func TestSignHTLCsParallel(t *testing.T) {
	tp := newTestPair(t, ChannelTypeAnchors)
	spec := testSpec(4*parallelHTLCMin, 253)
	_, point := commitPointAt(2, spec.Number)
	c, err := NewCommitment(tp.aliceParams, Remote, point, spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.HTLCs) < 2*parallelHTLCMin {
		t.Fatalf("%d HTLCs: too few to sign in parallel", len(c.HTLCs))
	}
	sigs, err := SignHTLCs(tp.alice.signer(), tp.aliceParams, c)
	if err != nil {
		t.Fatal(err)
	}
	for i := range c.HTLCs {
		one, err := SignHTLC(tp.alice.signer(), tp.aliceParams, c, i)
		if err != nil {
			t.Fatal(err)
		}
		if !one.IsEqual(sigs[i]) {
			t.Fatalf("signature %d differs from the one made alone", i)
		}
	}
	own, err := NewCommitment(tp.bobParams, Local, point, mirrorSpec(spec))
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyHTLCSigs(tp.bobParams, own, sigs); err != nil {
		t.Fatal(err)
	}
	bad := append([]*ecdsa.Signature(nil), sigs...)
	bad[len(bad)-3] = bad[0]
	if err := VerifyHTLCSigs(tp.bobParams, own, bad); !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("a wrong signature among many: %v", err)
	}
}
