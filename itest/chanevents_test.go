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

// eventStream follows one node's SubscribeChannelEvents.
type eventStream struct {
	t      *testing.T
	name   string
	events chan *lnrpc.ChannelEventUpdate
}

func subscribeEvents(t *testing.T, n *harness.Node) *eventStream {
	t.Helper()
	sub, err := n.RPC.SubscribeChannelEvents(t.Context(), &lnrpc.ChannelEventSubscription{})
	check(t, err)
	s := &eventStream{t: t, name: n.Name(), events: make(chan *lnrpc.ChannelEventUpdate, 64)}
	go func() {
		defer close(s.events)
		for {
			ev, err := sub.Recv()
			if err != nil {
				return
			}
			s.events <- ev
		}
	}()
	return s
}

// recv returns the next event of point, skipping other channels'.
func (s *eventStream) recv(point string) *lnrpc.ChannelEventUpdate {
	s.t.Helper()
	timeout := time.After(harness.SyncTimeout)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				s.t.Fatalf("%s: stream ended", s.name)
			}
			if eventPoint(ev) == point {
				return ev
			}
		case <-timeout:
			s.t.Fatalf("%s: no event for %s", s.name, point)
		}
	}
}

// skipTo skips point's events until one of type want.
func (s *eventStream) skipTo(point string, want lnrpc.ChannelEventUpdate_UpdateType) {
	s.t.Helper()
	for ev := s.recv(point); ev.Type != want; ev = s.recv(point) {
		s.t.Logf("%s: skipping %v while waiting for %v", s.name, ev.Type, want)
	}
}

// expect checks point's next event is of type want, and returns it.
func (s *eventStream) expect(point string, want lnrpc.ChannelEventUpdate_UpdateType) *lnrpc.ChannelEventUpdate {
	s.t.Helper()
	ev := s.recv(point)
	if ev.Type != want {
		s.t.Fatalf("%s: event %v for %s, want %v", s.name, ev.Type, point, want)
	}
	return ev
}

// TestChannelEventsForceClose: lnd's sequence for a force close on
// both sides, nothing else in between: the closer's channel goes
// inactive when its link stops, the other's when the commitment
// confirms; both then see it closed with their close type once the
// commitment confirms, and fully resolved once every output of theirs
// is swept (the anchors, not worth their fee, are left).
func TestChannelEventsForceClose(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	bob := startNode(t, nw, "bob")
	check(t, nw.Fund(alice, 5_000_000))
	check(t, nw.ConnectNodes(alice, bob, false))
	ae, be := subscribeEvents(t, alice), subscribeEvents(t, bob)

	point, ac, bc := openActiveBoth(t, nw, alice, bob, lnrpc.CommitmentType_ANCHORS)
	for _, s := range []*eventStream{ae, be} {
		s.skipTo(point, lnrpc.ChannelEventUpdate_OPEN_CHANNEL)
		s.expect(point, lnrpc.ChannelEventUpdate_ACTIVE_CHANNEL)
	}

	commit, _ := forceClose(t, nw, alice, point)
	ae.expect(point, lnrpc.ChannelEventUpdate_INACTIVE_CHANNEL)
	_, err := nw.Mine(1)
	check(t, err)
	closeHeight, err := nw.TipHeight()
	check(t, err)
	for _, c := range []struct {
		s         *eventStream
		typ       lnrpc.ChannelCloseSummary_ClosureType
		initiator lnrpc.Initiator
	}{
		{ae, lnrpc.ChannelCloseSummary_LOCAL_FORCE_CLOSE, lnrpc.Initiator_INITIATOR_LOCAL},
		{be, lnrpc.ChannelCloseSummary_REMOTE_FORCE_CLOSE, lnrpc.Initiator_INITIATOR_REMOTE},
	} {
		if c.s == be {
			c.s.expect(point, lnrpc.ChannelEventUpdate_INACTIVE_CHANNEL)
		}
		sum := c.s.expect(point, lnrpc.ChannelEventUpdate_CLOSED_CHANNEL).GetClosedChannel()
		if sum.CloseType != c.typ || sum.ClosingTxHash != commit.Tx.TxHash().String() ||
			sum.CloseHeight != uint32(closeHeight) || sum.CloseInitiator != c.initiator ||
			sum.Capacity != chanCap {
			t.Fatalf("%s: closed channel %v", c.s.name, sum)
		}
	}
	// Bob's to_remote is swept at once; his channel resolves when the
	// sweep confirms.
	waitSpender(t, nw, commitOutput(t, commit, bc.LocalBalance))
	_, err = nw.Mine(1)
	check(t, err)
	be.expect(point, lnrpc.ChannelEventUpdate_FULLY_RESOLVED_CHANNEL)

	// Alice's after her to_local's delay.
	csv := int(ac.LocalConstraints.CsvDelay)
	_, err = nw.Mine(csv - 2)
	check(t, err)
	waitSpender(t, nw, commitOutput(t, commit, ac.LocalBalance))
	_, err = nw.Mine(1)
	check(t, err)
	ae.expect(point, lnrpc.ChannelEventUpdate_FULLY_RESOLVED_CHANNEL)

	// ClosedChannels says the same.
	cl, err := alice.RPC.ClosedChannels(t.Context(), &lnrpc.ClosedChannelsRequest{LocalForce: true})
	check(t, err)
	if len(cl.Channels) != 1 || cl.Channels[0].ChannelPoint != point ||
		cl.Channels[0].CloseInitiator != lnrpc.Initiator_INITIATOR_LOCAL ||
		cl.Channels[0].OpenInitiator != lnrpc.Initiator_INITIATOR_LOCAL {
		t.Fatalf("closed channels %v", cl.Channels)
	}
}
