package channeldb

import (
	"context"
	"errors"
	"slices"
	"testing"
)

// TestChannelHead checks that the head read alone is the start of the
// full record, for every channel of a store, and that a truncated or
// damaged head is an error, never a panic.
func TestChannelHead(t *testing.T) {
	db, err := Open(t.TempDir() + "/channel.db")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	chans := []*OpenChannel{testChannel(t, 1), testChannel(t, 2), testChannel(t, 3)}
	for _, c := range chans {
		if err := db.PersistChannel(context.Background(), &ChannelUpdate{State: c}); err != nil {
			t.Fatal(err)
		}
	}
	full, err := db.ListOpenChannels()
	if err != nil {
		t.Fatal(err)
	}
	heads, err := db.ListChannelHeads()
	if err != nil {
		t.Fatal(err)
	}
	if len(heads) != len(full) || len(heads) != len(chans) {
		t.Fatalf("%d heads, %d channels", len(heads), len(full))
	}
	for i, c := range full {
		h := heads[i]
		if h.FundingOutpoint != c.FundingOutpoint || h.Capacity != c.Capacity ||
			h.ShortChannelID != c.ShortChannelID || !slices.Equal(h.Aliases, c.Aliases) ||
			h.RemoteNode != [33]byte(c.RemoteNode.SerializeCompressed()) {

			t.Fatalf("head %d: %+v, channel %v %v %v", i, h, c.FundingOutpoint,
				c.Capacity, c.ShortChannelID)
		}
	}

	raw, err := EncodeOpenChannel(chans[0])
	if err != nil {
		t.Fatal(err)
	}
	headLen := 1 + 36 + 8 + 1 + 1 + 8 + 4 + 8*len(chans[0].Aliases) + 1 + 33
	for n := 0; n < headLen; n++ {
		if _, err := DecodeChannelHead(raw[:n]); !errors.Is(err, ErrCorruptChannel) {
			t.Fatalf("head truncated to %d: %v", n, err)
		}
	}
	if _, err := DecodeChannelHead(raw[:headLen]); err != nil {
		t.Fatalf("head alone: %v", err)
	}
	for _, bad := range []struct {
		at int
		b  byte
	}{{0, 99}, {headLen - 34, 0}, {headLen - 33, 4}} {
		b := append([]byte(nil), raw...)
		b[bad.at] = bad.b
		if _, err := DecodeChannelHead(b); !errors.Is(err, ErrCorruptChannel) {
			t.Fatalf("byte %d set to %d accepted: %v", bad.at, bad.b, err)
		}
	}
}

func FuzzDecodeChannelHead(f *testing.F) {
	for seed := int64(1); seed <= 3; seed++ {
		raw, err := EncodeOpenChannel(testChannel(f, seed))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := DecodeChannelHead(data)
		if err != nil {
			if !errors.Is(err, ErrCorruptChannel) {
				t.Fatalf("error not ErrCorruptChannel: %v", err)
			}
			return
		}
		// What decodes in full has the same head.
		c, err := DecodeOpenChannel(data)
		if err != nil {
			return
		}
		if h.FundingOutpoint != c.FundingOutpoint || h.ShortChannelID != c.ShortChannelID ||
			h.RemoteNode != [33]byte(c.RemoteNode.SerializeCompressed()) {
			t.Fatalf("head %+v differs from the channel", h)
		}
	})
}
