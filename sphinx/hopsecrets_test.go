package sphinx

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"math/rand"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
)

// hopSecretsBtcec is hopSecrets written on btcec alone, as it was before
// the payer moved to internal/vartime: the reference the fast path must
// match.
func hopSecretsBtcec(sessionKey *btcec.PrivateKey, path []*btcec.PublicKey) ([]Hash256, *btcec.PublicKey, error) {
	secrets := make([]Hash256, len(path))
	var first *btcec.PublicKey
	e := sessionKey.Key
	for i, hop := range path {
		epk := btcec.PrivKeyFromScalar(&e).PubKey()
		if i == 0 {
			first = epk
		}
		var p, r btcec.JacobianPoint
		hop.AsJacobian(&p)
		btcec.ScalarMultNonConst(&e, &p, &r)
		r.ToAffine()
		secrets[i] = sha256.Sum256(btcec.NewPublicKey(&r.X, &r.Y).SerializeCompressed())
		b, err := blindingFactor(epk, secrets[i])
		if err != nil {
			return nil, nil, err
		}
		e.Mul(&b)
	}
	return secrets, first, nil
}

// TestHopSecretsMatchBtcec checks the shared secrets and the first
// ephemeral key of routes of 1 to 27 hops under random session keys
// (including scalars with many zero bytes, which the base-point table
// skips) against btcec.
func TestHopSecretsMatchBtcec(t *testing.T) {
	r := rand.New(rand.NewSource(14))
	for trial := 0; trial < 60; trial++ {
		var b [32]byte
		r.Read(b[:])
		if trial%5 == 0 {
			// Sparse scalars: zero bytes and a small top.
			for j := range b {
				if r.Intn(3) > 0 {
					b[j] = 0
				}
			}
			b[31] |= 1
		}
		session, _ := btcec.PrivKeyFromBytes(b[:])
		n := 1 + trial%27
		path := make([]*btcec.PublicKey, n)
		for i := range path {
			var kb [32]byte
			r.Read(kb[:])
			k, _ := btcec.PrivKeyFromBytes(kb[:])
			path[i] = k.PubKey()
		}
		got, gotFirst, err := hopSecrets(session, path)
		if err != nil {
			t.Fatal(err)
		}
		want, wantFirst, err := hopSecretsBtcec(session, path)
		if err != nil {
			t.Fatal(err)
		}
		if !gotFirst.IsEqual(wantFirst) || !gotFirst.IsEqual(session.PubKey()) {
			t.Fatalf("trial %d: first ephemeral key %x, want %x", trial,
				gotFirst.SerializeCompressed(), wantFirst.SerializeCompressed())
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("trial %d hop %d: secret %x, want %x", trial, i, got[i], want[i])
			}
		}
	}
}

func TestHopSecretsInvalid(t *testing.T) {
	keys := testKeys(2, 3)
	path := []*btcec.PublicKey{keys[0].PubKey(), nil}
	if _, _, err := hopSecrets(keys[1], path); err != ErrInvalidKey {
		t.Fatalf("nil hop: %v", err)
	}
	if _, _, err := hopSecrets(nil, path[:1]); err != ErrInvalidKey {
		t.Fatalf("nil session key: %v", err)
	}
	var zero btcec.ModNScalar
	if _, _, err := hopSecrets(btcec.PrivKeyFromScalar(&zero), path[:1]); err != ErrInvalidKey {
		t.Fatalf("zero session key: %v", err)
	}
}

// TestHopTablesMatchBtcec builds onions to a few recurring keys through a
// HopTables, so that their comb tables come into use, and checks every
// secret against btcec; then the onion bytes against NewOnionPacket's.
func TestHopTablesMatchBtcec(t *testing.T) {
	r := rand.New(rand.NewSource(17))
	peers := testKeys(3, 0x31)
	tables := NewHopTables()
	for trial := 0; trial < 40; trial++ {
		var b [32]byte
		r.Read(b[:])
		session, _ := btcec.PrivKeyFromBytes(b[:])
		// A recurring first hop, then fresh or recurring keys.
		path := []*btcec.PublicKey{peers[trial%2].PubKey()}
		for i := 0; i < trial%4; i++ {
			if r.Intn(2) == 0 {
				path = append(path, peers[2].PubKey())
				continue
			}
			var kb [32]byte
			r.Read(kb[:])
			k, _ := btcec.PrivKeyFromBytes(kb[:])
			path = append(path, k.PubKey())
		}
		got, gotFirst, err := hopSecretsWith(session, path, tables)
		if err != nil {
			t.Fatal(err)
		}
		want, wantFirst, err := hopSecretsBtcec(session, path)
		if err != nil {
			t.Fatal(err)
		}
		if !gotFirst.IsEqual(wantFirst) {
			t.Fatalf("trial %d: first ephemeral key differs", trial)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("trial %d hop %d: secret %x, want %x", trial, i, got[i], want[i])
			}
		}
		route := make([]Hop, len(path))
		for i := range path {
			route[i] = Hop{PubKey: path[i], Payload: []byte{byte(i), 1, 2}}
		}
		a, err := tables.NewOnionPacket(route, session, b[:])
		if err != nil {
			t.Fatal(err)
		}
		c, err := NewOnionPacket(route, session, b[:])
		if err != nil {
			t.Fatal(err)
		}
		if a.Hash() != c.Hash() {
			t.Fatalf("trial %d: onions differ", trial)
		}
	}
	for i := 0; i < 2; i++ {
		key := [PubKeySize]byte(peers[i].PubKey().SerializeCompressed())
		if e := tables.keys[key]; e == nil || e.table == nil {
			t.Fatalf("peer %d has no table after %d uses", i, e.uses)
		}
	}
}

// TestHopTablesBounded: many keys seen once keep the cache at its bound
// and build no table.
func TestHopTablesBounded(t *testing.T) {
	tables := NewHopTables()
	for _, k := range testKeys(3*maxHopKeys, 0x41) {
		if tables.lookup(k.PubKey()) != nil {
			t.Fatal("a table for a key seen once")
		}
	}
	if n := len(tables.keys); n > maxHopKeys {
		t.Fatalf("%d keys remembered, bound %d", n, maxHopKeys)
	}
	var none *HopTables
	if none.lookup(testKeys(1, 1)[0].PubKey()) != nil {
		t.Fatal("nil cache gave a table")
	}
}

// TestHopTablesConcurrent: payers sharing a HopTables (run with -race)
// get the same onions as without it, while one of them builds the table.
func TestHopTablesConcurrent(t *testing.T) {
	tables := NewHopTables()
	peer := testKeys(1, 0x51)[0].PubKey()
	route := []Hop{{PubKey: peer, Payload: []byte{1, 2, 3}}}
	sessions := testKeys(64, 0x52)
	errs := make(chan error, len(sessions))
	for _, s := range sessions {
		go func() {
			a, err := tables.NewOnionPacket(route, s, nil)
			if err != nil {
				errs <- err
				return
			}
			b, err := NewOnionPacket(route, s, nil)
			if err == nil && a.Hash() != b.Hash() {
				err = errors.New("onions differ")
			}
			errs <- err
		}()
	}
	for range sessions {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if tables.lookup(peer) == nil {
		t.Fatal("no table after 64 uses")
	}
}

// TestHopTablesParsePubKey: a key onions went to comes from the cache,
// others and invalid bytes from btcec.
func TestHopTablesParsePubKey(t *testing.T) {
	tables := NewHopTables()
	keys := testKeys(2, 0x61)
	seen := keys[0].PubKey()
	tables.lookup(seen)
	for _, k := range keys {
		b := [PubKeySize]byte(k.PubKey().SerializeCompressed())
		got, err := tables.ParsePubKey(b)
		if err != nil || !got.IsEqual(k.PubKey()) {
			t.Fatalf("key %x: %v", b, err)
		}
	}
	if got, _ := tables.ParsePubKey([PubKeySize]byte(seen.SerializeCompressed())); got != seen {
		t.Fatal("a key seen before was parsed again")
	}
	var bad [PubKeySize]byte
	bad[0] = 2
	for i := 1; i < PubKeySize; i++ {
		bad[i] = 0xff
	}
	_, err := tables.ParsePubKey(bad)
	_, want := btcec.ParsePubKey(bad[:])
	if err == nil || want == nil || err.Error() != want.Error() {
		t.Fatalf("x >= p: %v, btcec %v", err, want)
	}
	var none *HopTables
	if got, err := none.ParsePubKey([PubKeySize]byte(seen.SerializeCompressed())); err != nil || !got.IsEqual(seen) {
		t.Fatalf("nil cache: %v", err)
	}
}

// TestGenerateKeyIsHMAC: generateKey's stack HMAC agrees with crypto/hmac
// for every key type, secret lengths around its limits, and keys longer
// than a block.
func TestGenerateKeyIsHMAC(t *testing.T) {
	keys := [][]byte{keyRho, keyMu, keyUm, keyPad, keyAmmag, keyAmmagExt,
		keyBlindedNodeID, nil, bytes.Repeat([]byte{7}, 64),
		bytes.Repeat([]byte{8}, 65)}
	for _, k := range keys {
		for _, n := range []int{0, 1, 32, 63, 64, 65, 200} {
			secret := bytes.Repeat([]byte{byte(n)}, n)
			mac := hmac.New(sha256.New, k)
			mac.Write(secret)
			if got := generateKey(k, secret); !bytes.Equal(got[:], mac.Sum(nil)) {
				t.Errorf("key %q, secret of %d bytes: differs from HMAC", k, n)
			}
		}
	}
}
