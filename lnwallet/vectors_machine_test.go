package lnwallet

import (
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/btcsuite/btcd/btcutil"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwallet/chainfee"
	"lnd.xprv/lnwallet/shachain"
	"lnd.xprv/lnwire"
)

// The BOLT 3 Appendix C (static_remotekey) and Appendix F (anchors)
// vectors, reached through the state machine rather than the transaction
// builders: two Channels start at commitment 41 with the vector's
// balances plus the HTLCs each side will offer, each side offers its
// HTLCs with AddHTLC, the opener moves the fee rate with UpdateFee, and
// two commitment rounds run (SignNextCommitment, ReceiveNewCommitment,
// RevokeCurrentCommitment, ReceiveRevocation) until the remote signs our
// commitment 42. Checked byte for byte against the vector: the remote's
// commitment_signed signature and every HTLC signature it sends (with
// anchors, SIGHASH_SINGLE|ANYONECANPAY), and our fully signed commitment
// from LocalCommitTx. The local HTLC signatures and HTLC transactions
// are covered by TestAppendixC/F, which build them from the same
// commitment. Vector states the opener cannot afford are refused by the
// state machine's checks, and the test asserts that refusal.

// vectorSecrets is our secret source: the vector's per_commitment_secret
// for commitment 42, a shachain for every other number.
type vectorSecrets struct {
	prod   *shachain.Producer
	secret [32]byte
}

func (v *vectorSecrets) ForCommitment(n uint64) ([32]byte, error) {
	if n == 42 {
		return v.secret, nil
	}
	return v.prod.ForCommitment(n)
}

// vectorPair builds the two Channels of a vector at commitment 41.
func vectorPair(t *testing.T, tc *testChannel, set []HTLC, toLocal,
	toRemote uint64, rate uint32) (local, remote *testNode) {

	t.Helper()
	offered := func(incoming bool) uint64 {
		var s uint64
		for _, h := range set {
			if h.Incoming == incoming {
				s += h.AmountMsat
			}
		}
		return s
	}
	localBal := toLocal + offered(false)
	remoteBal := toRemote + offered(true)
	if localBal+remoteBal != uint64(tc.local.Capacity)*1000 {
		t.Fatalf("vector balances %d + %d do not add up", localBal,
			remoteBal)
	}
	var secret [32]byte
	copy(secret[:], unhex(t, tc.header["x_local_per_commitment_secret"]))
	localSecrets := &vectorSecrets{
		prod: shachain.NewProducer([32]byte{1}), secret: secret}
	remoteSecrets := shachain.NewProducer([32]byte{2})
	if !CommitPoint(secret).IsEqual(tc.commitPoint) {
		t.Fatal("per-commitment secret does not match the point")
	}
	record := func(p *ChannelParams, ours, theirs SecretSource, mine,
		other uint64) *channeldb.OpenChannel {

		conv := func(c *ChannelConfig) channeldb.ChannelConfig {
			return channeldb.ChannelConfig{
				ChannelConstraints: channeldb.ChannelConstraints{
					DustLimit:                c.DustLimit,
					HtlcMinimumMsat:          1,
					MaxHtlcValueInFlightMsat: 1 << 50,
					MaxAcceptedHtlcs:         483,
					CsvDelay:                 c.CsvDelay,
				},
				FundingKey:              c.FundingKey,
				RevocationBasePoint:     c.RevocationBasePoint,
				PaymentBasePoint:        c.PaymentBasePoint,
				DelayedPaymentBasePoint: c.DelayedPaymentBasePoint,
				HtlcBasePoint:           c.HtlcBasePoint,
			}
		}
		commit := channeldb.ChannelCommitment{Number: 41,
			LocalBalanceMsat: mine, RemoteBalanceMsat: other,
			FeeRate: rate}
		store := shachain.NewStore()
		for n := uint64(0); n < 41; n++ {
			s, _ := theirs.ForCommitment(n)
			idx, _ := shachain.IndexForCommitment(n)
			if err := store.Insert(idx, s); err != nil {
				t.Fatal(err)
			}
		}
		s41, _ := theirs.ForCommitment(41)
		s42, _ := theirs.ForCommitment(42)
		return &channeldb.OpenChannel{
			FundingOutpoint:    p.FundingOutpoint,
			Capacity:           p.Capacity,
			ChanType:           uint8(p.Type),
			IsInitiator:        p.LocalIsOpener,
			LocalConfig:        conv(&p.Local),
			RemoteConfig:       conv(&p.Remote),
			LocalCommit:        commit,
			RemoteCommit:       commit,
			RemoteCurrentPoint: CommitPoint(s41),
			RemoteNextPoint:    CommitPoint(s42),
			RevocationStore:    store,
		}
	}
	policy := func(s Signer, src SecretSource) Config {
		return Config{Signer: s, Secrets: src, MinFeeRate: 1,
			MaxFeeRate: 1 << 30, MaxDustExposureMsat: 1 << 50}
	}
	lc, err := NewChannel(record(tc.local, localSecrets, remoteSecrets,
		localBal, remoteBal), policy(tc.localSigner, localSecrets))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := NewChannel(record(tc.remote, remoteSecrets, localSecrets,
		remoteBal, localBal), policy(tc.remoteSigner, remoteSecrets))
	if err != nil {
		t.Fatal(err)
	}
	return &testNode{ch: lc, store: &memStore{}},
		&testNode{ch: rc, store: &memStore{}}
}

// vectorWant is what one vector expects of our commitment 42.
type vectorWant struct {
	remoteSig string
	htlcSigs  []string
	tx        string
}

// runVectorThroughMachine drives the two Channels to the vector's state
// and checks it. It returns false if the state machine refused the state
// (the opener cannot afford it).
func runVectorThroughMachine(t *testing.T, tc *testChannel, set []HTLC,
	toLocal, toRemote uint64, rate uint32, want vectorWant) bool {

	t.Helper()
	// Add HTLCs at a rate both sides can afford, then move to the
	// vector's rate with update_fee.
	start := min(rate, uint32(chainfee.FeePerKwFloor))
	local, remote := vectorPair(t, tc, set, toLocal, toRemote, start)
	for _, h := range set {
		from, to := local, remote
		if h.Incoming {
			from, to = remote, local
		}
		add, err := from.ch.AddHTLC(&lnwire.UpdateAddHTLC{
			Amount:      lnwire.MilliSatoshi(h.AmountMsat),
			PaymentHash: h.PaymentHash, Expiry: h.CltvExpiry,
		})
		if err != nil {
			t.Fatalf("AddHTLC: %v", err)
		}
		to.exchange(t, add)
	}
	if rate != start {
		fee, err := local.ch.UpdateFee(rate)
		if err != nil {
			if errors.Is(err, ErrBelowReserve) {
				t.Logf("UpdateFee(%d) refused: %v", rate, err)
				return false
			}
			t.Fatalf("UpdateFee: %v", err)
		}
		remote.exchange(t, fee)
	}

	// Round 1: we sign the remote's 42; it revokes 41.
	raa, _ := remote.exchange(t, local.sign(t))
	local.exchange(t, raa...)
	// Round 2: the remote signs our 42, which holds every update.
	cs := remote.sign(t).(*lnwire.CommitSig)
	checkSig(t, "remote signature", cs.CommitSig, want.remoteSig)
	if len(cs.HtlcSigs) != len(want.htlcSigs) {
		t.Fatalf("%d HTLC signatures, vector has %d", len(cs.HtlcSigs),
			len(want.htlcSigs))
	}
	for i, s := range cs.HtlcSigs {
		checkSig(t, "remote HTLC signature", s, want.htlcSigs[i])
	}
	local.exchange(t, cs)
	if n := local.ch.st.LocalCommit.Number; n != 42 {
		t.Fatalf("local commitment %d, want 42", n)
	}
	tx, err := local.ch.LocalCommitTx()
	if err != nil {
		t.Fatal(err)
	}
	if got := txHex(t, tx); got != want.tx {
		t.Fatalf("commitment tx\n got %s\nwant %s", got, want.tx)
	}
	return true
}

func checkSig(t *testing.T, what string, got lnwire.Sig, wantDER string) {
	t.Helper()
	want, err := lnwire.NewSigFromDER(unhex(t, wantDER))
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("%s differs from the vector", what)
	}
}

func TestAppendixCThroughChannel(t *testing.T) {
	tc := loadAppendixCChannel(t, ChannelTypeStaticRemoteKey)
	reached := 0
	for _, vc := range loadAppendixC(t) {
		t.Run(vc.name, func(t *testing.T) {
			set := tc.htlcSet(vc.name,
				vc.name != "simple commitment tx with no HTLCs")
			want := vectorWant{remoteSig: vc.remoteSig, tx: vc.commitTx}
			for _, h := range vc.htlcs {
				want.htlcSigs = append(want.htlcSigs, h.remoteSig)
			}
			if runVectorThroughMachine(t, tc, set, vc.toLocalMsat,
				vc.toRemoteMsat, uint32(vc.feeRate), want) {

				reached++
				return
			}
			if vc.name != "commitment tx with fee greater than funder amount" {
				t.Fatal("state machine refused a state the opener " +
					"can afford")
			}
		})
	}
	if reached != 15 {
		t.Fatalf("%d of 16 vectors reached, want 15", reached)
	}
}

func TestAppendixFThroughChannel(t *testing.T) {
	data, err := os.ReadFile("testdata/bolt03-appendix-f.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []appendixFCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	base := loadAppendixCChannel(t, ChannelTypeAnchors)
	for _, vc := range cases {
		t.Run(vc.Name, func(t *testing.T) {
			tc := *base
			local := *base.local
			// The vector fixes only our dust limit; giving the
			// peer the same one makes every vector's state one
			// the opener can afford on both commitments.
			local.Local.DustLimit = btcutil.Amount(vc.DustLimitSatoshis)
			local.Remote.DustLimit = local.Local.DustLimit
			tc.local, tc.remote = &local, mirror(&local)
			want := vectorWant{remoteSig: vc.RemoteSigHex,
				tx: vc.ExpectedCommitmentTxHex}
			for _, d := range vc.HtlcDescs {
				want.htlcSigs = append(want.htlcSigs, d.RemoteSigHex)
			}
			if !runVectorThroughMachine(t, &tc,
				tc.htlcSet(vc.Name, vc.UseTestHtlcs), vc.LocalBalance,
				vc.RemoteBalance, uint32(vc.FeePerKw), want) {

				t.Fatal("state machine refused the vector's state")
			}
		})
	}
}
