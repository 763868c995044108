package shachain

import (
	"bufio"
	"encoding/hex"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

// vectorCase is one named case of BOLT 3 Appendix D.
type vectorCase struct {
	name  string
	seed  string
	steps []vectorStep
}

type vectorStep struct {
	index  uint64
	secret string // storage tests: the inserted secret
	output string // generation: expected secret; storage: OK or ERROR
}

func parseIndex(t *testing.T, s string) uint64 {
	t.Helper()
	var (
		v   uint64
		err error
	)
	if strings.HasPrefix(s, "0x") {
		v, err = strconv.ParseUint(s[2:], 16, 64)
	} else {
		v, err = strconv.ParseUint(s, 10, 64)
	}
	if err != nil {
		t.Fatalf("bad index %q: %v", s, err)
	}
	return v
}

func hex32(t *testing.T, s string) [32]byte {
	t.Helper()
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil || len(b) != 32 {
		t.Fatalf("bad 32-byte hex %q: %v", s, err)
	}
	var out [32]byte
	copy(out[:], b)
	return out
}

// loadAppendixD parses testdata/bolt03-appendix-d.txt into generation and
// storage cases.
func loadAppendixD(t *testing.T) (gen, store []vectorCase) {
	t.Helper()
	f, err := os.Open("testdata/bolt03-appendix-d.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	var (
		section string
		cur     *vectorCase
		cases   = map[string]*[]vectorCase{}
	)
	cases["gen"], cases["store"] = &gen, &store
	flush := func() {
		if cur != nil {
			*cases[section] = append(*cases[section], *cur)
			cur = nil
		}
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "## Generation Tests":
			flush()
			section = "gen"
			continue
		case line == "## Storage Tests":
			flush()
			section = "store"
			continue
		}
		key, val, ok := strings.Cut(line, ": ")
		if !ok || section == "" {
			continue
		}
		switch key {
		case "name":
			flush()
			cur = &vectorCase{name: val}
		case "seed":
			cur.seed = val
		case "I":
			cur.steps = append(cur.steps,
				vectorStep{index: parseIndex(t, val)})
		case "secret":
			cur.steps[len(cur.steps)-1].secret = val
		case "output":
			cur.steps[len(cur.steps)-1].output = val
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return gen, store
}

func TestGenerateFromSeed(t *testing.T) {
	gen, _ := loadAppendixD(t)
	if len(gen) != 5 {
		t.Fatalf("parsed %d generation vectors, want 5", len(gen))
	}
	for _, tc := range gen {
		t.Run(tc.name, func(t *testing.T) {
			p := NewProducer(hex32(t, tc.seed))
			for _, st := range tc.steps {
				got, err := p.AtIndex(st.index)
				if err != nil {
					t.Fatal(err)
				}
				if want := hex32(t, st.output); got != want {
					t.Fatalf("index %d: got %x want %x",
						st.index, got, want)
				}
			}
		})
	}
}

func TestStoreVectors(t *testing.T) {
	_, store := loadAppendixD(t)
	if len(store) != 9 {
		t.Fatalf("parsed %d storage vectors, want 9", len(store))
	}
	for _, tc := range store {
		t.Run(tc.name, func(t *testing.T) {
			s := NewStore()
			for i, st := range tc.steps {
				secret := hex32(t, st.secret)
				err := s.Insert(st.index, secret)
				switch st.output {
				case "OK":
					if err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
					got, err := s.LookUp(st.index)
					if err != nil || got != secret {
						t.Fatalf("step %d: look up: %x %v",
							i, got, err)
					}
				case "ERROR":
					if !errors.Is(err, ErrSecretMismatch) {
						t.Fatalf("step %d: got %v, want "+
							"ErrSecretMismatch", i, err)
					}
				default:
					t.Fatalf("unknown output %q", st.output)
				}
			}
		})
	}
}

// TestStoreLongRun inserts a long run of secrets from one seed and checks
// that every one of them can be looked up afterwards, that the store stays
// within 49 buckets, and that it survives a serialization round trip.
func TestStoreLongRun(t *testing.T) {
	var seed [32]byte
	for i := range seed {
		seed[i] = byte(i * 7)
	}
	p := NewProducer(seed)
	s := NewStore()
	const n = 5000
	for c := uint64(0); c < n; c++ {
		sec, err := p.ForCommitment(c)
		if err != nil {
			t.Fatal(err)
		}
		idx, _ := IndexForCommitment(c)
		if err := s.Insert(idx, sec); err != nil {
			t.Fatalf("commitment %d: %v", c, err)
		}
		if s.Len() > numBuckets {
			t.Fatalf("store grew to %d", s.Len())
		}

		// Round-trip every few steps and continue on the copy.
		if c%97 == 0 {
			b, _ := s.MarshalBinary()
			var s2 Store
			if err := s2.UnmarshalBinary(b); err != nil {
				t.Fatalf("commitment %d: decode: %v", c, err)
			}
			s = &s2
		}
	}
	for c := uint64(0); c < n; c++ {
		want, _ := p.ForCommitment(c)
		got, err := s.LookUpCommitment(c)
		if err != nil || got != want {
			t.Fatalf("commitment %d: %x %v", c, got, err)
		}
	}
	if _, err := s.LookUpCommitment(n); !errors.Is(err, ErrUnknownIndex) {
		t.Fatalf("unreceived commitment: %v", err)
	}
}

func TestStoreOrdering(t *testing.T) {
	p := NewProducer([32]byte{1})
	s := NewStore()
	sec, _ := p.AtIndex(MaxIndex - 1)
	if err := s.Insert(MaxIndex-1, sec); !errors.Is(err,
		ErrUnexpectedIndex) {

		t.Fatalf("first insert below MaxIndex: %v", err)
	}
	sec, _ = p.AtIndex(MaxIndex)
	if err := s.Insert(MaxIndex, sec); err != nil {
		t.Fatal(err)
	}
	if err := s.Insert(MaxIndex, sec); !errors.Is(err,
		ErrUnexpectedIndex) {

		t.Fatalf("repeated insert: %v", err)
	}
	if _, err := p.AtIndex(MaxIndex + 1); !errors.Is(err,
		ErrIndexOutOfRange) {

		t.Fatalf("index past 48 bits: %v", err)
	}
}

func TestStoreDecodeRejects(t *testing.T) {
	p := NewProducer([32]byte{2})
	s := NewStore()
	for c := uint64(0); c < 10; c++ {
		sec, _ := p.ForCommitment(c)
		idx, _ := IndexForCommitment(c)
		if err := s.Insert(idx, sec); err != nil {
			t.Fatal(err)
		}
	}
	good, _ := s.MarshalBinary()

	tests := []struct {
		name string
		mut  func([]byte) []byte
	}{
		{"empty", func([]byte) []byte { return nil }},
		{"truncated", func(b []byte) []byte { return b[:len(b)-1] }},
		{"too many buckets", func(b []byte) []byte {
			b[0] = 50
			return b
		}},
		{"count mismatch", func(b []byte) []byte {
			b[0]--
			return b
		}},
		{"wrong index", func(b []byte) []byte {
			b[8] ^= 0x04
			return b
		}},
		{"index past 48 bits", func(b []byte) []byte {
			b[1] = 0xff
			return b
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.mut(append([]byte(nil), good...))
			var d Store
			if err := d.UnmarshalBinary(b); !errors.Is(err,
				ErrInvalidEncoding) {

				t.Fatalf("got %v, want ErrInvalidEncoding", err)
			}
		})
	}
}

func FuzzStoreDecode(f *testing.F) {
	p := NewProducer([32]byte{3})
	s := NewStore()
	f.Add([]byte{0})
	for c := uint64(0); c < 20; c++ {
		sec, _ := p.ForCommitment(c)
		idx, _ := IndexForCommitment(c)
		_ = s.Insert(idx, sec)
		b, _ := s.MarshalBinary()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var d Store
		if err := d.UnmarshalBinary(data); err != nil {
			return
		}
		out, _ := d.MarshalBinary()
		if string(out) != string(data) {
			t.Fatalf("round trip changed the encoding")
		}
		// A decoded store must accept queries without panicking.
		_, _ = d.LookUp(d.NextIndex())
		_ = d.Insert(d.NextIndex(), [32]byte{})
	})
}
