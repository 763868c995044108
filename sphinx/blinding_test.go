package sphinx

import (
	"bytes"
	"errors"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
)

// routeBlindingVector is testdata/route-blinding-test.json (BOLT 4).
type routeBlindingVector struct {
	Generate struct {
		Hops []struct {
			Alias         string `json:"alias"`
			SessionKey    string `json:"session_key"`
			NodeID        string `json:"node_id"`
			EncodedTLVs   string `json:"encoded_tlvs"`
			PathPrivKey   string `json:"path_privkey"`
			PathKey       string `json:"path_key"`
			SharedSecret  string `json:"shared_secret"`
			Rho           string `json:"rho"`
			EncryptedData string `json:"encrypted_data"`
			BlindedNodeID string `json:"blinded_node_id"`
		} `json:"hops"`
	} `json:"generate"`
	Route struct {
		FirstNodeID  string `json:"first_node_id"`
		FirstPathKey string `json:"first_path_key"`
		Hops         []struct {
			BlindedNodeID string `json:"blinded_node_id"`
			EncryptedData string `json:"encrypted_data"`
		} `json:"hops"`
	} `json:"route"`
	Unblind struct {
		Hops []struct {
			Alias               string `json:"alias"`
			NodePrivKey         string `json:"node_privkey"`
			PathKey             string `json:"path_key"`
			BlindedPrivKey      string `json:"blinded_privkey"`
			DecryptedData       string `json:"decrypted_data"`
			NextPathKey         string `json:"next_path_key"`
			NextPathKeyOverride string `json:"next_path_key_override"`
		} `json:"hops"`
	} `json:"unblind"`
}

func TestRouteBlindingVector(t *testing.T) {
	var v routeBlindingVector
	loadJSON(t, "route-blinding-test.json", &v)
	gen := v.Generate.Hops
	if len(gen) != 4 || len(v.Route.Hops) != 4 || len(v.Unblind.Hops) != 4 {
		t.Fatal("vector shape")
	}

	// Per hop: the primitives, and the encrypted_data_tlv codec.
	for i, h := range gen {
		e := mustPriv(t, h.PathPrivKey)
		node := mustPub(t, h.NodeID)
		if !e.PubKey().IsEqual(mustPub(t, h.PathKey)) {
			t.Fatalf("%s: path key", h.Alias)
		}
		ss, err := sharedSecret(&e.Key, node)
		if err != nil || !bytes.Equal(ss[:], mustHex(t, h.SharedSecret)) {
			t.Fatalf("%s: shared secret %x %v", h.Alias, ss, err)
		}
		rho := generateKey(keyRho, ss[:])
		if !bytes.Equal(rho[:], mustHex(t, h.Rho)) {
			t.Fatalf("%s: rho", h.Alias)
		}
		enc, err := sealBlindedData(ss, mustHex(t, h.EncodedTLVs))
		if err != nil || !bytes.Equal(enc, mustHex(t, h.EncryptedData)) {
			t.Fatalf("%s: encrypted data %x", h.Alias, enc)
		}
		d, err := DecodeBlindedData(mustHex(t, h.EncodedTLVs))
		if err != nil {
			t.Fatalf("%s: %v", h.Alias, err)
		}
		re, err := d.Encode()
		if err != nil || !bytes.Equal(re, mustHex(t, h.EncodedTLVs)) {
			t.Fatalf("%s: re-encoded %x (%v)", h.Alias, re, err)
		}
		if i < 3 && (d.ShortChannelID == nil || d.PaymentRelay == nil) {
			t.Fatalf("%s: %+v", h.Alias, d)
		}
		if i == 3 && !bytes.Equal(d.PathID, []byte{0xde, 0xad, 0xbe, 0xef}) {
			t.Fatalf("Eve path_id %x", d.PathID)
		}
	}
	// Bob: scid 0x0x1729, relay 36/150/10000, constraints 748005/1500.
	bob, _ := DecodeBlindedData(mustHex(t, gen[0].EncodedTLVs))
	if *bob.ShortChannelID != 1729 || *bob.PaymentRelay != (PaymentRelay{36, 150, 10000}) ||
		*bob.PaymentConstraints != (PaymentConstraints{748005, 1500}) || len(bob.UnknownRecords) != 1 {
		t.Fatalf("Bob data %+v", bob)
	}

	// The two routes as their creators build them.
	build := func(session string, from, to int) *BlindedPath {
		var nodes []*btcec.PublicKey
		var payloads [][]byte
		for _, h := range gen[from:to] {
			nodes = append(nodes, mustPub(t, h.NodeID))
			payloads = append(payloads, mustHex(t, h.EncodedTLVs))
		}
		bp, err := BuildBlindedPath(mustPriv(t, session), nodes, payloads)
		if err != nil {
			t.Fatal(err)
		}
		for i, h := range bp.Hops {
			want := v.Route.Hops[from+i]
			if !h.BlindedNodeID.IsEqual(mustPub(t, want.BlindedNodeID)) ||
				!bytes.Equal(h.EncryptedData, mustHex(t, want.EncryptedData)) {
				t.Fatalf("hop %d of the blinded route differs", from+i)
			}
		}
		return bp
	}
	bp := build(gen[0].SessionKey, 0, 2)
	if !bp.FirstPathKey.IsEqual(mustPub(t, v.Route.FirstPathKey)) || !bp.FirstNodeID.IsEqual(mustPub(t, v.Route.FirstNodeID)) {
		t.Fatal("first node or path key")
	}
	build(gen[2].SessionKey, 2, 4)

	// Unblinding at each hop.
	for i, h := range v.Unblind.Hops {
		priv := mustPriv(t, h.NodePrivKey)
		key := PrivKeyECDH{priv}
		pathKey := mustPub(t, h.PathKey)
		plain, next, err := DecryptBlindedData(key, pathKey, mustHex(t, v.Route.Hops[i].EncryptedData))
		if err != nil {
			t.Fatalf("%s: %v", h.Alias, err)
		}
		if !bytes.Equal(plain, mustHex(t, h.DecryptedData)) {
			t.Fatalf("%s: decrypted %x", h.Alias, plain)
		}
		if !next.IsEqual(mustPub(t, h.NextPathKey)) {
			t.Fatalf("%s: next path key", h.Alias)
		}
		d, err := DecodeBlindedData(plain)
		if err != nil {
			t.Fatal(err)
		}
		if h.NextPathKeyOverride != "" && !NextPathKey(d, next).IsEqual(mustPub(t, h.NextPathKeyOverride)) {
			t.Fatalf("%s: override", h.Alias)
		}
		// The blinded private key is the node key times the tweak.
		bk, err := newBlindedECDH(key, pathKey)
		if err != nil {
			t.Fatal(err)
		}
		bpriv := priv.Key
		bpriv.Mul(&bk.tweak)
		want := mustPriv(t, h.BlindedPrivKey)
		if !bpriv.Equals(&want.Key) {
			t.Fatalf("%s: blinded private key", h.Alias)
		}
		if !btcec.PrivKeyFromScalar(&bpriv).PubKey().IsEqual(mustPub(t, v.Route.Hops[i].BlindedNodeID)) {
			t.Fatalf("%s: blinded node id", h.Alias)
		}
		// A wrong path key cannot decrypt.
		if _, _, err := DecryptBlindedData(key, next, mustHex(t, v.Route.Hops[i].EncryptedData)); !errors.Is(err, ErrBlindedData) {
			t.Fatalf("%s: wrong path key: %v", h.Alias, err)
		}
	}
}

// blindedPaymentVector is testdata/blinded-payment-onion-test.json.
type blindedPaymentVector struct {
	Generate struct {
		SessionKey     string `json:"session_key"`
		AssociatedData string `json:"associated_data"`
		FullRoute      struct {
			Hops []struct {
				Alias   string `json:"alias"`
				PubKey  string `json:"pubkey"`
				Payload string `json:"payload"`
			} `json:"hops"`
		} `json:"full_route"`
		Onion string `json:"onion"`
	} `json:"generate"`
	Decrypt struct {
		Hops []struct {
			Alias       string `json:"alias"`
			Onion       string `json:"onion"`
			NodePrivKey string `json:"node_privkey"`
			NextPathKey string `json:"next_path_key"`
		} `json:"hops"`
	} `json:"decrypt"`
}

func TestBlindedPaymentOnionVector(t *testing.T) {
	var v blindedPaymentVector
	loadJSON(t, "blinded-payment-onion-test.json", &v)
	var route []Hop
	for _, h := range v.Generate.FullRoute.Hops {
		raw := mustHex(t, h.Payload)
		l, n, err := parseBigSize(raw)
		if err != nil || int(l) != len(raw)-n {
			t.Fatalf("%s: payload prefix", h.Alias)
		}
		route = append(route, Hop{PubKey: mustPub(t, h.PubKey), Payload: raw[n:]})
	}
	ad := mustHex(t, v.Generate.AssociatedData)
	pkt, err := NewOnionPacket(route, mustPriv(t, v.Generate.SessionKey), ad)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pkt.Bytes(), mustHex(t, v.Generate.Onion)) {
		t.Fatal("onion differs")
	}

	hops := v.Decrypt.Hops
	var pathKey *btcec.PublicKey // from update_add_htlc
	for i, h := range hops {
		if !bytes.Equal(pkt.Bytes(), mustHex(t, h.Onion)) {
			t.Fatalf("%s: incoming onion differs", h.Alias)
		}
		key := PrivKeyECDH{mustPriv(t, h.NodePrivKey)}
		res, err := NewRouter(key, NewMemoryReplayLog()).ProcessBlindedOnionPacket(pkt, ad, 750000, pathKey)
		if err != nil {
			t.Fatalf("%s: %v", h.Alias, err)
		}
		if !bytes.Equal(res.Payload, route[i].Payload) {
			t.Fatalf("%s: payload %x", h.Alias, res.Payload)
		}
		p, err := DecodeHopPayload(res.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Validate(res.IsFinal(), pathKey != nil); err != nil {
			t.Fatalf("%s: %v", h.Alias, err)
		}
		if res.IsFinal() != (i == len(hops)-1) {
			t.Fatalf("%s: final %v", h.Alias, res.IsFinal())
		}
		if p.EncryptedRecipientData == nil {
			if h.NextPathKey != "" {
				t.Fatalf("%s: expected blinded data", h.Alias)
			}
			pkt = res.NextPacket
			continue
		}
		pk := pathKey
		if pk == nil {
			pk = p.CurrentPathKey
		}
		plain, next, err := DecryptBlindedData(key, pk, p.EncryptedRecipientData)
		if err != nil {
			t.Fatalf("%s: %v", h.Alias, err)
		}
		d, err := DecodeBlindedData(plain)
		if err != nil {
			t.Fatalf("%s: %v", h.Alias, err)
		}
		pathKey = NextPathKey(d, next)
		if h.NextPathKey != "" && !pathKey.IsEqual(mustPub(t, h.NextPathKey)) {
			t.Fatalf("%s: next path key", h.Alias)
		}
		pkt = res.NextPacket
	}
}

func TestPaymentRelayForwardAmount(t *testing.T) {
	// The blinded payment vector's chain: Alice sends 110125 to Bob; Bob
	// (10000 base, 0 ppm), Carol (100 base, 150 ppm) and Dave (0 base,
	// 100 ppm) each take their fee and Eve receives 100000.
	amt := uint64(110125)
	for _, r := range []PaymentRelay{
		{FeeBaseMsat: 10000},
		{FeeBaseMsat: 100, FeeProportionalMillionths: 150},
		{FeeProportionalMillionths: 100},
	} {
		amt = r.ForwardAmount(amt)
	}
	if amt != 100000 {
		t.Fatalf("Eve receives %d", amt)
	}
	if (PaymentRelay{FeeBaseMsat: 100}).ForwardAmount(50) != 0 {
		t.Fatal("below base fee")
	}
}

func TestDecodeBlindedDataErrors(t *testing.T) {
	for name, b := range map[string][]byte{
		"bad stream":         {2, 9},
		"unknown even":       rec(20, nil),
		"short scid":         rec(2, []byte{1}),
		"bad next node":      rec(4, make([]byte, 33)),
		"short relay":        rec(10, []byte{1, 2, 3}),
		"relay fee too long": rec(10, make([]byte, 11)),
		"short constraints":  rec(12, []byte{1}),
	} {
		if _, err := DecodeBlindedData(b); !errors.Is(err, ErrBlindedData) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
