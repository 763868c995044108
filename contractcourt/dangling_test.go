package contractcourt

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwallet"
)

// TestUnclaimable: of the HTLCs we offered, those without an output on
// the confirmed commitment (dust) and those offered after it are
// unclaimable; one with an output, one removed in the confirmed
// commitment (a lower id missing from it) and the peer's are not. A
// breach or an unknown commitment gives none.
func TestUnclaimable(t *testing.T) {
	tx := wire.NewMsgTx(2)
	tx.AddTxOut(wire.NewTxOut(1000, []byte{1}))
	other := wire.NewMsgTx(2)
	other.AddTxOut(wire.NewTxOut(2000, []byte{2}))
	offered := func(id uint64, out int32) channeldb.HTLC {
		return channeldb.HTLC{ID: id, AmountMsat: 1000, OutputIndex: out}
	}
	received := channeldb.HTLC{ID: 9, Incoming: true, OutputIndex: -1}
	record := func(kind channeldb.ContractKind, closeTx *wire.MsgTx) *channeldb.ContractRecord {
		st := &channeldb.OpenChannel{}
		// Confirmed: our commitment, with HTLC 3 (an output) and 4
		// (dust); 2 was removed in it; 5 and 6 came after it, on
		// the peer's next commitment.
		st.LocalCommit = channeldb.ChannelCommitment{TxID: tx.TxHash(), LocalHtlcID: 5,
			HTLCs: []channeldb.HTLC{offered(3, 0), offered(4, -1), received}}
		st.RemoteCommit = channeldb.ChannelCommitment{TxID: other.TxHash(), LocalHtlcID: 5,
			HTLCs: []channeldb.HTLC{offered(2, 0), offered(3, 1), offered(4, -1)}}
		st.PendingRemote = &channeldb.CommitDiff{Commitment: channeldb.ChannelCommitment{
			LocalHtlcID: 7,
			HTLCs:       []channeldb.HTLC{offered(3, 1), offered(4, 2), offered(5, 3), offered(6, -1)}}}
		return &channeldb.ContractRecord{Kind: kind, CloseTx: closeTx, Channel: st}
	}
	got := unclaimable(record(channeldb.ContractLocalCommit, tx))
	slices.Sort(got)
	if !slices.Equal(got, []uint64{4, 5, 6}) {
		t.Fatalf("unclaimable %v, want [4 5 6]", got)
	}
	// The peer's commitment confirmed: 2 and 3 have outputs there, 4
	// is dust, 5 and 6 are later.
	got = unclaimable(record(channeldb.ContractRemoteCommit, other))
	slices.Sort(got)
	if !slices.Equal(got, []uint64{4, 5, 6}) {
		t.Fatalf("on the peer's commitment: unclaimable %v, want [4 5 6]", got)
	}
	if got := unclaimable(record(channeldb.ContractBreach, tx)); len(got) != 0 {
		t.Fatalf("breach: unclaimable %v", got)
	}
	unknown := wire.NewMsgTx(2)
	if got := unclaimable(record(channeldb.ContractRemoteCommit, unknown)); len(got) != 0 {
		t.Fatalf("unknown commitment: unclaimable %v", got)
	}
}

// unclaimables records the HTLC ids OnUnclaimable was given.
type unclaimables struct {
	mu  sync.Mutex
	ids []uint64
}

func (u *unclaimables) on(_ wire.OutPoint, ids []uint64) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.ids = append(u.ids, ids...)
	return nil
}

func (u *unclaimables) wait(t *testing.T, want []uint64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		u.mu.Lock()
		got := slices.Clone(u.ids)
		u.mu.Unlock()
		if slices.Equal(got, want) {
			return
		}
		if len(got) > len(want) || time.Now().After(deadline) {
			t.Fatalf("unclaimable HTLCs handed on: %v, want %v", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestUnclaimableHandedOn: the peer's commitment confirms with a dust
// HTLC we offered and one with an output: the court hands the dust one
// upstream at once, and again when a restart reports the spend before
// the contract is final.
func TestUnclaimableHandedOn(t *testing.T) {
	a, b := newPair(t, lnwallet.ChannelTypeStaticRemoteKey, 12)
	addHTLC(t, a, b, 50_000, 1) // ours, id 0, an output
	addHTLC(t, a, b, 300, 2)    // ours, id 1, dust
	f := newFakeChain(399)
	f.finalDepth = 10
	var first unclaimables
	c := newCourt(t, a, f, func(cfg *Config) { cfg.OnUnclaimable = first.on })
	commit, err := b.ch.LocalCommitTx()
	if err != nil {
		t.Fatal(err)
	}
	f.spend(t, commit, 400)
	first.wait(t, []uint64{1})

	c.Stop()
	var again unclaimables
	newCourt(t, a, f, func(cfg *Config) { cfg.OnUnclaimable = again.on })
	f.spend(t, commit, 400)
	again.wait(t, []uint64{1})
}
