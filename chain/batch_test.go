package chain

import (
	"context"
	"testing"

	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/internal/regtest"
)

// TestRegisterSpends: one batch registers outputs spent before it at
// different heights (each found, at its block), an output spent below
// its hint (not reported, as RegisterSpend would not), an output that
// was never created (never reported) and an unspent one, whose later
// spend is reported like any other. Registering the same outputs one by
// one gives the same answers.
func TestRegisterSpends(t *testing.T) {
	node := regtest.StartBtcd(t)
	b := newBackend(t, node)
	key := newTestKey(t)
	_, start := node.BestBlock()

	type out struct {
		op    wire.OutPoint
		value int64
	}
	var outs []out
	for range 4 {
		fund, err := node.SendTo(key.script, 1_000_000)
		if err != nil {
			t.Fatal(err)
		}
		op, v := outputTo(t, fund, key.script)
		outs = append(outs, out{op, v})
	}
	node.Mine(1)
	// Outputs 0, 1 and 2 spent, each in its own block.
	spendAt := map[int]int32{}
	spender := map[int]*wire.MsgTx{}
	for i := range 3 {
		tx := key.spend(t, outs[i].op, outs[i].value, key.script, 5_000)
		if err := b.Broadcast(context.Background(), tx); err != nil {
			t.Fatal(err)
		}
		node.Mine(1)
		_, h := node.BestBlock()
		spendAt[i], spender[i] = h, tx
	}
	node.Mine(2)
	waitTip(t, b, node)

	never := wire.OutPoint{Hash: outs[0].op.Hash, Index: 77}
	reqs := []SpendRequest{
		{OutPoint: outs[0].op, HeightHint: start},
		{OutPoint: outs[1].op, HeightHint: spendAt[1]},
		{OutPoint: outs[2].op, HeightHint: spendAt[2] + 1}, // below the hint
		{OutPoint: never, HeightHint: start},
		{OutPoint: outs[3].op, HeightHint: start},
	}
	check := func(evs []*SpendEvent) {
		t.Helper()
		for i := range 2 {
			d := recv(t, evs[i].Spend, "spent before the registration")
			if d.SpenderTxHash != spender[i].TxHash() || d.SpendingHeight != spendAt[i] {
				t.Fatalf("output %d: spend %+v, want %v at %d", i, d,
					spender[i].TxHash(), spendAt[i])
			}
		}
		for _, i := range []int{2, 3, 4} {
			select {
			case d := <-evs[i].Spend:
				t.Fatalf("request %d: spend %+v reported", i, d)
			default:
			}
		}
	}
	batch, err := b.RegisterSpends(reqs)
	if err != nil {
		t.Fatal(err)
	}
	check(batch)
	var single []*SpendEvent
	for _, q := range reqs {
		ev, err := b.RegisterSpend(q.OutPoint, q.PkScript, q.HeightHint)
		if err != nil {
			t.Fatal(err)
		}
		single = append(single, ev)
	}
	check(single)

	tx := key.spend(t, outs[3].op, outs[3].value, key.script, 5_000)
	if err := b.Broadcast(context.Background(), tx); err != nil {
		t.Fatal(err)
	}
	node.Mine(1)
	_, h := node.BestBlock()
	for _, evs := range [][]*SpendEvent{batch, single} {
		d := recv(t, evs[4].Spend, "spent after the registration")
		if d.SpenderTxHash != tx.TxHash() || d.SpendingHeight != h {
			t.Fatalf("later spend %+v", d)
		}
	}
	for _, evs := range [][]*SpendEvent{batch, single} {
		for _, ev := range evs {
			ev.Cancel()
		}
	}
}

// BenchmarkRegisterSpends registers the coinbase outputs of the chain's
// blocks (as many as -spends, each hinted at its block; the ones the
// harness wallet spent are searched for in the blocks) one by one and in
// one batch, as a node's start registers its channels' funding outputs.
func BenchmarkRegisterSpends(b *testing.B) {
	node := regtest.StartBtcd(b)
	_, tip := node.BestBlock()
	const n = 1000
	if tip < n+1 {
		node.Mine(int(n + 1 - tip))
	}
	c := node.Client()
	reqs := make([]SpendRequest, n)
	for i := range reqs {
		h, err := c.GetBlockHash(int64(i + 1))
		if err != nil {
			b.Fatal(err)
		}
		blk, err := c.GetBlock(h)
		if err != nil {
			b.Fatal(err)
		}
		reqs[i] = SpendRequest{OutPoint: wire.OutPoint{Hash: blk.Transactions[0].TxHash()},
			HeightHint: int32(i + 1)}
	}
	for _, mode := range []string{"one_by_one", "batch"} {
		b.Run(mode, func(b *testing.B) {
			be := newBackend(b, node)
			b.ReportAllocs()
			for b.Loop() {
				var evs []*SpendEvent
				if mode == "batch" {
					var err error
					if evs, err = be.RegisterSpends(reqs); err != nil {
						b.Fatal(err)
					}
				} else {
					for _, q := range reqs {
						ev, err := be.RegisterSpend(q.OutPoint, nil, q.HeightHint)
						if err != nil {
							b.Fatal(err)
						}
						evs = append(evs, ev)
					}
				}
				for _, ev := range evs {
					ev.Cancel()
				}
			}
		})
	}
}
