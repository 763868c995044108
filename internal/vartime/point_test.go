package vartime

import (
	"math/big"
	"math/rand"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
)

// TestPointFromX checks the decompression against btcec for random x
// (about half of them on no point), both parities, and the square root
// against math/big.
func TestPointFromX(t *testing.T) {
	r := rand.New(rand.NewSource(15))
	xs := make([][32]byte, 0, 402)
	for i := 0; i < 400; i++ {
		var x [32]byte
		r.Read(x[:])
		if x[0] == 0xff {
			x[0] = 0 // keep x below p
		}
		xs = append(xs, x)
	}
	xs = append(xs, [32]byte{}, [32]byte{31: 1})
	for _, xb := range xs {
		for _, odd := range []bool{false, true} {
			got, ok := PointFromX(&xb, odd)
			var x, y btcec.FieldVal
			x.SetBytes(&xb)
			want := btcec.DecompressY(&x, odd, &y)
			if ok != want {
				t.Fatalf("x %x odd %v: on curve %v, btcec %v", xb, odd, ok, want)
			}
			if !ok {
				continue
			}
			y.Normalize()
			if got.x.bytes() != xb || got.y.bytes() != *y.Bytes() {
				t.Fatalf("x %x odd %v: y %x, btcec %x", xb, odd, got.y.bytes(), y.Bytes())
			}
		}
		var f, s fe
		f.setBytes(&xb)
		ok := s.sqrt(&f)
		v := new(big.Int).SetBytes(xb[:])
		if (new(big.Int).ModSqrt(v, bigP) != nil) != ok {
			t.Fatalf("sqrt(%x): square %v", xb, ok)
		}
	}
}

func BenchmarkPointFromX(b *testing.B) {
	pub := randPub(rand.New(rand.NewSource(16)))
	c := pub.SerializeCompressed()
	x := [32]byte(c[1:])
	for b.Loop() {
		if _, ok := PointFromX(&x, c[0] == 3); !ok {
			b.Fatal("not on curve")
		}
	}
}

func BenchmarkBtcecDecompressY(b *testing.B) {
	pub := randPub(rand.New(rand.NewSource(16)))
	c := pub.SerializeCompressed()
	var x, y btcec.FieldVal
	x.SetByteSlice(c[1:])
	for b.Loop() {
		if !btcec.DecompressY(&x, c[0] == 3, &y) {
			b.Fatal("not on curve")
		}
	}
}

// checkParseAgrees fails unless ParsePubKey and btcec.ParsePubKey agree on
// b: the same key, or both an error with the same text.
func checkParseAgrees(t *testing.T, b []byte) {
	t.Helper()
	got, err := ParsePubKey(b)
	want, wantErr := btcec.ParsePubKey(b)
	switch {
	case (err == nil) != (wantErr == nil):
		t.Fatalf("key %x: %v, btcec %v", b, err, wantErr)
	case err != nil && err.Error() != wantErr.Error():
		t.Fatalf("key %x: error %q, btcec %q", b, err, wantErr)
	case err == nil && !got.IsEqual(want):
		t.Fatalf("key %x: parsed %x", b, got.SerializeCompressed())
	}
}

// TestParseKey checks the vartime parse against btcec's on real keys,
// altered ones (about half of x values are on no point), x ≥ p and other
// prefixes and lengths.
func TestParseKey(t *testing.T) {
	rng := rand.New(rand.NewSource(12))
	for i := 0; i < 300; i++ {
		var seed [32]byte
		rng.Read(seed[:])
		key, _ := btcec.PrivKeyFromBytes(seed[:])
		b := key.PubKey().SerializeCompressed()
		checkParseAgrees(t, b)
		b[1+rng.Intn(32)] ^= byte(1 << rng.Intn(8))
		checkParseAgrees(t, b)
		b[0] ^= 1
		checkParseAgrees(t, b)
	}
	big := make([]byte, 33)
	for i := range big {
		big[i] = 0xff
	}
	for _, prefix := range []byte{0, 1, 2, 3, 4, 6, 7} {
		big[0] = prefix
		checkParseAgrees(t, big)
	}
	checkParseAgrees(t, nil)
	checkParseAgrees(t, make([]byte, 33))
	checkParseAgrees(t, make([]byte, 65))
}

// FuzzParseKey compares the vartime parse with btcec's for any bytes.
func FuzzParseKey(f *testing.F) {
	key, _ := btcec.PrivKeyFromBytes([]byte("vartime parse key fuzz seed key!"))
	f.Add(key.PubKey().SerializeCompressed())
	f.Add(make([]byte, 33))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkParseAgrees(t, b)
	})
}
