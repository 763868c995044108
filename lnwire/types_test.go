package lnwire

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

func TestShortChannelID(t *testing.T) {
	tests := []struct {
		str string
		u64 uint64
		id  ShortChannelID
	}{
		// The BOLT 7 example.
		{"539268x845x1", 539268<<40 | 845<<16 | 1, ShortChannelID{539268, 845, 1}},
		{"0x0x0", 0, ShortChannelID{}},
		{"16777215x16777215x65535", ^uint64(0), ShortChannelID{0xffffff, 0xffffff, 0xffff}},
		// BOLT 1 Appendix B: 0x0000000000000226 is 0x0x550.
		{"0x0x550", 0x226, ShortChannelID{0, 0, 550}},
	}
	for _, tc := range tests {
		if got := tc.id.ToUint64(); got != tc.u64 {
			t.Errorf("%v.ToUint64() = %x, want %x", tc.id, got, tc.u64)
		}
		if got := NewShortChanIDFromInt(tc.u64); got != tc.id {
			t.Errorf("NewShortChanIDFromInt(%x) = %v", tc.u64, got)
		}
		if got := tc.id.String(); got != tc.str {
			t.Errorf("String() = %q, want %q", got, tc.str)
		}
		got, err := ParseShortChannelID(tc.str)
		if err != nil || got != tc.id {
			t.Errorf("Parse(%q) = %v, %v", tc.str, got, err)
		}
	}
	for _, bad := range []string{"", "1x2", "1x2x3x4", "16777216x0x0",
		"0x16777216x0", "0x0x65536", "-1x0x0", "+1x0x0", "1 x2x3", "0x10x1x1",
		"ax1x1", "1xx1"} {
		if _, err := ParseShortChannelID(bad); !errors.Is(err, ErrBadShortChanID) {
			t.Errorf("Parse(%q): want ErrBadShortChanID, got %v", bad, err)
		}
	}
	if (ShortChannelID{BlockHeight: 1 << 24}).Valid() {
		t.Fatal("oversized height valid")
	}
}

func TestChannelIDFromOutPoint(t *testing.T) {
	var txid chainhash.Hash
	for i := range txid {
		txid[i] = byte(i)
	}
	tests := []struct {
		index    uint32
		last2    [2]byte
		unchange bool
	}{
		{0, [2]byte{30, 31}, true},
		{1, [2]byte{30, 31 ^ 1}, false},
		{0x0102, [2]byte{30 ^ 1, 31 ^ 2}, false},
		{0xffff, [2]byte{30 ^ 0xff, 31 ^ 0xff}, false},
	}
	for _, tc := range tests {
		op := wire.OutPoint{Hash: txid, Index: tc.index}
		cid := NewChanIDFromOutPoint(op)
		if !bytes.Equal(cid[:30], txid[:30]) {
			t.Fatalf("index %d changed the first 30 bytes", tc.index)
		}
		if cid[30] != tc.last2[0] || cid[31] != tc.last2[1] {
			t.Fatalf("index %d: last bytes %x", tc.index, cid[30:])
		}
		if !cid.IsChanPoint(op) {
			t.Fatal("IsChanPoint false for its own outpoint")
		}
		if cid.IsChanPoint(wire.OutPoint{Hash: txid, Index: tc.index + 1}) {
			t.Fatal("IsChanPoint true for another index")
		}
	}
	if !(ChannelID{}).IsZero() || (ChannelID{1}).IsZero() {
		t.Fatal("IsZero")
	}
}

func TestSigConversions(t *testing.T) {
	priv, _ := btcec.NewPrivateKey()
	for i := 0; i < 50; i++ {
		h := sha256.Sum256([]byte{byte(i)})
		sig := ecdsa.Sign(priv, h[:])
		s, err := NewSigFromSignature(sig)
		if err != nil {
			t.Fatal(err)
		}
		back, err := s.ToSignature()
		if err != nil {
			t.Fatal(err)
		}
		if !back.Verify(h[:], priv.PubKey()) || !back.IsEqual(sig) {
			t.Fatal("round-tripped signature does not verify")
		}
		s2, err := NewSigFromDER(sig.Serialize())
		if err != nil || s2 != s {
			t.Fatalf("NewSigFromDER: %v", err)
		}
	}

	// Curve order N and N/2.
	n := mustHex(t, "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
	halfN := mustHex(t, "7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0")
	mk := func(r, s []byte) Sig {
		var out Sig
		copy(out[32-len(r):32], r)
		copy(out[64-len(s):], s)
		return out
	}
	one := []byte{1}
	halfPlus1 := append([]byte{}, halfN...)
	halfPlus1[31]++
	tests := []struct {
		name string
		sig  Sig
		want error
	}{
		{"zero", Sig{}, ErrSigMalformed},
		{"r zero", mk(nil, one), ErrSigMalformed},
		{"s zero", mk(one, nil), ErrSigMalformed},
		{"r = N", mk(n, one), ErrSigMalformed},
		{"s = N", mk(one, n), ErrSigMalformed},
		{"high s", mk(one, halfPlus1), ErrSigHighS},
		{"s = N/2 is low", mk(one, halfN), nil},
	}
	for _, tc := range tests {
		_, err := tc.sig.ToSignature()
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: want %v, got %v", tc.name, tc.want, err)
		}
	}

	// High-S DER is refused rather than silently normalised.
	highS := mk(one, halfPlus1)
	der := append([]byte{0x30, 0x25, 0x02, 0x01, 0x01, 0x02, 0x20},
		highS[32:]...)
	if _, err := NewSigFromDER(der); !errors.Is(err, ErrSigHighS) {
		t.Fatalf("high-S DER: %v", err)
	}
	for _, bad := range [][]byte{nil, {0x30}, {0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x01}} {
		if _, err := NewSigFromDER(bad); err == nil {
			t.Fatalf("DER %x accepted", bad)
		}
	}
	if _, err := NewSigFromSignature(nil); err == nil {
		t.Fatal("nil signature accepted")
	}
}
