package brontide

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"net"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
)

// TestMachineOrder: every step called out of order, in the wrong role or
// before the handshake is done fails with ErrWrongState and never panics.
func TestMachineOrder(t *testing.T) {
	a, b := newTestKey(t), newTestKey(t)
	ini, err := NewMachine(true, a, b.PubKey())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := NewMachine(false, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	var act1 [ActOneSize]byte
	var act3 [ActThreeSize]byte
	calls := []struct {
		name string
		call func() error
	}{
		{"initiator RecvActOne", func() error { return ini.RecvActOne(act1[:]) }},
		{"initiator GenActTwo", func() error { _, err := ini.GenActTwo(); return err }},
		{"initiator RecvActTwo first", func() error { return ini.RecvActTwo(act1[:]) }},
		{"initiator GenActThree first", func() error { _, err := ini.GenActThree(); return err }},
		{"initiator RecvActThree", func() error { return ini.RecvActThree(act3[:]) }},
		{"responder GenActOne", func() error { _, err := resp.GenActOne(); return err }},
		{"responder GenActTwo first", func() error { _, err := resp.GenActTwo(); return err }},
		{"responder RecvActThree first", func() error { return resp.RecvActThree(act3[:]) }},
		{"encrypt before handshake", func() error { _, err := ini.EncryptMessage(nil, nil); return err }},
		{"decrypt before handshake", func() error { _, err := resp.DecryptMessage(make([]byte, 34)); return err }},
		{"header before handshake", func() error { _, err := resp.DecryptHeader(make([]byte, LengthHeaderSize)); return err }},
		{"body before handshake", func() error { _, err := resp.DecryptBody(nil, make([]byte, macSize)); return err }},
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, ErrWrongState) {
			t.Errorf("%s: got %v, want ErrWrongState", c.name, err)
		}
	}
	// The machines are still usable after refused calls.
	completeHandshake(t, ini, resp)
	if _, err := ini.GenActOne(); !errors.Is(err, ErrWrongState) {
		t.Errorf("GenActOne after handshake: %v", err)
	}
	if _, err := resp.DecryptBody(nil, make([]byte, macSize)); !errors.Is(err, ErrWrongState) {
		t.Errorf("DecryptBody before header: %v", err)
	}
}

// TestMachineConstructor: missing keys are errors.
func TestMachineConstructor(t *testing.T) {
	k := newTestKey(t)
	if _, err := NewMachine(true, k, nil); !errors.Is(err, ErrNoRemoteKey) {
		t.Errorf("initiator without remote key: %v", err)
	}
	if _, err := NewMachine(false, nil, nil); !errors.Is(err, ErrNoLocalKey) {
		t.Errorf("nil local key: %v", err)
	}
	if _, err := NewMachine(false, &PrivKeyECDH{}, nil); !errors.Is(err, ErrNoLocalKey) {
		t.Errorf("empty PrivKeyECDH: %v", err)
	}
	failing := WithEphemeralKeyGen(func() (*btcec.PrivateKey, error) {
		return nil, errors.New("no entropy")
	})
	m, err := NewMachine(true, k, newTestKey(t).PubKey(), failing)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.GenActOne(); err == nil {
		t.Error("GenActOne with a failing key generator succeeded")
	}
}

// TestMachineActLengths: acts of every wrong length are refused.
func TestMachineActLengths(t *testing.T) {
	for _, size := range []int{0, 1, ActOneSize - 1, ActOneSize + 1, ActThreeSize} {
		_, resp := newResponder(t)
		if err := resp.RecvActOne(make([]byte, size)); !errors.Is(err, ErrActLength) {
			t.Errorf("act one of %d bytes: %v", size, err)
		}
	}
	for _, size := range []int{0, ActThreeSize - 1, ActThreeSize + 1} {
		ini, resp := newResponder(t)
		act1, _ := ini.GenActOne()
		if err := resp.RecvActOne(act1[:]); err != nil {
			t.Fatal(err)
		}
		if _, err := resp.GenActTwo(); err != nil {
			t.Fatal(err)
		}
		if err := resp.RecvActThree(make([]byte, size)); !errors.Is(err, ErrActLength) {
			t.Errorf("act three of %d bytes: %v", size, err)
		}
	}
}

// newResponder returns a fresh initiator/responder pair before act one.
func newResponder(t *testing.T) (*Machine, *Machine) {
	t.Helper()
	a, b := newTestKey(t), newTestKey(t)
	ini, err := NewMachine(true, a, b.PubKey())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := NewMachine(false, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ini, resp
}

// TestDecryptMessageBadPackets covers the whole-packet decoder.
func TestDecryptMessageBadPackets(t *testing.T) {
	ini, resp := machinePair(t)
	pkt, err := ini.EncryptMessage(nil, []byte("abc"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := resp.DecryptMessage(pkt[:LengthHeaderSize-1]); !errors.Is(err, ErrPacketLength) {
		t.Errorf("short header: %v", err)
	}
	if _, err := resp.DecryptMessage(append(bytes.Clone(pkt), 0)); !errors.Is(err, ErrPacketLength) {
		t.Errorf("trailing byte: %v", err)
	}
	// That failure consumed the header: the receiver is out of step.
	if _, err := resp.DecryptMessage(pkt); !errors.Is(err, ErrWrongState) {
		t.Errorf("after failure: %v", err)
	}
	// Sending still works: the two directions are independent.
	if _, err := resp.EncryptMessage(nil, []byte("x")); err != nil {
		t.Errorf("send after receive failure: %v", err)
	}
	if _, err := ini.EncryptMessage(nil, make([]byte, MaxMessageSize+1)); !errors.Is(err, ErrMessageTooLarge) {
		t.Errorf("oversized: %v", err)
	}
}

// TestPrivKeyECDH checks ECDH against its definition and both sides'
// agreement, and refuses unusable keys.
func TestPrivKeyECDH(t *testing.T) {
	a, b := newTestKey(t), newTestKey(t)
	ab, err := a.ECDH(b.PubKey())
	if err != nil {
		t.Fatal(err)
	}
	ba, err := b.ECDH(a.PubKey())
	if err != nil {
		t.Fatal(err)
	}
	if ab != ba {
		t.Fatal("ECDH not symmetric")
	}
	// Definition: SHA256 of the compressed point a*B.
	var p, r btcec.JacobianPoint
	b.PubKey().AsJacobian(&p)
	btcec.ScalarMultNonConst(&a.PrivKey.Key, &p, &r)
	r.ToAffine()
	if want := sha256.Sum256(btcec.NewPublicKey(&r.X, &r.Y).SerializeCompressed()); ab != want {
		t.Fatal("ECDH differs from SHA256(compressed point)")
	}
	if _, err := (&PrivKeyECDH{}).ECDH(b.PubKey()); !errors.Is(err, ErrInvalidPrivKey) {
		t.Errorf("empty key: %v", err)
	}
	if _, err := a.ECDH(nil); !errors.Is(err, ErrBadPubKey) {
		t.Errorf("nil pub: %v", err)
	}
}

// TestNetAddressString checks the pubkey@host:port form.
func TestNetAddressString(t *testing.T) {
	priv, _ := btcec.PrivKeyFromBytes(bytes.Repeat([]byte{0x21}, 32))
	addr := &NetAddress{
		IdentityKey: priv.PubKey(),
		Address:     &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9735},
	}
	want := "028d7500dd4c12685d1f568b4c2b5048e8534b873319f3a8daa612b469132ec7f7@127.0.0.1:9735"
	if got := addr.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if addr.Network() != "tcp" {
		t.Errorf("Network() = %q", addr.Network())
	}
	if got := (&NetAddress{}).String(); got != "<nil>@<nil>" {
		t.Errorf("empty String() = %q", got)
	}
}
