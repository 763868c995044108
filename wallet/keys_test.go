package wallet

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"
)

type bipVectors struct {
	Source   string `json:"source"`
	Mnemonic string `json:"mnemonic"`
	Vectors  []struct {
		BIP          int    `json:"bip"`
		Path         string `json:"path"`
		Branch       uint8  `json:"branch"`
		Index        uint32 `json:"index"`
		PrivKeyWIF   string `json:"privkey_wif"`
		PubKey       string `json:"pubkey"`
		InternalKey  string `json:"internal_key"`
		OutputKey    string `json:"output_key"`
		ScriptPubKey string `json:"script_pubkey"`
		Address      string `json:"address"`
	} `json:"vectors"`
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBIP84BIP86Vectors derives the published test vectors of BIP 84 and
// BIP 86 through the wallet's own key ring and address code.
func TestBIP84BIP86Vectors(t *testing.T) {
	var v bipVectors
	readJSON(t, "bip84_86_vectors.json", &v)
	seed, err := seedFromMnemonic(v.Mnemonic, "")
	if err != nil {
		t.Fatal(err)
	}
	net := &chaincfg.MainNetParams
	kr, err := newKeyRing(seed, net)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Vectors) != 6 {
		t.Fatalf("%d vectors", len(v.Vectors))
	}
	for _, vec := range v.Vectors {
		t.Run(vec.Path, func(t *testing.T) {
			typ := AddressP2WPKH
			if vec.BIP == 86 {
				typ = AddressP2TR
			}
			d := derivation{Type: typ, Branch: vec.Branch, Index: vec.Index}
			priv, err := kr.walletKey(d)
			if err != nil {
				t.Fatal(err)
			}
			script, err := pkScriptFor(typ, priv.PubKey())
			if err != nil {
				t.Fatal(err)
			}
			_, addrs, _, err := txscript.ExtractPkScriptAddrs(script, net)
			if err != nil || len(addrs) != 1 {
				t.Fatalf("extract: %v", err)
			}
			if got := addrs[0].EncodeAddress(); got != vec.Address {
				t.Fatalf("address %s, want %s", got, vec.Address)
			}
			switch vec.BIP {
			case 84:
				wif, err := btcutil.DecodeWIF(vec.PrivKeyWIF)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(wif.PrivKey.Serialize(), priv.Serialize()) {
					t.Fatal("private key differs")
				}
				if got := hex.EncodeToString(priv.PubKey().SerializeCompressed()); got != vec.PubKey {
					t.Fatalf("pubkey %s, want %s", got, vec.PubKey)
				}
			case 86:
				xonly := priv.PubKey().SerializeCompressed()[1:]
				if got := hex.EncodeToString(xonly); got != vec.InternalKey {
					t.Fatalf("internal key %s, want %s", got, vec.InternalKey)
				}
				if got := hex.EncodeToString(script); got != vec.ScriptPubKey {
					t.Fatalf("script %s, want %s", got, vec.ScriptPubKey)
				}
				if got := hex.EncodeToString(script[2:]); got != vec.OutputKey {
					t.Fatalf("output key %s, want %s", got, vec.OutputKey)
				}
			}
		})
	}
}

// TestLightningKeyPaths checks the families sit on
// m/1017'/coin'/family'/0/index by deriving the path independently.
func TestLightningKeyPaths(t *testing.T) {
	seed := bytes.Repeat([]byte{0x42}, 64)
	for _, net := range []*chaincfg.Params{&chaincfg.MainNetParams, &chaincfg.RegressionNetParams} {
		kr, err := newKeyRing(seed, net)
		if err != nil {
			t.Fatal(err)
		}
		master, err := hdkeychain.NewMaster(seed, net)
		if err != nil {
			t.Fatal(err)
		}
		coin := uint32(1)
		if net == &chaincfg.MainNetParams {
			coin = 0
		}
		for _, loc := range []KeyLocator{{KeyFamilyMultiSig, 0}, {KeyFamilyRevocationBase, 3},
			{KeyFamilyHtlcBase, 1}, {KeyFamilyPaymentBase, 7}, {KeyFamilyDelayBase, 2},
			{KeyFamilyRevocationRoot, 0}, {KeyFamilyNodeKey, 0}} {
			k := master
			for _, i := range []uint32{1017 + hardened, coin + hardened,
				uint32(loc.Family) + hardened, 0, loc.Index} {
				if k, err = k.Derive(i); err != nil {
					t.Fatal(err)
				}
			}
			want, _ := k.ECPrivKey()
			got, err := kr.familyKey(loc)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Serialize(), want.Serialize()) {
				t.Fatalf("%s %+v: key differs", net.Name, loc)
			}
		}
	}
	if coinType(&chaincfg.TestNet3Params) != 1 || coinType(&chaincfg.SigNetParams) != 1 ||
		coinType(&chaincfg.MainNetParams) != 0 {
		t.Fatal("coin types")
	}
}

// TestFamilyKeyCache checks that cached family keys are the derived
// ones, that a caller zeroing its copy does not reach the cache, and that
// lock forgets them.
func TestFamilyKeyCache(t *testing.T) {
	seed := bytes.Repeat([]byte{0x17}, 64)
	kr, err := newKeyRing(seed, &chaincfg.RegressionNetParams)
	if err != nil {
		t.Fatal(err)
	}
	loc := KeyLocator{KeyFamilyHtlcBase, 4}
	first, err := kr.familyKey(loc)
	if err != nil {
		t.Fatal(err)
	}
	want := first.Serialize()
	first.Zero()
	again, err := kr.familyKey(loc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Serialize(), want) {
		t.Fatal("cached key differs from the derived one")
	}
	if len(kr.family) != 1 {
		t.Fatalf("%d cached keys, want 1", len(kr.family))
	}
	// The public key is computed once, and is the private key's.
	pub, fresh := kr.familyPubKey(loc, again)
	if !fresh || !pub.IsEqual(again.PubKey()) {
		t.Fatalf("first public key: fresh %v, right %v", fresh,
			pub.IsEqual(again.PubKey()))
	}
	if cached, fresh := kr.familyPubKey(loc, again); fresh || cached != pub {
		t.Fatal("public key computed again")
	}
	kept := kr.family[loc]
	kr.lock()
	if len(kr.family) != 0 || len(kr.familyPub) != 0 {
		t.Fatal("lock kept family keys")
	}
	if !kept.Key.IsZero() {
		t.Fatal("lock did not zero a cached key")
	}
	if _, err := kr.familyKey(loc); !errors.Is(err, ErrLocked) {
		t.Fatalf("locked ring: %v", err)
	}
}

// TestBOLT3KeyDerivation checks the signer's tweaks against BOLT 3
// Appendix E.
func TestBOLT3KeyDerivation(t *testing.T) {
	var v map[string]string
	readJSON(t, "bolt03_key_derivation.json", &v)
	base, _ := btcec.PrivKeyFromBytes(unhex(t, v["base_secret"]))
	secret, _ := btcec.PrivKeyFromBytes(unhex(t, v["per_commitment_secret"]))
	if got := hex.EncodeToString(base.PubKey().SerializeCompressed()); got != v["base_point"] {
		t.Fatalf("base point %s", got)
	}
	if got := hex.EncodeToString(secret.PubKey().SerializeCompressed()); got != v["per_commitment_point"] {
		t.Fatalf("per commitment point %s", got)
	}
	// SingleTweak = SHA256(per_commitment_point || basepoint).
	tweak := sha256Concat(secret.PubKey().SerializeCompressed(), base.PubKey().SerializeCompressed())
	local, err := tweakPrivKey(base, tweak)
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(local.Serialize()); got != v["localprivkey"] {
		t.Fatalf("localprivkey %s, want %s", got, v["localprivkey"])
	}
	if got := hex.EncodeToString(local.PubKey().SerializeCompressed()); got != v["localpubkey"] {
		t.Fatalf("localpubkey %s", got)
	}
	rev, err := revocationPrivKey(base, secret)
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(rev.Serialize()); got != v["revocationprivkey"] {
		t.Fatalf("revocationprivkey %s, want %s", got, v["revocationprivkey"])
	}
	if got := hex.EncodeToString(rev.PubKey().SerializeCompressed()); got != v["revocationpubkey"] {
		t.Fatalf("revocationpubkey %s", got)
	}
	if _, err := tweakPrivKey(base, tweak[:31]); err == nil {
		t.Fatal("short tweak accepted")
	}
}

func TestECDHSymmetric(t *testing.T) {
	a, _ := btcec.NewPrivateKey()
	b, _ := btcec.NewPrivateKey()
	if mustECDH(t, a, b.PubKey()) != mustECDH(t, b, a.PubKey()) {
		t.Fatal("ECDH not symmetric")
	}
	// BOLT 8's handshake vectors fix ECDH as SHA256 of the compressed
	// point; check against a direct computation.
	x, y := btcec.S256().ScalarMult(b.PubKey().X(), b.PubKey().Y(), a.Serialize())
	var fx, fy btcec.FieldVal
	fx.SetByteSlice(x.Bytes())
	fy.SetByteSlice(y.Bytes())
	want := sha256Concat(btcec.NewPublicKey(&fx, &fy).SerializeCompressed())
	got := mustECDH(t, a, b.PubKey())
	if !bytes.Equal(got[:], want) {
		t.Fatal("ECDH differs from SHA256(compressed point)")
	}
}

func TestECDHBOLT8Vector(t *testing.T) {
	var v map[string]string
	readJSON(t, "bolt08_ecdh.json", &v)
	priv, _ := btcec.PrivKeyFromBytes(unhex(t, v["priv"]))
	pub, err := btcec.ParsePubKey(unhex(t, v["pub"]))
	if err != nil {
		t.Fatal(err)
	}
	got := mustECDH(t, priv, pub)
	if hex.EncodeToString(got[:]) != v["ss"] {
		t.Fatalf("ss %x, want %s", got, v["ss"])
	}
}

// mustECDH is ecdh, failing t on an error.
func mustECDH(t *testing.T, priv *btcec.PrivateKey, pub *btcec.PublicKey) [32]byte {
	t.Helper()
	ss, err := ecdh(priv, pub)
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

// TestECDHAgainstBtcec checks ecdh against btcec's multiplication for
// random key pairs, and that a zero key is an error, not a secret.
func TestECDHAgainstBtcec(t *testing.T) {
	for i := 0; i < 200; i++ {
		a, _ := btcec.NewPrivateKey()
		b, _ := btcec.NewPrivateKey()
		var p, r btcec.JacobianPoint
		b.PubKey().AsJacobian(&p)
		btcec.ScalarMultNonConst(&a.Key, &p, &r)
		r.ToAffine()
		want := sha256.Sum256(btcec.NewPublicKey(&r.X, &r.Y).SerializeCompressed())
		if got := mustECDH(t, a, b.PubKey()); got != want {
			t.Fatalf("ecdh(%x, %x) = %x, want %x", a.Serialize(),
				b.PubKey().SerializeCompressed(), got, want)
		}
	}
	b, _ := btcec.NewPrivateKey()
	if _, err := ecdh(&btcec.PrivateKey{}, b.PubKey()); err == nil {
		t.Fatal("ecdh with a zero key: no error")
	}
}
