package tlv

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
)

// The two example namespaces of BOLT 1 Appendix B. Each decoder returns the
// decoded fields rendered as "record field=value" strings, in the notation
// of the appendix's "Values" lines.

type namespace struct {
	known  func(uint64) bool
	decode func(Record) ([]string, error)
}

var namespaces = map[string]namespace{
	"n1": {
		known: func(t uint64) bool {
			return t == 1 || t == 2 || t == 3 || t == 254
		},
		decode: decodeN1,
	},
	"n2": {
		known:  func(t uint64) bool { return t == 0 || t == 11 },
		decode: decodeN2,
	},
}

var errLength = errors.New("wrong length for known type")

func decodeN1(r Record) ([]string, error) {
	v := r.Value
	switch r.Type {
	case 1:
		amt, err := DecodeTU64(v)
		if err != nil {
			return nil, err
		}
		return []string{fmt.Sprintf("tlv1 amount_msat=%d", amt)}, nil
	case 2:
		if len(v) != 8 {
			return nil, errLength
		}
		scid := binary.BigEndian.Uint64(v)
		return []string{fmt.Sprintf("tlv2 scid=%dx%dx%d", scid>>40,
			scid>>16&0xffffff, scid&0xffff)}, nil
	case 3:
		if len(v) != 33+8+8 {
			return nil, errLength
		}
		if _, err := btcec.ParsePubKey(v[:33]); err != nil {
			return nil, err
		}
		return []string{
			fmt.Sprintf("tlv3 node_id=%x", v[:33]),
			fmt.Sprintf("tlv3 amount_msat_1=%d",
				binary.BigEndian.Uint64(v[33:41])),
			fmt.Sprintf("tlv3 amount_msat_2=%d",
				binary.BigEndian.Uint64(v[41:49])),
		}, nil
	case 254:
		if len(v) != 2 {
			return nil, errLength
		}
		return []string{fmt.Sprintf("tlv4 cltv_delta=%d",
			binary.BigEndian.Uint16(v))}, nil
	}
	return nil, nil
}

func decodeN2(r Record) ([]string, error) {
	switch r.Type {
	case 0:
		amt, err := DecodeTU64(r.Value)
		if err != nil {
			return nil, err
		}
		return []string{fmt.Sprintf("tlv1 amount_msat=%d", amt)}, nil
	case 11:
		cltv, err := DecodeTU32(r.Value)
		if err != nil {
			return nil, err
		}
		return []string{fmt.Sprintf("tlv2 cltv_expiry=%d", cltv)}, nil
	}
	return nil, nil
}

// decodeIn decodes b as a stream of namespace ns the way a message decoder
// would: stream rules, then unknown even types, then every known record.
func decodeIn(ns namespace, b []byte) ([]string, error) {
	s, err := DecodeStream(b)
	if err != nil {
		return nil, err
	}
	if err := s.CheckUnknownEven(ns.known); err != nil {
		return nil, err
	}
	var out []string
	for _, r := range s {
		if !ns.known(r.Type) {
			continue
		}
		f, err := ns.decode(r)
		if err != nil {
			return nil, fmt.Errorf("type %d: %w", r.Type, err)
		}
		out = append(out, f...)
	}
	return out, nil
}

type streamVector struct {
	Section    string   `json:"section"`
	Namespaces []string `json:"namespaces"`
	Stream     string   `json:"stream"`
	Valid      bool     `json:"valid"`
	Reason     string   `json:"reason"`
	Values     string   `json:"values"`
}

var valuesRE = regexp.MustCompile("`([a-z_0-9]+)`=([0-9a-fx]+)")

// parseValues turns "`tlv3` `node_id`=02.. `amount_msat_1`=1" into
// ["tlv3 node_id=02..", "tlv3 amount_msat_1=1"].
func parseValues(t *testing.T, s string) []string {
	t.Helper()
	rec := strings.Trim(strings.Fields(s)[0], "`")
	var out []string
	for _, m := range valuesRE.FindAllStringSubmatch(s, -1) {
		out = append(out, fmt.Sprintf("%s %s=%s", rec, m[1], m[2]))
	}
	if len(out) == 0 {
		t.Fatalf("no values in %q", s)
	}
	return out
}

func TestTLVStreamVectors(t *testing.T) {
	var vecs []streamVector
	loadVectors(t, "tlv_streams.json", &vecs)
	if len(vecs) != 57 {
		t.Fatalf("want 57 stream vectors, have %d", len(vecs))
	}
	var fails, oks int
	for i, v := range vecs {
		for _, nsName := range v.Namespaces {
			ns := namespaces[nsName]
			name := fmt.Sprintf("%d/%s/%s", i, nsName, v.Stream)
			t.Run(name, func(t *testing.T) {
				in := mustHex(t, v.Stream)
				got, err := decodeIn(ns, in)
				if !v.Valid {
					if err == nil {
						t.Fatalf("%s (%s): decoded to %v", v.Reason,
							v.Section, got)
					}
					fails++
					return
				}
				if err != nil {
					t.Fatalf("valid stream failed: %v", err)
				}
				oks++
				var want []string
				if v.Values != "" {
					want = parseValues(t, v.Values)
				}
				if strings.Join(got, ";") != strings.Join(want, ";") {
					t.Fatalf("values: want %v, got %v", want, got)
				}
				// A decoded valid stream re-encodes to its input.
				s, _ := DecodeStream(in)
				if enc := s.Encode(); !bytes.Equal(enc, in) {
					t.Fatalf("re-encode: want %x, got %x", in, enc)
				}
			})
		}
	}
	// 9+4 any-namespace failures in both namespaces, 20 n1 failures, 7
	// ignored successes in both, 12 n1 successes, 4+1 ordering failures.
	if fails != 2*13+20+5 || oks != 2*7+12 {
		t.Fatalf("ran %d failing and %d passing cases", fails, oks)
	}
}

// TestTLVStreamAppending covers the two composition rules of BOLT 1
// Appendix B "TLV Stream Decoding Failure": valid||invalid fails, and
// valid||valid succeeds when the second starts above the first's last type.
func TestTLVStreamAppending(t *testing.T) {
	var vecs []streamVector
	loadVectors(t, "tlv_streams.json", &vecs)
	for _, nsName := range []string{"n1", "n2"} {
		ns := namespaces[nsName]
		var valid, invalid [][]byte
		for _, v := range vecs {
			if !contains(v.Namespaces, nsName) {
				continue
			}
			if v.Valid {
				valid = append(valid, mustHex(t, v.Stream))
			} else {
				invalid = append(invalid, mustHex(t, v.Stream))
			}
		}
		var pairs int
		for _, a := range valid {
			for _, b := range invalid {
				in := append(append([]byte{}, a...), b...)
				if _, err := decodeIn(ns, in); err == nil {
					t.Errorf("%s: valid %x + invalid %x decoded", nsName,
						a, b)
				}
				pairs++
			}
			for _, b := range valid {
				sa, _ := DecodeStream(a)
				sb, _ := DecodeStream(b)
				if len(sa) == 0 || len(sb) == 0 ||
					sb[0].Type <= sa[len(sa)-1].Type {
					continue
				}
				in := append(append([]byte{}, a...), b...)
				if _, err := decodeIn(ns, in); err != nil {
					t.Errorf("%s: valid %x + valid %x: %v", nsName, a,
						b, err)
				}
				pairs++
			}
		}
		if pairs < 100 {
			t.Fatalf("%s: only %d combinations", nsName, pairs)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestDecodeStreamErrors(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{"fd", io.ErrUnexpectedEOF},
		{"fd0001", ErrNonCanonical},
		{"0f", io.ErrUnexpectedEOF},
		{"0ffd2602", ErrRecordTooLong},
		{"0f02aa", ErrRecordTooLong},
		{"0201aa0101bb", ErrNotIncreasing},
		{"0101aa0101bb", ErrDuplicateType},
		{"ff0100000000000000fe0100000000", ErrRecordTooLong},
	}
	for _, tc := range tests {
		_, err := DecodeStream(mustHex(t, tc.in))
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: want %v, got %v", tc.in, tc.want, err)
		}
	}
	s, err := DecodeStream(mustHex(t, "0200"))
	if err != nil {
		t.Fatal(err)
	}
	err = s.CheckUnknownEven(nil)
	if !errors.Is(err, ErrUnknownEvenType) || !strings.Contains(err.Error(), "2") {
		t.Fatalf("want unknown even type 2, got %v", err)
	}
}

func TestStreamSetGet(t *testing.T) {
	var s Stream
	s.Set(5, []byte{5})
	s.Set(1, []byte{1})
	s.Set(300, []byte{3, 0, 0})
	s.Set(3, nil)
	s.Set(5, []byte{0x55})
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	want := "0101010300050155fd012c03030000"
	if got := hex.EncodeToString(s.Encode()); got != want {
		t.Fatalf("encode: want %s, got %s", want, got)
	}
	if len(s.Encode()) != s.EncodedLen() {
		t.Fatal("EncodedLen mismatch")
	}
	if v, ok := s.Get(5); !ok || !bytes.Equal(v, []byte{0x55}) {
		t.Fatalf("Get(5) = %x, %v", v, ok)
	}
	if _, ok := s.Get(4); ok {
		t.Fatal("Get(4) found")
	}
	if v, ok := s.Get(3); !ok || len(v) != 0 {
		t.Fatal("empty record lost")
	}
	s.Delete(3)
	if _, ok := s.Get(3); ok || len(s) != 3 {
		t.Fatal("Delete failed")
	}
	bad := Stream{{Type: 2}, {Type: 1}}
	if err := bad.Validate(); !errors.Is(err, ErrNotIncreasing) {
		t.Fatalf("Validate: %v", err)
	}
	if Stream(nil).Encode() != nil {
		t.Fatal("empty stream encodes to bytes")
	}
}
