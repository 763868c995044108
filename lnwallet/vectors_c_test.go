package lnwallet

import (
	"strconv"
	"testing"

	"github.com/btcsuite/btcd/btcutil"

	"lnd.xprv/lnwallet/chainfee"
)

// appendixCCase is one commitment of BOLT 3 Appendix C.
type appendixCCase struct {
	name                string
	toLocalMsat         uint64
	toRemoteMsat        uint64
	feeRate             uint64
	baseFee, actualFee  string
	remoteSig, localSig string
	commitTx            string
	numHTLCs            uint64
	htlcs               []appendixCHTLC
}

type appendixCHTLC struct {
	remoteSig, localSig string
	success             bool
	htlc                int
	tx                  string
}

func loadAppendixC(t *testing.T) []appendixCCase {
	t.Helper()
	var (
		cases []appendixCCase
		cur   *appendixCCase
		pend  appendixCHTLC
	)
	for _, e := range readKVs(t, "testdata/bolt03-appendix-c.txt") {
		if e.key == "name" {
			cases = append(cases, appendixCCase{name: e.val})
			cur = &cases[len(cases)-1]
			continue
		}
		if cur == nil {
			continue
		}
		switch e.key {
		case "to_local_msat":
			cur.toLocalMsat = atoi(t, e.val)
		case "to_remote_msat":
			cur.toRemoteMsat = atoi(t, e.val)
		case "local_feerate_per_kw":
			cur.feeRate = atoi(t, e.val)
		case "base commitment transaction fee":
			cur.baseFee = e.val
		case "actual commitment transaction fee":
			cur.actualFee = e.val
		case "remote_signature":
			cur.remoteSig = e.val
		case "local_signature":
			cur.localSig = e.val
		case "output commit_tx":
			cur.commitTx = e.val
		case "num_htlcs":
			cur.numHTLCs = atoi(t, e.val)
		case "remote_htlc_signature":
			pend = appendixCHTLC{remoteSig: e.val}
		case "local_htlc_signature":
			pend.localSig = e.val
		default:
			m := htlcLabel.FindStringSubmatch(e.key)
			if m == nil {
				continue
			}
			pend.success = m[1] == "success"
			pend.htlc, _ = strconv.Atoi(m[2])
			pend.tx = e.val
			cur.htlcs = append(cur.htlcs, pend)
		}
	}
	return cases
}

// TestAppendixCKeys checks the keys Appendix C lists against their
// derivation, including the legacy (non-static) remotepubkey.
func TestAppendixCKeys(t *testing.T) {
	tc := loadAppendixCChannel(t, ChannelTypeStaticRemoteKey)
	h := tc.header
	k := DeriveCommitmentKeys(tc.local, Local, tc.commitPoint)
	for _, c := range []struct {
		name string
		got  string
	}{
		{"local_htlcpubkey", hexKey(k.LocalHtlcKey.SerializeCompressed())},
		{"remote_htlcpubkey", hexKey(k.RemoteHtlcKey.SerializeCompressed())},
		{"local_delayedpubkey", hexKey(k.ToLocalKey.SerializeCompressed())},
		{"local_revocation_pubkey", hexKey(k.RevocationKey.SerializeCompressed())},
		{"remote_payment_basepoint", hexKey(k.ToRemoteKey.SerializeCompressed())},
	} {
		if c.got != h[c.name] {
			t.Errorf("%s: got %s want %s", c.name, c.got, h[c.name])
		}
	}

	// local_privkey is the secret of localpubkey and local_htlcpubkey
	// (both from the payment basepoint here).
	localPriv := TweakPrivKey(parsePriv(t, h["local_payment_basepoint_secret"]),
		tc.commitPoint)
	if !localPriv.Key.Equals(&parsePriv(t, h["local_privkey"]).Key) {
		t.Error("local_privkey mismatch")
	}
	if !localPriv.PubKey().IsEqual(k.LocalHtlcKey) {
		t.Error("local_privkey does not match local_htlcpubkey")
	}
	delayed := TweakPrivKey(parsePriv(t,
		h["local_delayed_payment_basepoint_secret"]), tc.commitPoint)
	if !delayed.Key.Equals(&parsePriv(t, h["local_delayed_privkey"]).Key) {
		t.Error("local_delayed_privkey mismatch")
	}

	// Legacy remotepubkey: the remote payment basepoint tweaked with the
	// per-commitment point.
	legacy := *tc.local
	legacy.Type = ChannelTypeLegacy
	lk := DeriveCommitmentKeys(&legacy, Local, tc.commitPoint)
	remotePriv := TweakPrivKey(parsePriv(t,
		h["remote_payment_basepoint_secret"]), tc.commitPoint)
	if !remotePriv.Key.Equals(&parsePriv(t, h["remote_privkey"]).Key) {
		t.Error("legacy remote_privkey mismatch")
	}
	if !remotePriv.PubKey().IsEqual(lk.ToRemoteKey) {
		t.Error("legacy remotepubkey mismatch")
	}

	// "obscured commitment number = 0x2bb038521914 ^ 42"
	if f := tc.local.ObscuringFactor(); f != 0x2bb038521914 {
		t.Errorf("obscuring factor %x", f)
	}
	if f := tc.remote.ObscuringFactor(); f != 0x2bb038521914 {
		t.Errorf("obscuring factor seen from the accepter %x", f)
	}
	ws, _, err := tc.local.FundingScript()
	if err != nil || hexKey(ws) != h["funding wscript"] {
		t.Errorf("funding wscript %x %v", ws, err)
	}
}

// TestAppendixC builds every commitment of Appendix C from its inputs, on
// both sides of the channel, signs it and every HTLC transaction with the
// keys of both parties, and compares bytes and signatures with the spec.
func TestAppendixC(t *testing.T) {
	tc := loadAppendixCChannel(t, ChannelTypeStaticRemoteKey)
	cases := loadAppendixC(t)
	if len(cases) != 16 {
		t.Fatalf("parsed %d Appendix C cases, want 16", len(cases))
	}
	for _, vc := range cases {
		t.Run(vc.name, func(t *testing.T) {
			spec := &CommitmentSpec{
				Number:            tc.commitNumber,
				FeeRate:           chainfee.SatPerKWeight(vc.feeRate),
				LocalBalanceMsat:  vc.toLocalMsat,
				RemoteBalanceMsat: vc.toRemoteMsat,
				HTLCs:             tc.htlcSet(vc.name, vc.name != "simple commitment tx with no HTLCs"),
			}
			checkCommitment(t, tc, spec, vectorCommitment{
				remoteSig: vc.remoteSig,
				localSig:  vc.localSig,
				tx:        vc.commitTx,
				actualFee: vc.actualFee,
				baseFee:   vc.baseFee,
				numHTLCs:  int(vc.numHTLCs),
				htlcs:     vc.htlcs,
			})
		})
	}
}

// vectorCommitment is the expected result of one commitment vector.
type vectorCommitment struct {
	remoteSig, localSig string // localSig may be empty (Appendix F)
	tx                  string
	actualFee, baseFee  string // may be empty
	numHTLCs            int
	htlcs               []appendixCHTLC
}

// checkCommitment builds the local commitment for spec, and the same
// commitment as the remote sees it, and checks every byte against want.
func checkCommitment(t *testing.T, tc *testChannel, spec *CommitmentSpec,
	want vectorCommitment) {

	t.Helper()
	c, err := NewCommitment(tc.local, Local, tc.commitPoint, spec)
	if err != nil {
		t.Fatal(err)
	}

	// The remote builds the same transaction as "their" commitment.
	rc, err := NewCommitment(tc.remote, Remote, tc.commitPoint,
		mirrorSpec(spec))
	if err != nil {
		t.Fatal(err)
	}
	if txHex(t, rc.Tx) != txHex(t, c.Tx) {
		t.Fatal("remote's view of the commitment differs")
	}

	// The remote signs: this is its commitment_signed.
	remoteSig, err := SignCommitment(tc.remoteSigner, tc.remote, rc)
	if err != nil {
		t.Fatal(err)
	}
	if got := hexKey(remoteSig.Serialize()); got != want.remoteSig {
		t.Fatalf("remote signature\n got %s\nwant %s", got, want.remoteSig)
	}
	remoteHTLCSigs, err := SignHTLCs(tc.remoteSigner, tc.remote, rc)
	if err != nil {
		t.Fatal(err)
	}

	// We check it.
	cs := &CommitSig{Sig: remoteSig, HTLCSigs: remoteHTLCSigs}
	if _, err := VerifyLocalCommitment(tc.local, tc.commitPoint, spec,
		cs); err != nil {

		t.Fatalf("verify commitment_signed: %v", err)
	}

	localSig, err := SignCommitment(tc.localSigner, tc.local, c)
	if err != nil {
		t.Fatal(err)
	}
	if want.localSig != "" {
		if got := hexKey(localSig.Serialize()); got != want.localSig {
			t.Fatalf("local signature\n got %s\nwant %s", got,
				want.localSig)
		}
	}
	signed, err := SignedCommitmentTx(tc.local, c, localSig, remoteSig)
	if err != nil {
		t.Fatal(err)
	}
	if got := txHex(t, signed); got != want.tx {
		t.Fatalf("commitment tx\n got %s\nwant %s", got, want.tx)
	}
	checkSpends(t, signed, tc.fundingPkScript, int64(tc.local.Capacity))

	if want.actualFee != "" {
		if got := strconv.FormatInt(int64(c.Fee), 10); got != want.actualFee {
			t.Errorf("actual fee %s, want %s", got, want.actualFee)
		}
	}
	if want.baseFee != "" {
		base := CommitFee(tc.local.Type, spec.FeeRate, len(c.HTLCs))
		if got := strconv.FormatInt(int64(base), 10); got != want.baseFee {
			t.Errorf("base fee %s, want %s", got, want.baseFee)
		}
	}
	// Local is the opener in the vectors; a fee above its balance is
	// reported (the "fee greater than funder amount" case).
	charge := c.BaseFee
	if tc.local.Type.HasAnchors() {
		charge += 2 * AnchorValue
	}
	shortfall := max(0, charge-btcutil.Amount(spec.LocalBalanceMsat/1000))
	if c.OpenerShortfall != shortfall {
		t.Errorf("opener shortfall %v, want %v", c.OpenerShortfall,
			shortfall)
	}

	if len(c.HTLCs) != want.numHTLCs || len(want.htlcs) != want.numHTLCs {
		t.Fatalf("%d HTLC outputs, vector has %d (%d listed)",
			len(c.HTLCs), want.numHTLCs, len(want.htlcs))
	}

	for i, wh := range want.htlcs {
		h := c.HTLCs[i]
		if wh.htlc >= 0 && (int(h.ID) != wh.htlc || h.Offered == wh.success) {
			t.Fatalf("HTLC output %d is htlc #%d (offered %v), "+
				"want #%d success=%v", i, h.ID, h.Offered, wh.htlc,
				wh.success)
		}
		if got := hexKey(remoteHTLCSigs[i].Serialize()); got != wh.remoteSig {
			t.Fatalf("HTLC %d remote signature\n got %s\nwant %s", i,
				got, wh.remoteSig)
		}
		localHTLCSig, err := SignHTLC(tc.localSigner, tc.local, c, i)
		if err != nil {
			t.Fatal(err)
		}
		if wh.localSig != "" {
			got := hexKey(localHTLCSig.Serialize())
			if got != wh.localSig {
				t.Fatalf("HTLC %d local signature\n got %s\n"+
					"want %s", i, got, wh.localSig)
			}
		}
		stx, err := SignedHTLCTx(tc.local, c, i, remoteHTLCSigs[i],
			localHTLCSig, tc.preimages[h.ID])
		if err != nil {
			t.Fatal(err)
		}
		if got := txHex(t, stx); got != wh.tx {
			t.Fatalf("HTLC %d tx\n got %s\nwant %s", i, got, wh.tx)
		}
		checkSpends(t, stx, signed.TxOut[h.OutputIndex].PkScript,
			signed.TxOut[h.OutputIndex].Value)
	}

	// The amounts add up: outputs plus fee equal the capacity.
	var sum btcutil.Amount
	for _, o := range c.Tx.TxOut {
		sum += btcutil.Amount(o.Value)
	}
	if sum+c.Fee != tc.local.Capacity {
		t.Errorf("outputs %v + fee %v != capacity", sum, c.Fee)
	}
}
