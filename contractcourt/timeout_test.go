package contractcourt

import (
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/lnwallet"
)

// timeouts records what the court hands to OnTimeout.
type timeouts struct {
	mu  sync.Mutex
	got []struct {
		hash [32]byte
		amt  btcutil.Amount
	}
}

func (r *timeouts) on(_ wire.OutPoint, hash [32]byte, amt btcutil.Amount) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, struct {
		hash [32]byte
		amt  btcutil.Amount
	}{hash, amt})
	return nil
}

// TestTimeoutFailsUpstream: the HTLC we offered times out on chain, from
// the peer's commitment (our sweep) and from ours (our HTLC-timeout
// transaction): once that spend confirms, the court hands its hash and
// amount on (BOLT 5: fail the corresponding incoming HTLC), once; the
// HTLC we received and claimed with its preimage is not handed on.
func TestTimeoutFailsUpstream(t *testing.T) {
	for _, local := range []bool{false, true} {
		name := map[bool]string{false: "their commitment", true: "our commitment"}[local]
		t.Run(name, func(t *testing.T) {
			a, b := newPair(t, lnwallet.ChannelTypeStaticRemoteKey, 11)
			addHTLC(t, a, b, 50_000, 1) // ours, expires at 501
			addHTLC(t, b, a, 20_000, 2) // theirs, claimed
			st := a.stored(t)
			var r timeouts
			f := newFakeChain(399)
			c := New(Config{DB: a.db, Notifier: f, Fees: f,
				BestHeight: func() (int32, error) {
					f.mu.Lock()
					defer f.mu.Unlock()
					return f.height, nil
				},
				Broadcast: f.broadcast, Signer: a.signer, Secrets: a.secrets,
				SweepScript: func() ([]byte, error) { return sweepScript, nil },
				Preimage:    preimages(2), OnTimeout: r.on,
			})
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Stop() })
			commit, err := b.ch.LocalCommitTx()
			if local {
				commit, err = a.ch.LocalCommitTx()
			}
			if err != nil {
				t.Fatal(err)
			}
			if local {
				if _, err := c.ForceClose(t.Context(), st, commit); err != nil {
					t.Fatal(err)
				}
				f.next(t) // the commitment
			}
			f.spend(t, commit, 400)
			first := f.next(t) // the HTLC claimed (with to_remote)
			settled(t, a, f, st.FundingOutpoint, first, 401)
			f.block(501)
			timeout := f.next(t)
			checkSpends(t, timeout, commit)
			r.mu.Lock()
			early := len(r.got)
			r.mu.Unlock()
			if early != 0 {
				t.Fatalf("handed on %d timeouts before the timeout confirmed", early)
			}
			settled(t, a, f, st.FundingOutpoint, timeout, 502)
			r.mu.Lock()
			defer r.mu.Unlock()
			if len(r.got) != 1 || r.got[0].hash != hashOf(1) || r.got[0].amt != 50_000 {
				t.Fatalf("timeouts handed on: %+v, want HTLC 1 of 50,000 sat", r.got)
			}
		})
	}
}

// TestTimeoutReplayedAfterRestart: the timeout of an HTLC we offered was
// handed on, then the node stopped before the contract was final; the
// switch may not have committed the upstream failure, so when the restart
// reports the recorded spend again the court hands the timeout on again.
// The HTLC claimed with its preimage is still not handed on.
func TestTimeoutReplayedAfterRestart(t *testing.T) {
	a, b := newPair(t, lnwallet.ChannelTypeStaticRemoteKey, 11)
	addHTLC(t, a, b, 50_000, 1) // ours, expires at 501
	addHTLC(t, b, a, 20_000, 2) // theirs, claimed
	st := a.stored(t)
	f := newFakeChain(399)
	f.finalDepth = 10
	var first timeouts
	c := newCourt(t, a, f, func(cfg *Config) {
		cfg.Preimage, cfg.OnTimeout = preimages(2), first.on
	})
	commit, err := b.ch.LocalCommitTx()
	if err != nil {
		t.Fatal(err)
	}
	f.spend(t, commit, 400)
	claim := f.next(t)
	settled(t, a, f, st.FundingOutpoint, claim, 401)
	f.block(501)
	timeout := f.next(t)
	settled(t, a, f, st.FundingOutpoint, timeout, 502)
	first.mu.Lock()
	n := len(first.got)
	first.mu.Unlock()
	if n != 1 {
		t.Fatalf("handed on %d timeouts before the restart, want 1", n)
	}

	c.Stop()
	var again timeouts
	newCourt(t, a, f, func(cfg *Config) {
		cfg.Preimage, cfg.OnTimeout = preimages(2), again.on
	})
	f.spend(t, claim, 401)
	f.spend(t, timeout, 502)
	deadline := time.Now().Add(5 * time.Second)
	for {
		again.mu.Lock()
		got := append(again.got[:0:0], again.got...)
		again.mu.Unlock()
		if len(got) == 1 {
			if got[0].hash != hashOf(1) || got[0].amt != 50_000 {
				t.Fatalf("replayed %+v, want HTLC 1 of 50,000 sat", got)
			}
			break
		}
		if len(got) > 1 || time.Now().After(deadline) {
			t.Fatalf("replayed %d timeouts after the restart, want 1", len(got))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestTimeoutHandedByID: with OnTimeoutHTLC set, the timeout of an HTLC
// we offered is handed on by its id, from the peer's commitment and from
// ours, and not by hash and amount: two HTLCs of one payment (same hash
// and amount) are then told apart. The other HTLC, not yet expired, is
// not handed on.
func TestTimeoutHandedByID(t *testing.T) {
	for _, local := range []bool{false, true} {
		name := map[bool]string{false: "their commitment", true: "our commitment"}[local]
		t.Run(name, func(t *testing.T) {
			a, b := newPair(t, lnwallet.ChannelTypeStaticRemoteKey, 14)
			addHTLC(t, a, b, 30_000, 3) // ours, id 0, expires at 503
			addHTLC(t, a, b, 50_000, 1) // ours, id 1, expires at 501
			st := a.stored(t)
			var (
				byHash timeouts
				mu     sync.Mutex
				ids    []uint64
			)
			f := newFakeChain(399)
			c := New(Config{DB: a.db, Notifier: f, Fees: f,
				BestHeight: func() (int32, error) {
					f.mu.Lock()
					defer f.mu.Unlock()
					return f.height, nil
				},
				Broadcast: f.broadcast, Signer: a.signer, Secrets: a.secrets,
				SweepScript: func() ([]byte, error) { return sweepScript, nil },
				OnTimeout:   byHash.on,
				OnTimeoutHTLC: func(_ wire.OutPoint, id uint64) error {
					mu.Lock()
					defer mu.Unlock()
					ids = append(ids, id)
					return nil
				},
			})
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Stop() })
			commit, err := b.ch.LocalCommitTx()
			if local {
				commit, err = a.ch.LocalCommitTx()
			}
			if err != nil {
				t.Fatal(err)
			}
			if local {
				if _, err := c.ForceClose(t.Context(), st, commit); err != nil {
					t.Fatal(err)
				}
				f.next(t) // the commitment
			}
			f.spend(t, commit, 400)
			if !local {
				to := f.next(t) // our to_remote, at once
				settled(t, a, f, st.FundingOutpoint, to, 401)
			}
			f.block(501)
			timeout := f.next(t)
			settled(t, a, f, st.FundingOutpoint, timeout, 502)
			mu.Lock()
			defer mu.Unlock()
			byHash.mu.Lock()
			defer byHash.mu.Unlock()
			if len(ids) != 1 || ids[0] != 1 || len(byHash.got) != 0 {
				t.Fatalf("handed on ids %v and %d by hash, want id 1 only", ids, len(byHash.got))
			}
		})
	}
}
