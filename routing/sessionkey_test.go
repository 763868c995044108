package routing

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
)

// TestSessionKeyFrom checks that a draw of zero or of a value not below
// the group order is drawn again, that a valid one is taken as it is, and
// that a failing reader is an error.
func TestSessionKeyFrom(t *testing.T) {
	order := btcec.S256().N.FillBytes(make([]byte, 32))
	want := bytes.Repeat([]byte{0x42}, 32)
	var src []byte
	src = append(src, bytes.Repeat([]byte{0xff}, 32)...) // above the order
	src = append(src, order...)                          // the order: zero mod n
	src = append(src, make([]byte, 32)...)               // zero
	src = append(src, want...)
	key, err := sessionKeyFrom(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if got := key.Key.Bytes(); !bytes.Equal(got[:], want) {
		t.Fatalf("key %x, want %x", got, want)
	}
	// The public key agrees with btcec's derivation from the same bytes.
	_, pub := btcec.PrivKeyFromBytes(want)
	if !key.PubKey().IsEqual(pub) {
		t.Fatal("public key differs from btcec's")
	}

	if _, err := sessionKeyFrom(bytes.NewReader(src[:64+31])); !errors.Is(err,
		io.ErrUnexpectedEOF) {

		t.Fatalf("short reader: %v", err)
	}
}

// TestNewSessionKey checks that the default draw gives distinct valid keys.
func TestNewSessionKey(t *testing.T) {
	a, err := newSessionKey()
	if err != nil {
		t.Fatal(err)
	}
	b, err := newSessionKey()
	if err != nil {
		t.Fatal(err)
	}
	if a.Key.IsZero() || b.Key.IsZero() || a.Key.Equals(&b.Key) {
		t.Fatal("session keys are zero or equal")
	}
}
