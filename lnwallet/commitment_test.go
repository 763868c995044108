package lnwallet

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwallet/chainfee"
)

// testParty holds one side's secrets for unit tests.
type testParty struct {
	funding, revocation, payment, delayed, htlc *btcec.PrivateKey
}

func newTestParty(t testing.TB, seed byte) *testParty {
	t.Helper()
	k := func(i byte) *btcec.PrivateKey {
		h := sha256.Sum256([]byte{seed, i})
		priv, _ := btcec.PrivKeyFromBytes(h[:])
		return priv
	}
	return &testParty{k(1), k(2), k(3), k(4), k(5)}
}

func (p *testParty) config(dust btcutil.Amount, delay uint16) ChannelConfig {
	return ChannelConfig{
		DustLimit:               dust,
		CsvDelay:                delay,
		FundingKey:              p.funding.PubKey(),
		RevocationBasePoint:     p.revocation.PubKey(),
		PaymentBasePoint:        p.payment.PubKey(),
		DelayedPaymentBasePoint: p.delayed.PubKey(),
		HtlcBasePoint:           p.htlc.PubKey(),
	}
}

func (p *testParty) signer() Signer {
	return NewPrivKeySigner(p.funding, p.revocation, p.payment, p.delayed,
		p.htlc)
}

// testPair is a channel between alice (opener) and bob, with each side's
// ChannelParams.
type testPair struct {
	alice, bob             *testParty
	aliceParams, bobParams *ChannelParams
}

func newTestPair(t testing.TB, typ ChannelType) *testPair {
	t.Helper()
	a, b := newTestParty(t, 1), newTestParty(t, 2)
	ap := &ChannelParams{
		FundingOutpoint: wire.OutPoint{Hash: sha256.Sum256([]byte("f")),
			Index: 1},
		Capacity:      10_000_000,
		Type:          typ,
		LocalIsOpener: true,
		Local:         a.config(546, 144),
		Remote:        b.config(354, 720),
	}
	return &testPair{a, b, ap, mirror(ap)}
}

func commitPointAt(seed byte, n uint64) (*btcec.PrivateKey, *btcec.PublicKey) {
	var b [9]byte
	b[0] = seed
	binary.BigEndian.PutUint64(b[1:], n)
	h := sha256.Sum256(b[:])
	return btcec.PrivKeyFromBytes(h[:])
}

// testSpec builds a state with n HTLCs of varied sizes, half each way,
// several sharing amount and hash to exercise the CLTV tie-break.
func testSpec(n int, rate chainfee.SatPerKWeight) *CommitmentSpec {
	s := &CommitmentSpec{Number: 7, FeeRate: rate}
	var inFlight uint64
	for i := 0; i < n; i++ {
		amt := uint64(1000+(i%7)*3000)*1000 + uint64(i%3)
		pre := [32]byte{byte(i % 5)}
		hash := sha256.Sum256(pre[:])
		s.HTLCs = append(s.HTLCs, HTLC{
			Incoming:    i%2 == 0,
			AmountMsat:  amt,
			PaymentHash: hash,
			CltvExpiry:  uint32(500 + (i*37)%11),
			ID:          uint64(i),
		})
		inFlight += amt
	}
	total := uint64(10_000_000) * 1000
	s.LocalBalanceMsat = (total - inFlight) * 6 / 10
	s.RemoteBalanceMsat = total - inFlight - s.LocalBalanceMsat
	return s
}

func TestObscuredCommitmentNumber(t *testing.T) {
	const factor = 0x2bb038521914
	for _, n := range []uint64{0, 1, 42, 1<<24 - 1, 1 << 24, 1<<48 - 1} {
		lt, seq := ObscuredCommitmentLockTime(n, factor)
		tx := wire.NewMsgTx(2)
		tx.LockTime = lt
		tx.AddTxIn(&wire.TxIn{Sequence: seq})
		got, ok := CommitNumberFromTx(tx, factor)
		if !ok || got != n {
			t.Errorf("number %d: got %d ok=%v", n, got, ok)
		}
		if lt>>24 != 0x20 || seq>>24 != 0x80 {
			t.Errorf("number %d: locktime %x sequence %x", n, lt, seq)
		}
	}
	if _, ok := CommitNumberFromTx(wire.NewMsgTx(2), factor); ok {
		t.Error("recognized a transaction without inputs")
	}
}

func TestSortOutputs(t *testing.T) {
	outs := []output{
		{txOut: wire.NewTxOut(5, []byte{1, 2, 3}), cltv: 9},
		{txOut: wire.NewTxOut(5, []byte{1, 2}), cltv: 1},
		{txOut: wire.NewTxOut(5, []byte{1, 2, 3}), cltv: 3},
		{txOut: wire.NewTxOut(4, []byte{9})},
		{txOut: wire.NewTxOut(5, []byte{0, 9, 9, 9})},
	}
	sortOutputs(outs)
	want := []struct {
		v    int64
		s    []byte
		cltv uint32
	}{
		{4, []byte{9}, 0},
		{5, []byte{0, 9, 9, 9}, 0},
		{5, []byte{1, 2}, 1},
		{5, []byte{1, 2, 3}, 3},
		{5, []byte{1, 2, 3}, 9},
	}
	for i, w := range want {
		o := outs[i]
		if o.txOut.Value != w.v || !bytes.Equal(o.txOut.PkScript, w.s) ||
			o.cltv != w.cltv {

			t.Fatalf("position %d: %d %x %d", i, o.txOut.Value,
				o.txOut.PkScript, o.cltv)
		}
	}
}

// TestFeeExample reproduces the worked example of BOLT 3 "Fees".
func TestFeeExample(t *testing.T) {
	const rate, dust = chainfee.SatPerKWeight(5000), btcutil.Amount(546)
	typ := ChannelTypeStaticRemoteKey
	if f := HTLCTimeoutFee(typ, rate); f != 3315 {
		t.Errorf("HTLC-timeout fee %v", f)
	}
	if f := HTLCSuccessFee(typ, rate); f != 3515 {
		t.Errorf("HTLC-success fee %v", f)
	}
	for _, c := range []struct {
		offered bool
		amt     btcutil.Amount
		dust    bool
	}{
		{true, 5000, false}, {true, 1000, true},
		{false, 7000, false}, {false, 800, true},
		{true, 3315 + 546, false}, {true, 3315 + 545, true},
	} {
		if got := HTLCIsDust(typ, c.offered, c.amt, rate, dust); got != c.dust {
			t.Errorf("offered=%v %v: dust %v", c.offered, c.amt, got)
		}
	}
	if f := CommitFee(typ, rate, 2); f != 5340 {
		t.Errorf("base commitment fee %v, want 5340", f)
	}
	// The same example through CommitmentCost on Alice's commitment
	// (dust limit 546): "The base commitment transaction fee is 5340
	// satoshi; the actual fee (which adds the 1000 and 800 satoshi HTLCs
	// that would make dust outputs) is 7140 satoshi."
	tp := newTestPair(t, typ)
	spec := &CommitmentSpec{FeeRate: rate, HTLCs: []HTLC{
		{AmountMsat: 5_000_000}, {AmountMsat: 1_000_000},
		{Incoming: true, AmountMsat: 7_000_000},
		{Incoming: true, AmountMsat: 800_000},
	}}
	cost := CommitmentCost(tp.aliceParams, Local, spec)
	if cost.BaseFee != 5340 || cost.Untrimmed != 2 ||
		cost.TrimmedMsat != 1_800_000 || cost.Anchors != 0 {

		t.Errorf("cost %+v", cost)
	}
	spec.LocalBalanceMsat = 9_000_000_000
	spec.RemoteBalanceMsat = 10_000_000_000 - 9_000_000_000 - 13_800_000
	c, err := NewCommitment(tp.aliceParams, Local, tp.alice.payment.PubKey(),
		spec)
	if err != nil {
		t.Fatal(err)
	}
	if c.Fee != 7140 {
		t.Errorf("actual fee %v, want 7140", c.Fee)
	}

	// With a zero dust limit, zero outputs are still never made.
	zero := newTestPair(t, ChannelTypeAnchors)
	zero.aliceParams.Local.DustLimit = 0
	zc, err := NewCommitment(zero.aliceParams, Local,
		tp.alice.payment.PubKey(), &CommitmentSpec{
			LocalBalanceMsat: 10_000_000_000 - 999,
			HTLCs:            []HTLC{{AmountMsat: 999}},
		})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range zc.Tx.TxOut {
		if o.Value == 0 {
			t.Fatal("zero-value output")
		}
	}
	if len(zc.Trimmed) != 1 || zc.ToRemoteIndex != -1 {
		t.Fatalf("sub-satoshi HTLC or empty to_remote kept")
	}

	// An absurd fee rate saturates instead of overflowing.
	huge := chainfee.SatPerKWeight(1 << 62)
	if f := CommitFee(typ, huge, 100000); f != btcutil.MaxSatoshi {
		t.Errorf("saturated commitment fee %v", f)
	}
	if !HTLCIsDust(typ, true, btcutil.MaxSatoshi, huge, dust) {
		t.Error("HTLC not dust at an absurd fee rate")
	}

	// With anchors HTLC transactions pay no fee: only the dust limit
	// trims.
	if HTLCIsDust(ChannelTypeAnchors, true, 546, rate, dust) ||
		!HTLCIsDust(ChannelTypeAnchors, false, 545, rate, dust) {

		t.Error("anchor trimming should use the dust limit alone")
	}
}

// TestCommitmentRoundTrip drives the commitment_signed exchange both ways
// for both channel types and several HTLC counts: each side builds the
// other's commitment, signs it, and the other verifies against its own
// build.
func TestCommitmentRoundTrip(t *testing.T) {
	for _, typ := range []ChannelType{ChannelTypeStaticRemoteKey,
		ChannelTypeAnchors} {

		for _, n := range []int{0, 1, 10, 60} {
			tp := newTestPair(t, typ)
			spec := testSpec(n, 2500)
			_, bobPoint := commitPointAt(2, spec.Number)
			_, alicePoint := commitPointAt(1, spec.Number)

			// Alice signs Bob's commitment, Bob checks it.
			bc, cs, err := SignRemoteCommitment(tp.alice.signer(),
				tp.aliceParams, bobPoint, spec)
			if err != nil {
				t.Fatal(err)
			}
			own, err := VerifyLocalCommitment(tp.bobParams, bobPoint,
				mirrorSpec(spec), cs)
			if err != nil {
				t.Fatalf("%v/%d: bob rejects: %v", typ, n, err)
			}
			if own.Tx.TxHash() != bc.Tx.TxHash() {
				t.Fatalf("%v/%d: views differ", typ, n)
			}
			checkCommitInvariants(t, tp.aliceParams, bc, spec)

			// Bob signs Alice's.
			_, cs2, err := SignRemoteCommitment(tp.bob.signer(),
				tp.bobParams, alicePoint, mirrorSpec(spec))
			if err != nil {
				t.Fatal(err)
			}
			ac, err := VerifyLocalCommitment(tp.aliceParams,
				alicePoint, spec, cs2)
			if err != nil {
				t.Fatalf("%v/%d: alice rejects: %v", typ, n, err)
			}

			// Alice can broadcast her commitment and every HTLC
			// transaction: run them through the script engine.
			checkBroadcastable(t, tp, ac, cs2, spec)

			// Tampering is caught.
			if len(cs.HTLCSigs) > 1 {
				bad := *cs
				bad.HTLCSigs = append([]*ecdsa.Signature(nil), cs.HTLCSigs...)
				bad.HTLCSigs[0], bad.HTLCSigs[1] = bad.HTLCSigs[1],
					bad.HTLCSigs[0]
				_, err := VerifyLocalCommitment(tp.bobParams,
					bobPoint, mirrorSpec(spec), &bad)
				if !errors.Is(err, ErrInvalidSignature) {
					t.Fatalf("swapped HTLC sigs: %v", err)
				}
				// The first bad output is reported, also
				// when verifying in parallel.
				want := fmt.Sprintf("HTLC output %d:",
					bc.HTLCs[0].OutputIndex)
				if !strings.Contains(err.Error(), want) {
					t.Fatalf("error %q does not name %q", err,
						want)
				}
				bad.HTLCSigs = bad.HTLCSigs[1:]
				_, err = VerifyLocalCommitment(tp.bobParams,
					bobPoint, mirrorSpec(spec), &bad)
				if !errors.Is(err, ErrSigCount) {
					t.Fatalf("missing HTLC sig: %v", err)
				}
			}
			bad := *cs
			bad.Sig = cs2.Sig
			if _, err := VerifyLocalCommitment(tp.bobParams,
				bobPoint, mirrorSpec(spec), &bad); !errors.Is(err,
				ErrInvalidSignature) {

				t.Fatalf("wrong commitment sig: %v", err)
			}
		}
	}
}

// checkCommitInvariants checks what must hold for any commitment.
func checkCommitInvariants(t testing.TB, p *ChannelParams, c *Commitment,
	spec *CommitmentSpec) {

	t.Helper()
	var sum btcutil.Amount
	for _, o := range c.Tx.TxOut {
		sum += btcutil.Amount(o.Value)
	}
	if sum+c.Fee != p.Capacity {
		t.Fatalf("outputs %v + fee %v != capacity %v", sum, c.Fee,
			p.Capacity)
	}
	if len(c.HTLCs)+len(c.Trimmed) != len(spec.HTLCs) {
		t.Fatalf("%d untrimmed + %d trimmed != %d HTLCs", len(c.HTLCs),
			len(c.Trimmed), len(spec.HTLCs))
	}
	for i := 1; i < len(c.HTLCs); i++ {
		if c.HTLCs[i].OutputIndex <= c.HTLCs[i-1].OutputIndex {
			t.Fatal("HTLCs not in output order")
		}
	}
	for _, h := range c.HTLCs {
		o := c.Tx.TxOut[h.OutputIndex]
		if !bytes.Equal(o.PkScript, WitnessScriptHash(h.WitnessScript)) ||
			o.Value != int64(h.Amount()) {

			t.Fatal("HTLC output does not match its script")
		}
		in := h.SecondLevelTx.TxIn[0].PreviousOutPoint
		if in.Hash != c.Tx.TxHash() || in.Index != h.OutputIndex {
			t.Fatal("second-level tx spends the wrong output")
		}
	}
	for i := 1; i < len(c.Tx.TxOut); i++ {
		a, b := c.Tx.TxOut[i-1], c.Tx.TxOut[i]
		if a.Value > b.Value || (a.Value == b.Value &&
			bytes.Compare(a.PkScript, b.PkScript) > 0) {

			t.Fatal("outputs not in BIP 69 order")
		}
	}
}

// checkBroadcastable signs Alice's own commitment and HTLC transactions
// and runs them through the script engine.
func checkBroadcastable(t *testing.T, tp *testPair, c *Commitment,
	cs *CommitSig, spec *CommitmentSpec) {

	t.Helper()
	p := tp.aliceParams
	sig, err := SignCommitment(tp.alice.signer(), p, c)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := SignedCommitmentTx(p, c, sig, cs.Sig)
	if err != nil {
		t.Fatal(err)
	}
	_, fundingPk, _ := p.FundingScript()
	checkSpends(t, tx, fundingPk, int64(p.Capacity))
	for i, h := range c.HTLCs {
		ls, err := SignHTLC(tp.alice.signer(), p, c, i)
		if err != nil {
			t.Fatal(err)
		}
		stx, err := SignedHTLCTx(p, c, i, cs.HTLCSigs[i], ls,
			preimageFor(h.PaymentHash))
		if err != nil {
			t.Fatal(err)
		}
		out := tx.TxOut[h.OutputIndex]
		checkSpends(t, stx, out.PkScript, out.Value)
	}
}

// preimageFor finds the testSpec preimage of a hash.
func preimageFor(hash [32]byte) [32]byte {
	for i := 0; i < 5; i++ {
		pre := [32]byte{byte(i)}
		if sha256.Sum256(pre[:]) == hash {
			return pre
		}
	}
	return [32]byte{}
}

// TestOpenerShortfall checks that a fee above the opener's balance drops
// its output and is reported, on both sides.
func TestOpenerShortfall(t *testing.T) {
	tp := newTestPair(t, ChannelTypeAnchors)
	_, point := commitPointAt(1, 0)
	spec := &CommitmentSpec{
		FeeRate:           10_000,
		LocalBalanceMsat:  5_000_000,
		RemoteBalanceMsat: 9_995_000_000,
	}
	for _, owner := range []Party{Local, Remote} {
		c, err := NewCommitment(tp.aliceParams, owner, point, spec)
		if err != nil {
			t.Fatal(err)
		}
		// 1124 weight at 10000 sat/kw = 11240, plus 660 of anchors,
		// against 5000 sat.
		if c.BaseFee != 11240 || c.OpenerShortfall != 11240+660-5000 {
			t.Fatalf("%v: base fee %v shortfall %v", owner, c.BaseFee,
				c.OpenerShortfall)
		}
		aliceOut := c.ToLocalIndex
		if owner == Remote {
			aliceOut = c.ToRemoteIndex
		}
		if aliceOut != -1 || len(c.Tx.TxOut) != 2 {
			t.Fatalf("%v: opener output kept", owner)
		}
	}
}

func TestNewCommitmentRejects(t *testing.T) {
	tp := newTestPair(t, ChannelTypeAnchors)
	_, point := commitPointAt(1, 0)
	spec := testSpec(3, 253)

	over := *spec
	over.LocalBalanceMsat += 1000
	if _, err := NewCommitment(tp.aliceParams, Local, point,
		&over); !errors.Is(err, ErrBalanceOverflow) {

		t.Errorf("balance above capacity: %v", err)
	}
	huge := *spec
	huge.HTLCs = append([]HTLC{{AmountMsat: 1 << 63}}, spec.HTLCs...)
	if _, err := NewCommitment(tp.aliceParams, Local, point,
		&huge); !errors.Is(err, ErrBalanceOverflow) {

		t.Errorf("huge HTLC: %v", err)
	}
	if _, err := NewCommitment(tp.aliceParams, Local, nil,
		spec); err == nil {

		t.Error("nil commitment point accepted")
	}
	big := *spec
	big.Number = 1 << 48
	if _, err := NewCommitment(tp.aliceParams, Local, point,
		&big); err == nil {

		t.Error("commitment number above 48 bits accepted")
	}
	if _, err := NewCommitment(tp.aliceParams, Party(2), point,
		spec); err == nil {

		t.Error("unknown party accepted")
	}
	bad := *tp.aliceParams
	bad.Remote.HtlcBasePoint = nil
	if _, err := NewCommitment(&bad, Local, point, spec); !errors.Is(err,
		ErrInvalidParams) {

		t.Errorf("missing basepoint: %v", err)
	}
	bad = *tp.aliceParams
	bad.Type = 1 << 5
	if _, err := NewCommitment(&bad, Local, point, spec); !errors.Is(err,
		ErrInvalidParams) {

		t.Errorf("unknown channel type: %v", err)
	}
}

// FuzzCommitment builds commitments from arbitrary states and checks that
// nothing panics, that both sides build the same transaction and that
// amounts add up.
func FuzzCommitment(f *testing.F) {
	f.Add(uint8(0), uint64(7_000_000_000), uint32(15000), []byte{1, 2, 3})
	f.Add(uint8(1), uint64(6_988_000_000), uint32(253), []byte{9, 200, 7, 7})
	f.Add(uint8(1), uint64(0), uint32(6216010), []byte{})
	tpA := newTestPair(f, ChannelTypeStaticRemoteKey)
	tpB := newTestPair(f, ChannelTypeAnchors)
	_, point := commitPointAt(1, 0)
	f.Fuzz(func(t *testing.T, typ uint8, local uint64, rate uint32,
		htlcs []byte) {

		tp := tpA
		if typ&1 == 1 {
			tp = tpB
		}
		spec := &CommitmentSpec{FeeRate: chainfee.SatPerKWeight(rate),
			Number: uint64(rate)}
		var inFlight uint64
		for i, b := range htlcs {
			if i >= 100 {
				break
			}
			amt := uint64(b) * 97_001
			spec.HTLCs = append(spec.HTLCs, HTLC{
				Incoming:    b&1 == 1,
				AmountMsat:  amt,
				PaymentHash: [32]byte{b & 3},
				CltvExpiry:  uint32(b % 4),
			})
			inFlight += amt
		}
		total := uint64(tp.aliceParams.Capacity) * 1000
		if inFlight > total {
			return
		}
		spec.LocalBalanceMsat = min(local, total-inFlight)
		spec.RemoteBalanceMsat = total - inFlight - spec.LocalBalanceMsat

		for _, owner := range []Party{Local, Remote} {
			c, err := NewCommitment(tp.aliceParams, owner, point, spec)
			if err != nil {
				t.Fatal(err)
			}
			m, err := NewCommitment(tp.bobParams, owner.Other(), point,
				mirrorSpec(spec))
			if err != nil {
				t.Fatal(err)
			}
			if c.Tx.TxHash() != m.Tx.TxHash() {
				t.Fatal("the two sides disagree")
			}
			checkCommitInvariants(t, tp.aliceParams, c, spec)

			cost := CommitmentCost(tp.aliceParams, owner, spec)
			var trimmed uint64
			for _, h := range c.Trimmed {
				trimmed += h.AmountMsat
			}
			if cost.BaseFee != c.BaseFee ||
				cost.Untrimmed != len(c.HTLCs) ||
				cost.TrimmedMsat != trimmed {

				t.Fatalf("CommitmentCost %+v disagrees", cost)
			}
			if sc := storedCost(tp.aliceParams, owner,
				storedSpec(spec)); sc != cost {

				t.Fatalf("storedCost %+v, CommitmentCost %+v", sc, cost)
			}
		}
	})
}

// storedSpec is spec as the channel stores it.
func storedSpec(spec *CommitmentSpec) *channeldb.ChannelCommitment {
	v := &channeldb.ChannelCommitment{Number: spec.Number,
		FeeRate:          uint32(spec.FeeRate),
		LocalBalanceMsat: spec.LocalBalanceMsat, RemoteBalanceMsat: spec.RemoteBalanceMsat}
	for i, h := range spec.HTLCs {
		v.HTLCs = append(v.HTLCs, channeldb.HTLC{ID: uint64(i),
			Incoming: h.Incoming, AmountMsat: h.AmountMsat,
			PaymentHash: h.PaymentHash, CltvExpiry: h.CltvExpiry})
	}
	return v
}
