package lnwallet

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// Test helpers: parsing the "key: value" text of the BOLT 3 appendices
// copied into testdata/, viewing a channel from the other side, and running
// the script engine.

// kv is one "key: value" or "key = value" line of an appendix, with
// leading "#", "INTERNAL:" markers stripped so that values the spec lists
// as comments (local signatures, fees) can be checked too.
type kv struct {
	key, val string
}

// readKVs reads an appendix file into its key/value lines.
func readKVs(t *testing.T, path string) []kv {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []kv
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		line = strings.TrimSpace(strings.TrimPrefix(line, "#"))
		line = strings.TrimSpace(strings.TrimPrefix(line, "INTERNAL:"))
		i := strings.Index(line, ": ")
		j := strings.Index(line, " = ")
		switch {
		case i < 0 && j < 0:
			continue
		case j >= 0 && (i < 0 || j < i):
			out = append(out, kv{line[:j], strings.TrimSpace(line[j+3:])})
		default:
			out = append(out, kv{line[:i], strings.TrimSpace(line[i+2:])})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func parsePub(t *testing.T, s string) *btcec.PublicKey {
	t.Helper()
	pub, err := btcec.ParsePubKey(unhex(t, s))
	if err != nil {
		t.Fatalf("bad pubkey %q: %v", s, err)
	}
	return pub
}

// parsePriv parses a private key, dropping the trailing 01 "compressed"
// marker the appendices print after 32-byte keys.
func parsePriv(t *testing.T, s string) *btcec.PrivateKey {
	t.Helper()
	b := unhex(t, s)
	if len(b) == 33 && b[32] == 1 {
		b = b[:32]
	}
	if len(b) != 32 {
		t.Fatalf("bad private key %q", s)
	}
	priv, _ := btcec.PrivKeyFromBytes(b)
	return priv
}

func atoi(t *testing.T, s string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("bad number %q: %v", s, err)
	}
	return v
}

func txHex(t *testing.T, tx *wire.MsgTx) string {
	t.Helper()
	var b bytes.Buffer
	if err := tx.Serialize(&b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b.Bytes())
}

// hexKey hex-encodes b.
func hexKey(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}

// mirror returns the same channel seen from the other side.
func mirror(p *ChannelParams) *ChannelParams {
	m := *p
	m.Local, m.Remote = p.Remote, p.Local
	m.LocalIsOpener = !p.LocalIsOpener
	return &m
}

// mirrorSpec returns spec seen from the other side.
func mirrorSpec(s *CommitmentSpec) *CommitmentSpec {
	m := *s
	m.LocalBalanceMsat, m.RemoteBalanceMsat = s.RemoteBalanceMsat,
		s.LocalBalanceMsat
	m.HTLCs = make([]HTLC, len(s.HTLCs))
	for i, h := range s.HTLCs {
		h.Incoming = !h.Incoming
		m.HTLCs[i] = h
	}
	return &m
}

// checkSpends runs the script engine on input 0 of tx spending pkScript.
func checkSpends(t *testing.T, tx *wire.MsgTx, pkScript []byte,
	value int64) {

	t.Helper()
	fetcher := txscript.NewCannedPrevOutputFetcher(pkScript, value)
	vm, err := txscript.NewEngine(pkScript, tx, 0,
		txscript.StandardVerifyFlags, nil,
		txscript.NewTxSigHashes(tx, fetcher), value, fetcher)
	if err != nil {
		t.Fatal(err)
	}
	if err := vm.Execute(); err != nil {
		t.Fatalf("script engine: %v", err)
	}
}
