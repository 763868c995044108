package itest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
)

// TestChannelEvents: SubscribeChannelEvents reports a channel pending,
// open, active, inactive while its peer is away, active again, closed and
// fully resolved, in that order.
func TestChannelEvents(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	bob := startNode(t, nw, "bob")
	check(t, nw.Fund(alice, 5_000_000))
	check(t, nw.ConnectNodes(alice, bob, false))

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	sub, err := alice.RPC.SubscribeChannelEvents(ctx, &lnrpc.ChannelEventSubscription{})
	check(t, err)
	events := make(chan *lnrpc.ChannelEventUpdate, 64)
	go func() {
		for {
			ev, err := sub.Recv()
			if err != nil {
				close(events)
				return
			}
			events <- ev
		}
	}()
	next := func(want lnrpc.ChannelEventUpdate_UpdateType, point string) {
		t.Helper()
		timeout := time.After(harness.SyncTimeout)
		for {
			select {
			case ev, ok := <-events:
				if !ok {
					t.Fatalf("stream ended waiting for %v", want)
				}
				if ev.Type != want {
					t.Logf("skipping %v while waiting for %v", ev.Type, want)
					continue
				}
				if got := eventPoint(ev); got != point {
					t.Fatalf("%v for %s, want %s", want, got, point)
				}
				return
			case <-timeout:
				t.Fatalf("no %v event", want)
			}
		}
	}

	point, _ := openActive(t, nw, alice, bob, lnrpc.CommitmentType_ANCHORS)
	next(lnrpc.ChannelEventUpdate_PENDING_OPEN_CHANNEL, point)
	next(lnrpc.ChannelEventUpdate_OPEN_CHANNEL, point)
	next(lnrpc.ChannelEventUpdate_ACTIVE_CHANNEL, point)
	check(t, bob.Stop())
	next(lnrpc.ChannelEventUpdate_INACTIVE_CHANNEL, point)
	check(t, bob.Start())
	next(lnrpc.ChannelEventUpdate_ACTIVE_CHANNEL, point)

	stream, err := alice.RPC.CloseChannel(t.Context(), &lnrpc.CloseChannelRequest{
		ChannelPoint: chanPointProto(t, point)})
	check(t, err)
	_, err = stream.Recv()
	check(t, err)
	_, err = nw.Mine(closeDepth)
	check(t, err)
	next(lnrpc.ChannelEventUpdate_CLOSED_CHANNEL, point)
	next(lnrpc.ChannelEventUpdate_FULLY_RESOLVED_CHANNEL, point)
}

func eventPoint(ev *lnrpc.ChannelEventUpdate) string {
	cp := func(p *lnrpc.ChannelPoint) string {
		h, err := chainhash.NewHash(p.GetFundingTxidBytes())
		if err != nil {
			return "?"
		}
		return fmt.Sprintf("%v:%d", h, p.OutputIndex)
	}
	switch c := ev.Channel.(type) {
	case *lnrpc.ChannelEventUpdate_OpenChannel:
		return c.OpenChannel.ChannelPoint
	case *lnrpc.ChannelEventUpdate_ClosedChannel:
		return c.ClosedChannel.ChannelPoint
	case *lnrpc.ChannelEventUpdate_ActiveChannel:
		return cp(c.ActiveChannel)
	case *lnrpc.ChannelEventUpdate_InactiveChannel:
		return cp(c.InactiveChannel)
	case *lnrpc.ChannelEventUpdate_FullyResolvedChannel:
		return cp(c.FullyResolvedChannel)
	case *lnrpc.ChannelEventUpdate_PendingOpenChannel:
		h, err := chainhash.NewHash(c.PendingOpenChannel.Txid)
		if err != nil {
			return "?"
		}
		return fmt.Sprintf("%v:%d", h, c.PendingOpenChannel.OutputIndex)
	}
	return ""
}

// TestFundingReorg: the block holding a funding transaction is replaced
// by a reorg before the channel reaches its depth; the transaction
// confirms again in the new chain, and the channel opens with the
// position it has there.
func TestFundingReorg(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	bob := startNode(t, nw, "bob")
	check(t, nw.Fund(alice, 5_000_000))
	check(t, nw.ConnectNodes(alice, bob, false))

	_, point := openChannel(t, nw, alice, bob, lnrpc.CommitmentType_ANCHORS)
	txid := point[:strings.IndexByte(point, ':')]
	blocks, err := nw.Mine(1)
	check(t, err)
	first, err := nw.TipHeight()
	check(t, err)
	for _, n := range []*harness.Node{alice, bob} {
		check(t, n.WaitHeight(first))
	}
	// The block is invalidated: the funding transaction goes back to
	// the mempool, and the longer chain mined next holds it in another
	// block.
	c := nw.Btcd().Client()
	check(t, c.InvalidateBlock(&blocks[0]))
	_, err = nw.Mine(4)
	check(t, err)
	h, err := chainhash.NewHashFromStr(txid)
	check(t, err)
	raw, err := c.GetRawTransactionVerbose(h)
	check(t, err)
	if raw.BlockHash == "" || raw.BlockHash == blocks[0].String() {
		t.Fatalf("funding transaction in block %q, invalidated %v",
			raw.BlockHash, blocks[0])
	}
	ca := waitActive(t, alice, point)
	cb := waitActive(t, bob, point)
	blk, err := chainhash.NewHashFromStr(raw.BlockHash)
	check(t, err)
	hdr, err := c.GetBlockHeaderVerbose(blk)
	check(t, err)
	if got := uint32(ca.ChanId >> 40); got != uint32(hdr.Height) || ca.ChanId != cb.ChanId {
		t.Fatalf("chan_id at height %d (bob %d), funding confirmed at %d",
			got, cb.ChanId>>40, hdr.Height)
	}
}
