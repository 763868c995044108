package brontide

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
)

// vectorFile is BOLT 8 Appendix A, copied verbatim.
const vectorFile = "testdata/bolt08-appendix-a.txt"

// vectorStep is one "input:" or "output:" line of a handshake vector.
type vectorStep struct {
	input bool
	value string
}

// handshakeVector is one named case of "Initiator Tests" or "Responder
// Tests".
type handshakeVector struct {
	section string
	name    string
	params  map[string]string // rs.pub, ls.priv, ls.pub, e.priv, e.pub
	steps   []vectorStep
}

// messageVector is the "Message Encryption Tests" case.
type messageVector struct {
	name       string
	ck, sk, rk string
	outputs    map[int]string
}

var (
	sectionRe = regexp.MustCompile(`^## (.+)$`)
	// Lines look like "key: value" or "key=value"; everything else in
	// the appendix is prose or a "#" comment.
	fieldRe = regexp.MustCompile(`^(name|rs\.pub|ls\.priv|ls\.pub|e\.priv|e\.pub|input|output|output [0-9]+|ck|sk|rk)\s*[:=]\s*(.+)$`)
)

// loadVectors parses the appendix into handshake and message vectors.
func loadVectors(t testing.TB) ([]*handshakeVector, []*messageVector) {
	t.Helper()
	f, err := os.Open(vectorFile)
	if err != nil {
		t.Fatalf("open vectors: %v", err)
	}
	defer f.Close()

	var (
		section   string
		hs        []*handshakeVector
		msgs      []*messageVector
		curHS     *handshakeVector
		curMsg    *messageVector
		sc        = bufio.NewScanner(f)
		lineNo    int
		seenStart bool
	)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		lineNo++
		raw := sc.Text()
		if m := sectionRe.FindStringSubmatch(raw); m != nil {
			section = m[1]
			curHS, curMsg = nil, nil
			continue
		}
		if strings.HasPrefix(raw, "# Appendix A") {
			seenStart = true
		}
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := fieldRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		key, val := m[1], strings.TrimSpace(m[2])

		switch section {
		case "Initiator Tests", "Responder Tests":
			switch {
			case key == "name":
				curHS = &handshakeVector{
					section: section,
					name:    val,
					params:  make(map[string]string),
				}
				hs = append(hs, curHS)
			case curHS == nil:
				t.Fatalf("line %d: %q before any name", lineNo, line)
			case key == "input" || key == "output":
				curHS.steps = append(curHS.steps, vectorStep{
					input: key == "input",
					value: val,
				})
			default:
				curHS.params[key] = val
			}

		case "Message Encryption Tests":
			switch {
			case key == "name":
				curMsg = &messageVector{
					name:    val,
					outputs: make(map[int]string),
				}
				msgs = append(msgs, curMsg)
			case curMsg == nil:
				t.Fatalf("line %d: %q before any name", lineNo, line)
			case key == "ck":
				curMsg.ck = val
			case key == "sk":
				curMsg.sk = val
			case key == "rk":
				curMsg.rk = val
			case strings.HasPrefix(key, "output "):
				n, err := strconv.Atoi(strings.TrimPrefix(key, "output "))
				if err != nil {
					t.Fatalf("line %d: %v", lineNo, err)
				}
				curMsg.outputs[n] = val
			default:
				t.Fatalf("line %d: unexpected %q", lineNo, key)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read vectors: %v", err)
	}
	if !seenStart {
		t.Fatalf("%s does not contain Appendix A", vectorFile)
	}
	return hs, msgs
}

// unhex decodes a vector value with or without its 0x prefix.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func unhex32(t testing.TB, s string) [32]byte {
	t.Helper()
	var out [32]byte
	b := unhex(t, s)
	if len(b) != 32 {
		t.Fatalf("%q: want 32 bytes, got %d", s, len(b))
	}
	copy(out[:], b)
	return out
}

// vectorErrors maps the appendix's error names to our sentinels. The
// *_READ_FAILED cases are acts cut short: the Machine sees a short act.
var vectorErrors = map[string]error{
	"ACT1_READ_FAILED":    ErrActLength,
	"ACT1_BAD_VERSION":    ErrBadVersion,
	"ACT1_BAD_PUBKEY":     ErrBadPubKey,
	"ACT1_BAD_TAG":        ErrMACMismatch,
	"ACT2_READ_FAILED":    ErrActLength,
	"ACT2_BAD_VERSION":    ErrBadVersion,
	"ACT2_BAD_PUBKEY":     ErrBadPubKey,
	"ACT2_BAD_TAG":        ErrMACMismatch,
	"ACT3_READ_FAILED":    ErrActLength,
	"ACT3_BAD_VERSION":    ErrBadVersion,
	"ACT3_BAD_CIPHERTEXT": ErrMACMismatch,
	"ACT3_BAD_PUBKEY":     ErrBadPubKey,
	"ACT3_BAD_TAG":        ErrMACMismatch,
}

var errorRe = regexp.MustCompile(`^ERROR \(([A-Z0-9_]+)( [0-9]+)?\)$`)
var keysRe = regexp.MustCompile(`^(sk,rk|rk,sk)=(0x[0-9a-f]+),(0x[0-9a-f]+)$`)

// fixedKey returns an ephemeral generator yielding the vector's e.priv.
func fixedKey(t testing.TB, privHex string) MachineOption {
	t.Helper()
	priv, _ := btcec.PrivKeyFromBytes(unhex(t, privHex))
	return WithEphemeralKeyGen(func() (*btcec.PrivateKey, error) {
		return priv, nil
	})
}

// vectorMachine builds the Machine a handshake vector describes and checks
// the public keys it lists.
func vectorMachine(t testing.TB, v *handshakeVector) *Machine {
	t.Helper()
	initiator := v.section == "Initiator Tests"

	lsPriv, lsPub := btcec.PrivKeyFromBytes(unhex(t, v.params["ls.priv"]))
	if !bytes.Equal(lsPub.SerializeCompressed(), unhex(t, v.params["ls.pub"])) {
		t.Fatalf("ls.pub does not match ls.priv")
	}
	_, ePub := btcec.PrivKeyFromBytes(unhex(t, v.params["e.priv"]))
	if !bytes.Equal(ePub.SerializeCompressed(), unhex(t, v.params["e.pub"])) {
		t.Fatalf("e.pub does not match e.priv")
	}

	var remote *btcec.PublicKey
	if initiator {
		var err error
		remote, err = btcec.ParsePubKey(unhex(t, v.params["rs.pub"]))
		if err != nil {
			t.Fatalf("rs.pub: %v", err)
		}
	}
	m, err := NewMachine(initiator, &PrivKeyECDH{PrivKey: lsPriv}, remote,
		fixedKey(t, v.params["e.priv"]))
	if err != nil {
		t.Fatalf("NewMachine: %v", err)
	}
	return m
}

// runHandshakeVector plays a vector's steps against a Machine: each input
// feeds the role's next receive act, each output is compared with the
// role's next generated act, an error, or the final keys.
func runHandshakeVector(t *testing.T, v *handshakeVector) {
	m := vectorMachine(t, v)

	type op struct {
		recv func([]byte) error
		gen  func() ([]byte, error)
	}
	gen1 := func() ([]byte, error) { a, err := m.GenActOne(); return a[:], err }
	gen2 := func() ([]byte, error) { a, err := m.GenActTwo(); return a[:], err }
	gen3 := func() ([]byte, error) { a, err := m.GenActThree(); return a[:], err }
	var ops []op
	if m.initiator {
		ops = []op{{gen: gen1}, {recv: m.RecvActTwo}, {gen: gen3}}
	} else {
		ops = []op{{recv: m.RecvActOne}, {gen: gen2}, {recv: m.RecvActThree}}
	}

	var lastErr error
	checkedEnd := false
	for i, s := range v.steps {
		switch {
		case s.input:
			if len(ops) == 0 || ops[0].recv == nil {
				t.Fatalf("step %d: input where role does not receive", i)
			}
			lastErr = ops[0].recv(unhex(t, s.value))
			ops = ops[1:]

		case strings.HasPrefix(s.value, "ERROR"):
			m := errorRe.FindStringSubmatch(s.value)
			if m == nil {
				t.Fatalf("step %d: unparsable %q", i, s.value)
			}
			want, ok := vectorErrors[m[1]]
			if !ok {
				t.Fatalf("step %d: unknown vector error %s", i, m[1])
			}
			if !errors.Is(lastErr, want) {
				t.Fatalf("step %d: want %s (%v), got %v", i, m[1], want, lastErr)
			}
			checkedEnd = true

		case keysRe.MatchString(s.value):
			if lastErr != nil {
				t.Fatalf("step %d: unexpected error %v", i, lastErr)
			}
			km := keysRe.FindStringSubmatch(s.value)
			a, b := unhex32(t, km[2]), unhex32(t, km[3])
			sk, rk := a, b
			if km[1] == "rk,sk" {
				rk, sk = a, b
			}
			if !m.HandshakeComplete() {
				t.Fatalf("step %d: handshake not complete", i)
			}
			if m.send.key != sk {
				t.Fatalf("sk = %x, want %x", m.send.key, sk)
			}
			if m.recv.key != rk {
				t.Fatalf("rk = %x, want %x", m.recv.key, rk)
			}
			checkedEnd = true

		default:
			if lastErr != nil {
				t.Fatalf("step %d: unexpected error %v", i, lastErr)
			}
			if len(ops) == 0 || ops[0].gen == nil {
				t.Fatalf("step %d: output where role does not send", i)
			}
			got, err := ops[0].gen()
			ops = ops[1:]
			if err != nil {
				t.Fatalf("step %d: generate act: %v", i, err)
			}
			if want := unhex(t, s.value); !bytes.Equal(got, want) {
				t.Fatalf("step %d: act\n got %x\nwant %x", i, got, want)
			}
		}
	}
	if !checkedEnd {
		t.Fatalf("vector ends without an error or key check")
	}
	if lastErr != nil {
		// A failed machine must refuse to go on.
		if _, err := m.EncryptMessage(nil, []byte("x")); !errors.Is(err, ErrWrongState) {
			t.Fatalf("failed machine encrypts: %v", err)
		}
		if _, err := m.GenActTwo(); !errors.Is(err, ErrWrongState) {
			t.Fatalf("failed machine continues: %v", err)
		}
	}
}

// TestAppendixAHandshake runs every initiator and responder vector of
// BOLT 8 Appendix A.
func TestAppendixAHandshake(t *testing.T) {
	hs, _ := loadVectors(t)
	counts := map[string]int{}
	for _, v := range hs {
		counts[v.section]++
		t.Run(v.name, func(t *testing.T) {
			runHandshakeVector(t, v)
		})
	}
	// The appendix lists 5 initiator and 10 responder cases; make sure
	// the parser saw them all.
	if counts["Initiator Tests"] != 5 || counts["Responder Tests"] != 10 {
		t.Fatalf("parsed %v, want 5 initiator and 10 responder vectors", counts)
	}
}

// TestAppendixAMessages checks the "transport-message test" outputs
// through two key rotations, and that a receiver decrypts all of them.
func TestAppendixAMessages(t *testing.T) {
	_, msgs := loadVectors(t)
	if len(msgs) != 1 {
		t.Fatalf("want 1 message vector, got %d", len(msgs))
	}
	v := msgs[0]
	want := []int{0, 1, 500, 501, 1000, 1001}
	for _, n := range want {
		if _, ok := v.outputs[n]; !ok {
			t.Fatalf("vector lacks output %d", n)
		}
	}
	if len(v.outputs) != len(want) {
		t.Fatalf("vector has %d outputs, want %d", len(v.outputs), len(want))
	}

	ck, sk := unhex32(t, v.ck), unhex32(t, v.sk)
	sender := &Machine{step: stepDone, pendingLen: -1}
	sender.send.init(sk, ck, true)
	receiver := &Machine{step: stepDone, pendingLen: -1}
	receiver.recv.init(sk, ck, true)

	msg := []byte("hello")
	checked := 0
	for i := 0; i <= 1001; i++ {
		pkt, err := sender.EncryptMessage(nil, msg)
		if err != nil {
			t.Fatalf("encrypt %d: %v", i, err)
		}
		if w, ok := v.outputs[i]; ok {
			if !bytes.Equal(pkt, unhex(t, w)) {
				t.Fatalf("output %d\n got %x\nwant %s", i, pkt, w)
			}
			checked++
		}
		got, err := receiver.DecryptMessage(pkt)
		if err != nil {
			t.Fatalf("decrypt %d: %v", i, err)
		}
		if !bytes.Equal(got, msg) {
			t.Fatalf("decrypt %d: got %q", i, got)
		}
	}
	if checked != len(want) {
		t.Fatalf("checked %d outputs, want %d", checked, len(want))
	}
}

// TestAppendixAChain checks that the successful handshakes end in the
// chaining and transport keys the message vector starts from, and that
// both roles agree.
func TestAppendixAChain(t *testing.T) {
	hs, msgs := loadVectors(t)
	var ini, resp *handshakeVector
	for _, v := range hs {
		if strings.HasSuffix(v.name, "successful handshake") {
			if v.section == "Initiator Tests" {
				ini = v
			} else {
				resp = v
			}
		}
	}
	if ini == nil || resp == nil {
		t.Fatal("successful handshake vectors not found")
	}
	a := vectorMachine(t, ini)
	b := vectorMachine(t, resp)
	completeHandshake(t, a, b)

	mv := msgs[0]
	if a.send.salt != unhex32(t, mv.ck) || b.recv.salt != unhex32(t, mv.ck) {
		t.Fatalf("chaining key %x, want %s", a.send.salt, mv.ck)
	}
	if a.send.key != unhex32(t, mv.sk) || a.recv.key != unhex32(t, mv.rk) {
		t.Fatalf("initiator keys do not match the message vector")
	}
	if a.send.key != b.recv.key || a.recv.key != b.send.key {
		t.Fatalf("initiator and responder keys differ")
	}
	if !a.RemotePub().IsEqual(b.LocalPub()) || !b.RemotePub().IsEqual(a.LocalPub()) {
		t.Fatalf("static keys not learnt")
	}
}

// completeHandshake drives an initiator and a responder Machine to the end.
func completeHandshake(t testing.TB, ini, resp *Machine) {
	t.Helper()
	act1, err := ini.GenActOne()
	if err != nil {
		t.Fatalf("GenActOne: %v", err)
	}
	if err := resp.RecvActOne(act1[:]); err != nil {
		t.Fatalf("RecvActOne: %v", err)
	}
	act2, err := resp.GenActTwo()
	if err != nil {
		t.Fatalf("GenActTwo: %v", err)
	}
	if err := ini.RecvActTwo(act2[:]); err != nil {
		t.Fatalf("RecvActTwo: %v", err)
	}
	act3, err := ini.GenActThree()
	if err != nil {
		t.Fatalf("GenActThree: %v", err)
	}
	if err := resp.RecvActThree(act3[:]); err != nil {
		t.Fatalf("RecvActThree: %v", err)
	}
}
