package lnwallet

import (
	"bytes"
	"crypto/sha256"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

// This file parses the BOLT 3 appendix files in testdata/ and sets up the
// channel of Appendices C and F.

// testChannel is the channel of Appendix C, seen from both sides.
type testChannel struct {
	local, remote   *ChannelParams // the same channel from each side
	commitPoint     *btcec.PublicKey
	commitNumber    uint64
	localSigner     Signer
	remoteSigner    Signer
	htlcs           []HTLC // the seven HTLCs, from local's view
	preimages       [][32]byte
	header          map[string]string
	fundingPkScript []byte
}

// loadAppendixCChannel reads the common parameters of Appendix C.
func loadAppendixCChannel(t *testing.T, typ ChannelType) *testChannel {
	t.Helper()
	kvs := readKVs(t, "testdata/bolt03-appendix-c.txt")
	h := make(map[string]string)
	for _, e := range kvs {
		if e.key == "name" {
			break
		}
		h[e.key] = e.val
	}

	fundingHash, err := chainhash.NewHashFromStr(h["funding_tx_id"])
	if err != nil {
		t.Fatal(err)
	}
	localFunding := parsePriv(t, h["local_funding_privkey"])
	remoteFunding := parsePriv(t, h["remote_funding_privkey"])
	localPaymentSecret := parsePriv(t, h["local_payment_basepoint_secret"])
	remotePaymentSecret := parsePriv(t, h["remote_payment_basepoint_secret"])
	remoteRevSecret := parsePriv(t, h["remote_revocation_basepoint_secret"])
	localDelayedSecret := parsePriv(t,
		h["local_delayed_payment_basepoint_secret"])

	for _, c := range []struct {
		name string
		got  *btcec.PublicKey
	}{
		{"local_funding_pubkey", localFunding.PubKey()},
		{"remote_funding_pubkey", remoteFunding.PubKey()},
		{"local_payment_basepoint", localPaymentSecret.PubKey()},
		{"remote_payment_basepoint", remotePaymentSecret.PubKey()},
		{"remote_revocation_basepoint", remoteRevSecret.PubKey()},
		{"local_delayed_payment_basepoint", localDelayedSecret.PubKey()},
		{"local_htlc_basepoint", localPaymentSecret.PubKey()},
		{"remote_htlc_basepoint", remotePaymentSecret.PubKey()},
	} {
		if !c.got.IsEqual(parsePub(t, h[c.name])) {
			t.Fatalf("%s does not match its secret", c.name)
		}
	}

	// The appendix does not give the local revocation and the remote
	// delayed basepoints: nothing in a local commitment depends on them.
	// Any valid points do.
	_, unusedA := btcec.PrivKeyFromBytes(bytes.Repeat([]byte{0x55}, 32))
	_, unusedB := btcec.PrivKeyFromBytes(bytes.Repeat([]byte{0x66}, 32))

	delay := uint16(atoi(t, h["local_delay"]))
	dust := btcutil.Amount(atoi(t, h["local_dust_limit_satoshi"]))
	local := &ChannelParams{
		FundingOutpoint: wire.OutPoint{
			Hash:  *fundingHash,
			Index: uint32(atoi(t, h["funding_output_index"])),
		},
		Capacity:      btcutil.Amount(atoi(t, h["funding_amount_satoshi"])),
		Type:          typ,
		LocalIsOpener: true,
		Local: ChannelConfig{
			DustLimit:               dust,
			CsvDelay:                delay,
			FundingKey:              localFunding.PubKey(),
			RevocationBasePoint:     unusedA,
			PaymentBasePoint:        localPaymentSecret.PubKey(),
			DelayedPaymentBasePoint: localDelayedSecret.PubKey(),
			HtlcBasePoint:           localPaymentSecret.PubKey(),
		},
		Remote: ChannelConfig{
			DustLimit:               dust,
			CsvDelay:                delay,
			FundingKey:              remoteFunding.PubKey(),
			RevocationBasePoint:     remoteRevSecret.PubKey(),
			PaymentBasePoint:        remotePaymentSecret.PubKey(),
			DelayedPaymentBasePoint: unusedB,
			HtlcBasePoint:           remotePaymentSecret.PubKey(),
		},
	}

	commitSecret := parsePriv(t, h["x_local_per_commitment_secret"])
	tc := &testChannel{
		local:        local,
		remote:       mirror(local),
		commitPoint:  commitSecret.PubKey(),
		commitNumber: atoi(t, h["commitment_number"]),
		localSigner:  NewPrivKeySigner(localFunding, localPaymentSecret),
		remoteSigner: NewPrivKeySigner(remoteFunding, remotePaymentSecret),
		header:       h,
	}
	if !tc.commitPoint.IsEqual(parsePub(t, h["local_per_commitment_point"])) {
		t.Fatal("per-commitment point does not match its secret")
	}
	_, tc.fundingPkScript, err = local.FundingScript()
	if err != nil {
		t.Fatal(err)
	}

	for i := 0; ; i++ {
		p := "htlc " + strconv.Itoa(i) + " "
		dir, ok := h[p+"direction"]
		if !ok {
			break
		}
		var pre [32]byte
		copy(pre[:], unhex(t, h[p+"payment_preimage"]))
		tc.preimages = append(tc.preimages, pre)
		tc.htlcs = append(tc.htlcs, HTLC{
			Incoming:    dir == "remote->local",
			AmountMsat:  atoi(t, h[p+"amount_msat"]),
			PaymentHash: sha256.Sum256(pre[:]),
			CltvExpiry:  uint32(atoi(t, h[p+"expiry"])),
			ID:          uint64(i),
		})
	}
	if len(tc.htlcs) != 7 {
		t.Fatalf("parsed %d HTLCs, want 7", len(tc.htlcs))
	}
	return tc
}

// htlcSet returns the HTLCs a test case commits to (see testdata/README.md).
func (tc *testChannel) htlcSet(name string, use bool) []HTLC {
	switch {
	case !use:
		return nil
	case strings.Contains(name, "same amount"):
		return []HTLC{tc.htlcs[1], tc.htlcs[5], tc.htlcs[6]}
	default:
		return tc.htlcs[:5]
	}
}

var htlcLabel = regexp.MustCompile(`^htlc_(success|timeout)_tx \(htlc #(\d+)\)$`)
