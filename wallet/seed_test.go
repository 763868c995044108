package wallet

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

var testScrypt = ScryptParams{N: 1 << 10, R: 8, P: 1}

func TestSealOpenSeed(t *testing.T) {
	seed := bytes.Repeat([]byte{7}, 64)
	blob, err := sealSeed(seed, []byte("correct horse"), testScrypt)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(blob, seed[:16]) {
		t.Fatal("seed visible in sealed blob")
	}
	got, err := openSeed(blob, []byte("correct horse"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, seed) {
		t.Fatal("round trip changed the seed")
	}

	tests := []struct {
		name    string
		blob    func() []byte
		pw      string
		wantErr error
	}{
		{"wrong password", func() []byte { return blob }, "wrong", ErrWrongPassword},
		{"empty password", func() []byte { return blob }, "", ErrWrongPassword},
		{"flipped ciphertext bit", func() []byte {
			b := bytes.Clone(blob)
			b[len(b)-20] ^= 1
			return b
		}, "correct horse", ErrWrongPassword},
		{"changed scrypt r (authenticated header)", func() []byte {
			b := bytes.Clone(blob)
			b[8] = 4 // r: 8 -> 4
			return b
		}, "correct horse", ErrWrongPassword},
		{"huge scrypt N refused", func() []byte {
			b := bytes.Clone(blob)
			b[1] = 0x40 // N = 2^30
			return b
		}, "correct horse", ErrCorruptDB},
		{"truncated", func() []byte { return blob[:40] }, "correct horse", ErrCorruptDB},
		{"unknown version", func() []byte {
			b := bytes.Clone(blob)
			b[0] = 9
			return b
		}, "correct horse", ErrCorruptDB},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := openSeed(tc.blob(), []byte(tc.pw))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("got %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestSealUsesFreshSaltAndNonce(t *testing.T) {
	seed := bytes.Repeat([]byte{1}, 64)
	a, err := sealSeed(seed, []byte("pw"), testScrypt)
	if err != nil {
		t.Fatal(err)
	}
	b, err := sealSeed(seed, []byte("pw"), testScrypt)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same seed are identical")
	}
}

func TestScryptParamsValidate(t *testing.T) {
	for _, p := range []ScryptParams{{N: 0, R: 8, P: 1}, {N: 1000, R: 8, P: 1},
		{N: 1 << 23, R: 8, P: 1}, {N: 1024, R: 0, P: 1}, {N: 1024, R: 8, P: 0}} {
		if p.validate() == nil {
			t.Errorf("%+v accepted", p)
		}
	}
	if err := DefaultScryptParams.validate(); err != nil {
		t.Fatal(err)
	}
}

func TestMnemonic(t *testing.T) {
	m, err := NewMnemonic()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Fields(m)); n != MnemonicWords {
		t.Fatalf("%d words", n)
	}
	if _, err := normalizeMnemonic("  " + strings.ToUpper(m) + "\n"); err != nil {
		t.Fatalf("normalised mnemonic refused: %v", err)
	}
	words := strings.Fields(m)
	for _, bad := range []string{
		"",
		strings.Join(words[:23], " "), // 23 words
		strings.Join(append(words[:23], "zoo"), " ") + "", // checksum (almost surely)
		strings.Join(append(words[:23], "notaword"), " "),
	} {
		if bad == m {
			continue
		}
		if _, err := normalizeMnemonic(bad); !errors.Is(err, ErrInvalidMnemonic) {
			// "zoo" may complete a valid checksum with probability 1/256.
			if strings.HasSuffix(bad, "zoo") && err == nil {
				continue
			}
			t.Errorf("%q: got %v, want ErrInvalidMnemonic", bad, err)
		}
	}
}
