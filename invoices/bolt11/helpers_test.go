package bolt11

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
)

// jsonField is one expected tagged field in testdata/examples.json.
type jsonField struct {
	Type    string    `json:"type"`
	Hex     string    `json:"hex"`
	Text    *string   `json:"text"`
	Value   *uint64   `json:"value"`
	Address string    `json:"address"`
	Hops    []jsonHop `json:"hops"`
	Bits    []uint16  `json:"bits"`
	Raw     *string   `json:"raw"`
}

type jsonHop struct {
	PubKey         string `json:"pubkey"`
	ShortChannelID string `json:"short_channel_id"`
	FeeBase        uint32 `json:"fee_base_msat"`
	FeeProp        uint32 `json:"fee_proportional_millionths"`
	CLTVDelta      uint16 `json:"cltv_expiry_delta"`
}

type jsonExample struct {
	Name        string      `json:"name"`
	Invoice     string      `json:"invoice"`
	Prefix      string      `json:"prefix"`
	AmountMSat  uint64      `json:"amount_msat"`
	Timestamp   int64       `json:"timestamp"`
	Payee       string      `json:"payee"`
	Fields      []jsonField `json:"fields"`
	Signature   string      `json:"signature"`
	RecoveryID  *byte       `json:"recovery_id"`
	SigningData string      `json:"signing_data"`
	SigningHash string      `json:"signing_hash"`
	EncodesTo   string      `json:"encodes_to"`
	HighS       bool        `json:"high_s"`
	LowSTwin    string      `json:"low_s_twin"`
}

type examplesFile struct {
	Source     string        `json:"source"`
	PrivateKey string        `json:"private_key"`
	Examples   []jsonExample `json:"examples"`
}

type invalidExample struct {
	Name    string `json:"name"`
	Invoice string `json:"invoice"`
	Error   string `json:"error"`
}

type invalidFile struct {
	Source   string           `json:"source"`
	Examples []invalidExample `json:"examples"`
}

func loadJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("hex %q: %v", s, err)
	}
	return b
}

func mustKey(t testing.TB, s string) *btcec.PublicKey {
	t.Helper()
	k, err := btcec.ParsePubKey(mustHex(t, s))
	if err != nil {
		t.Fatalf("pubkey %q: %v", s, err)
	}
	return k
}

// specKey is the private key every BOLT 11 example is signed with.
func specKey(t testing.TB) *btcec.PrivateKey {
	t.Helper()
	var f examplesFile
	loadJSON(t, "testdata/examples.json", &f)
	k, _ := btcec.PrivKeyFromBytes(mustHex(t, f.PrivateKey))
	return k
}

func parseSCID(t testing.TB, s string) ShortChannelID {
	t.Helper()
	var b, tx uint32
	var o uint16
	if _, err := fmt.Sscanf(s, "%dx%dx%d", &b, &tx, &o); err != nil {
		t.Fatalf("scid %q: %v", s, err)
	}
	return NewShortChannelID(b, tx, o)
}

// fromBech32Chars maps bech32 characters to 5-bit values.
func fromBech32Chars(t testing.TB, s string) []byte {
	t.Helper()
	out := make([]byte, len(s))
	for i := 0; i < len(s); i++ {
		v := charValue[s[i]]
		if v < 0 {
			t.Fatalf("not bech32: %q", s)
		}
		out[i] = byte(v)
	}
	return out
}

// buildField turns an expected field from the JSON file into a Field.
func buildField(t testing.TB, jf jsonField, net *chaincfg.Params) Field {
	t.Helper()
	ft := FieldType(charValue[jf.Type[0]])
	if jf.Raw != nil {
		return RawField{Tag: ft, Data: fromBech32Chars(t, *jf.Raw)}
	}
	switch ft {
	case FieldPaymentHash:
		return PaymentHash(mustHex(t, jf.Hex))
	case FieldPaymentSecret:
		return PaymentSecret(mustHex(t, jf.Hex))
	case FieldDescriptionHash:
		return DescriptionHash(mustHex(t, jf.Hex))
	case FieldDescription:
		return Description(*jf.Text)
	case FieldMetadata:
		return Metadata(mustHex(t, jf.Hex))
	case FieldExpiry:
		return Expiry(*jf.Value)
	case FieldMinFinalCLTV:
		return MinFinalCLTVExpiryDelta(*jf.Value)
	case FieldPayee:
		return Payee{Key: mustKey(t, jf.Hex)}
	case FieldFeatures:
		var f Features
		for _, b := range jf.Bits {
			f.Set(FeatureBit(b))
		}
		return f
	case FieldFallback:
		addr, err := btcutil.DecodeAddress(jf.Address, net)
		if err != nil {
			t.Fatalf("address %q: %v", jf.Address, err)
		}
		return Fallback{Address: addr}
	case FieldRouteHint:
		var r RouteHint
		for _, h := range jf.Hops {
			r = append(r, HopHint{
				NodeID:                    mustKey(t, h.PubKey),
				ChannelID:                 parseSCID(t, h.ShortChannelID),
				FeeBaseMSat:               h.FeeBase,
				FeeProportionalMillionths: h.FeeProp,
				CLTVExpiryDelta:           h.CLTVDelta,
			})
		}
		return r
	}
	t.Fatalf("unknown field type %q", jf.Type)
	return nil
}

// fieldsEqual compares two fields by value, keys by serialization and
// addresses by string and type.
func fieldsEqual(a, b Field) bool {
	if a.Type() != b.Type() {
		return false
	}
	switch x := a.(type) {
	case Payee:
		y, ok := b.(Payee)
		return ok && x.Key.IsEqual(y.Key)
	case Fallback:
		y, ok := b.(Fallback)
		return ok && fmt.Sprintf("%T", x.Address) ==
			fmt.Sprintf("%T", y.Address) &&
			x.Address.EncodeAddress() == y.Address.EncodeAddress()
	case RouteHint:
		y, ok := b.(RouteHint)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !x[i].NodeID.IsEqual(y[i].NodeID) ||
				x[i].ChannelID != y[i].ChannelID ||
				x[i].FeeBaseMSat != y[i].FeeBaseMSat ||
				x[i].FeeProportionalMillionths !=
					y[i].FeeProportionalMillionths ||
				x[i].CLTVExpiryDelta != y[i].CLTVExpiryDelta {

				return false
			}
		}
		return true
	case Features:
		y, ok := b.(Features)
		return ok && x.Equal(y)
	case Metadata:
		y, ok := b.(Metadata)
		return ok && bytes.Equal(x, y)
	case RawField:
		y, ok := b.(RawField)
		return ok && x.Tag == y.Tag && bytes.Equal(x.Data, y.Data)
	}
	return a == b
}

func assertFields(t *testing.T, got, want []Field) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d fields, want %d:\n got  %v\n want %v",
			len(got), len(want), got, want)
	}
	for i := range got {
		if !fieldsEqual(got[i], want[i]) {
			t.Errorf("field %d: got %v %#v, want %v %#v", i,
				got[i].Type(), got[i], want[i].Type(), want[i])
		}
	}
}

// replaySigner returns a Signer that hands back a decoded invoice's own
// signature, so that it re-encodes without the key.
func replaySigner(inv *Invoice) Signer {
	return func([]byte) ([]byte, error) {
		sig, ok := inv.Signature()
		if !ok {
			return nil, fmt.Errorf("no signature")
		}
		out := make([]byte, 65)
		out[0] = 27 + 4 + sig[64]
		copy(out[1:], sig[:64])
		return out, nil
	}
}
