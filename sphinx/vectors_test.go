package sphinx

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
)

// onionVector is testdata/onion-test.json (BOLT 4).
type onionVector struct {
	Generate struct {
		SessionKey     string `json:"session_key"`
		AssociatedData string `json:"associated_data"`
		Hops           []struct {
			PubKey  string `json:"pubkey"`
			Payload string `json:"payload"`
		} `json:"hops"`
	} `json:"generate"`
	Onion  string   `json:"onion"`
	Decode []string `json:"decode"`
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func mustPub(t testing.TB, s string) *btcec.PublicKey {
	t.Helper()
	k, err := btcec.ParsePubKey(mustHex(t, s))
	if err != nil {
		t.Fatalf("bad pubkey %s: %v", s, err)
	}
	return k
}

func mustPriv(t testing.TB, s string) *btcec.PrivateKey {
	t.Helper()
	k, _ := btcec.PrivKeyFromBytes(mustHex(t, s))
	return k
}

func loadJSON(t testing.TB, name string, v any) {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// vectorRoute returns the route of onion-test.json with each payload's
// BigSize length prefix stripped (the file carries it).
func vectorRoute(t testing.TB, v *onionVector) []Hop {
	t.Helper()
	route := make([]Hop, len(v.Generate.Hops))
	for i, h := range v.Generate.Hops {
		raw := mustHex(t, h.Payload)
		l, n, err := parseBigSize(raw)
		if err != nil || int(l) != len(raw)-n {
			t.Fatalf("hop %d: payload length prefix %d/%d: %v", i, l, len(raw)-n, err)
		}
		route[i] = Hop{PubKey: mustPub(t, h.PubKey), Payload: raw[n:]}
	}
	return route
}

func TestOnionVectorBuild(t *testing.T) {
	var v onionVector
	loadJSON(t, "onion-test.json", &v)
	route := vectorRoute(t, &v)
	session := mustPriv(t, v.Generate.SessionKey)
	ad := mustHex(t, v.Generate.AssociatedData)

	pkt, err := NewOnionPacket(route, session, ad)
	if err != nil {
		t.Fatal(err)
	}
	want := mustHex(t, v.Onion)
	if got := pkt.Bytes(); !bytes.Equal(got, want) {
		t.Fatalf("onion mismatch\n got %x\nwant %x", got, want)
	}
}

func TestOnionVectorProcess(t *testing.T) {
	var v onionVector
	loadJSON(t, "onion-test.json", &v)
	route := vectorRoute(t, &v)
	session := mustPriv(t, v.Generate.SessionKey)
	ad := mustHex(t, v.Generate.AssociatedData)
	if len(v.Decode) != len(route) {
		t.Fatalf("%d private keys for %d hops", len(v.Decode), len(route))
	}
	secrets, err := SharedSecrets(session, pathOf(route))
	if err != nil {
		t.Fatal(err)
	}

	pkt, err := DecodeOnionPacket(mustHex(t, v.Onion))
	if err != nil {
		t.Fatal(err)
	}
	for i, privHex := range v.Decode {
		priv := mustPriv(t, privHex)
		if !priv.PubKey().IsEqual(route[i].PubKey) {
			t.Fatalf("hop %d: private key does not match the route's pubkey", i)
		}
		r := NewRouter(PrivKeyECDH{priv}, NewMemoryReplayLog())
		res, err := r.ProcessOnionPacket(pkt, ad, 500)
		if err != nil {
			t.Fatalf("hop %d: %v", i, err)
		}
		if !bytes.Equal(res.Payload, route[i].Payload) {
			t.Fatalf("hop %d payload\n got %x\nwant %x", i, res.Payload, route[i].Payload)
		}
		if res.SharedSecret != secrets[i] {
			t.Fatalf("hop %d: shared secret %x, origin computed %x", i, res.SharedSecret, secrets[i])
		}
		final := i == len(route)-1
		if res.IsFinal() != final {
			t.Fatalf("hop %d: IsFinal=%v", i, res.IsFinal())
		}
		if !final {
			// The forwarded packet must serialize and parse back.
			pkt, err = DecodeOnionPacket(res.NextPacket.Bytes())
			if err != nil {
				t.Fatal(err)
			}
		}
	}
}

func pathOf(route []Hop) []*btcec.PublicKey {
	p := make([]*btcec.PublicKey, len(route))
	for i, h := range route {
		p[i] = h.PubKey
	}
	return p
}
