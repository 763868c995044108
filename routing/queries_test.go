package routing

import (
	"bytes"
	"errors"
	"go/parser"
	"go/token"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/lnwire"
)

// roundTrip encodes and decodes msg, as the peer will see it.
func roundTrip(t *testing.T, msg lnwire.Message) lnwire.Message {
	t.Helper()
	var buf bytes.Buffer
	if _, err := lnwire.WriteMessage(&buf, msg); err != nil {
		t.Fatalf("encode %v: %v", msg.MsgType(), err)
	}
	got, err := lnwire.ReadMessage(&buf)
	if err != nil {
		t.Fatalf("decode %v: %v", msg.MsgType(), err)
	}
	return got
}

func TestQueryResponderAnswersQueries(t *testing.T) {
	ours := *chaincfg.RegressionNetParams.GenesisHash
	other := *chaincfg.MainNetParams.GenesisHash
	g := NewQueryResponder(ours, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ts := uint64(1)

	t.Run("query_channel_range", func(t *testing.T) {
		tests := []struct {
			first, num uint32
		}{
			{0, 452}, // what lnd sent in the interop run
			{700000, 1},
			{0, 0xffffffff},     // "everything"
			{0xfffffff0, 0x100}, // range past the u32 end
			{10, 0},             // invalid query; still answered
		}
		for _, tc := range tests {
			q := &lnwire.QueryChannelRange{ChainHash: ours, FirstBlockHeight: tc.first,
				NumBlocks: tc.num, QueryOptions: &ts}
			r, ok := roundTrip(t, g.Reply(q)).(*lnwire.ReplyChannelRange)
			if !ok {
				t.Fatalf("%d+%d: reply is not reply_channel_range", tc.first, tc.num)
			}
			// BOLT 7 and lnd's checks on the single, final reply.
			switch {
			case r.ChainHash != q.ChainHash:
				t.Errorf("%d+%d: chain %v", tc.first, tc.num, r.ChainHash)
			case r.SyncComplete != 1:
				t.Errorf("%d+%d: sync_complete %d", tc.first, tc.num, r.SyncComplete)
			case r.FirstBlockHeight > q.FirstBlockHeight:
				t.Errorf("%d+%d: starts at %d", tc.first, tc.num, r.FirstBlockHeight)
			case r.NumBlocks == 0 || uint64(r.FirstBlockHeight)+uint64(r.NumBlocks) <= uint64(q.FirstBlockHeight):
				t.Errorf("%d+%d: covers nothing (%d+%d)", tc.first, tc.num, r.FirstBlockHeight, r.NumBlocks)
			case q.NumBlocks > 0 && r.LastBlockHeight() != q.LastBlockHeight():
				t.Errorf("%d+%d: ends at %d, query at %d", tc.first, tc.num,
					r.LastBlockHeight(), q.LastBlockHeight())
			case len(r.ShortChanIDs) != 0:
				t.Errorf("%d+%d: %d channels", tc.first, tc.num, len(r.ShortChanIDs))
			}
		}
	})

	t.Run("query_short_channel_ids", func(t *testing.T) {
		tests := []struct {
			chain    chainhash.Hash
			complete uint8
		}{
			{ours, 1},
			{other, 0},
		}
		for _, tc := range tests {
			q := &lnwire.QueryShortChanIDs{ChainHash: tc.chain,
				ShortChanIDs: []lnwire.ShortChannelID{{BlockHeight: 1, TxIndex: 2, TxPosition: 3}}}
			got := roundTrip(t, g.Reply(q))
			want := &lnwire.ReplyShortChanIDsEnd{ChainHash: tc.chain, Complete: tc.complete}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("reply %+v, want %+v", got, want)
			}
		}
	})

	t.Run("no reply", func(t *testing.T) {
		for _, m := range []lnwire.Message{
			&lnwire.GossipTimestampRange{ChainHash: ours},
			&lnwire.ReplyChannelRange{ChainHash: ours, SyncComplete: 1},
		} {
			if r := g.Reply(m); r != nil {
				t.Errorf("%v answered with %v", m.MsgType(), r.MsgType())
			}
		}
	})
}

// sentTo records what the responder sends to one peer.
type sentTo struct {
	sent []lnwire.Message
	err  error
}

func (p *sentTo) PubKey() [33]byte { return [33]byte{2} }

func (p *sentTo) SendMessage(msgs ...lnwire.Message) error {
	p.sent = append(p.sent, msgs...)
	return p.err
}

func TestQueryResponderHandleRepliesToSender(t *testing.T) {
	ours := *chaincfg.RegressionNetParams.GenesisHash
	g := NewQueryResponder(ours, nil)

	p := &sentTo{}
	g.Handle(p, &lnwire.QueryShortChanIDs{ChainHash: ours})
	want := &lnwire.ReplyShortChanIDsEnd{ChainHash: ours, Complete: 1}
	if len(p.sent) != 1 || !reflect.DeepEqual(p.sent[0], want) {
		t.Fatalf("sent %v, want one %+v", p.sent, want)
	}

	p = &sentTo{}
	g.Handle(p, &lnwire.GossipTimestampRange{ChainHash: ours})
	if len(p.sent) != 0 {
		t.Fatalf("gossip_timestamp_filter answered with %v", p.sent)
	}

	// A peer that is gone: the error is logged, nothing panics.
	p = &sentTo{err: errors.New("peer gone")}
	g.Handle(p, &lnwire.QueryChannelRange{ChainHash: ours, NumBlocks: 1})
	if len(p.sent) != 1 {
		t.Fatalf("sent %d messages, want 1", len(p.sent))
	}
}

// TestNoPeerImport holds the layering of ARCHITECTURE.md: routing is
// handed what it needs and never imports peer or server.
func TestNoPeerImport(t *testing.T) {
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			switch strings.Trim(imp.Path.Value, `"`) {
			case "lnd.xprv/peer", "lnd.xprv/server":
				t.Errorf("%s imports %s", name, imp.Path.Value)
			}
		}
	}
}
