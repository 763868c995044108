package wallet

import (
	"bufio"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/chaincfg"
)

func aezeedVectors(t *testing.T) [][]string {
	t.Helper()
	f, err := os.Open("testdata/aezeed-mnemonics.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, strings.Fields(line))
	}
	if len(out) != 2 {
		t.Fatalf("read %d aezeed vectors, want 2", len(out))
	}
	return out
}

func TestAezeedRefused(t *testing.T) {
	for _, words := range aezeedVectors(t) {
		if !isAezeed(words) {
			t.Fatalf("aezeed not recognised: %v", words)
		}
		_, err := normalizeMnemonic(strings.Join(words, " "))
		if !errors.Is(err, ErrAezeedMnemonic) || !errors.Is(err, ErrInvalidMnemonic) {
			t.Fatalf("restore of an aezeed: %v", err)
		}

		// One word changed breaks the aezeed checksum: then it is just
		// a bad mnemonic, not an aezeed.
		changed := append([]string(nil), words...)
		changed[5] = "zoo"
		if isAezeed(changed) {
			t.Fatal("altered aezeed still recognised")
		}
	}

	// Upper case and extra spaces are normalised first.
	words := aezeedVectors(t)[0]
	_, err := normalizeMnemonic("  " + strings.ToUpper(strings.Join(words, "   ")))
	if !errors.Is(err, ErrAezeedMnemonic) {
		t.Fatalf("normalised aezeed: %v", err)
	}
}

func TestBIP39NotMistakenForAezeed(t *testing.T) {
	// The BIP 39 reference vector of 32 bytes of 0x00...
	zero := strings.Fields("abandon abandon abandon abandon abandon abandon abandon " +
		"abandon abandon abandon abandon abandon abandon abandon abandon abandon " +
		"abandon abandon abandon abandon abandon abandon abandon art")
	if isAezeed(zero) {
		t.Fatal("BIP 39 vector taken for an aezeed")
	}
	// ...and many random seeds: a false match has probability 2^-40.
	for i := 0; i < 2000; i++ {
		m, err := NewMnemonic()
		if err != nil {
			t.Fatal(err)
		}
		if isAezeed(strings.Fields(m)) {
			t.Fatalf("random BIP 39 mnemonic taken for an aezeed: %s", m)
		}
		if _, err := normalizeMnemonic(m); err != nil {
			t.Fatalf("valid mnemonic refused: %v", err)
		}
	}
}

func TestCreateRefusesAezeed(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{
		DBPath: dir + "/wallet.db",
		Net:    &chaincfg.RegressionNetParams,
		Scrypt: ScryptParams{N: 1 << 10, R: 8, P: 1},
	}
	words := aezeedVectors(t)[1]
	_, _, err := Create(cfg, CreateParams{
		Password: []byte("password"),
		Mnemonic: strings.Join(words, " "),
		Restore:  true,
	})
	if !errors.Is(err, ErrAezeedMnemonic) {
		t.Fatalf("Create with an aezeed: %v", err)
	}
	if ok, err := Exists(cfg); err != nil || ok {
		t.Fatalf("a wallet was left behind (exists %v, %v)", ok, err)
	}
}
