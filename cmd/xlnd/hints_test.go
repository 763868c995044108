package main

import (
	"errors"
	"testing"
	"time"

	"lnd.xprv/lnwire"
)

// TestPrivateChannelsReuse checks that the list of private channels is
// read once per TTL, read again after it (or when the clock went back),
// and that a failed read or an empty list is not kept.
func TestPrivateChannelsReuse(t *testing.T) {
	var (
		reads int
		fail  error
		empty bool
	)
	now := time.Unix(1_700_000_000, 0)
	p := newPrivateChannels(func() ([]privateChannel, error) {
		reads++
		if fail != nil {
			return nil, fail
		}
		if empty {
			return []privateChannel{}, nil
		}
		return []privateChannel{{scid: lnwire.NewShortChanIDFromInt(uint64(reads))}}, nil
	})
	p.now = func() time.Time { return now }

	get := func(wantReads int, wantSCID uint64) {
		t.Helper()
		l, err := p.get()
		if err != nil {
			t.Fatal(err)
		}
		if reads != wantReads || len(l) != 1 || l[0].scid.ToUint64() != wantSCID {
			t.Fatalf("reads %d, list %+v; want %d reads, scid %d",
				reads, l, wantReads, wantSCID)
		}
	}
	get(1, 1)
	now = now.Add(hintListTTL / 2)
	get(1, 1)
	now = now.Add(hintListTTL)
	get(2, 2)
	now = now.Add(-time.Minute)
	get(3, 3)

	fail = errors.New("disk gone")
	now = now.Add(2 * hintListTTL)
	if _, err := p.get(); !errors.Is(err, fail) {
		t.Fatalf("failed read: %v", err)
	}
	fail = nil
	get(5, 5)

	empty = true
	now = now.Add(2 * hintListTTL)
	for range 2 {
		if l, err := p.get(); err != nil || len(l) != 0 {
			t.Fatalf("empty list: %v, %v", l, err)
		}
	}
	empty = false
	get(8, 8)
}

// TestHintScid: a hint names a channel by the peer's alias when it gave
// one; an alias-only channel is never named by its real scid, so without
// the peer's alias it is not hinted at all.
func TestHintScid(t *testing.T) {
	real := lnwire.NewShortChanIDFromInt(700_000<<40 | 3<<16 | 1)
	alias := lnwire.NewShortChanIDFromInt(16_000_100<<40 | 9)
	cases := []struct {
		c    privateChannel
		want lnwire.ShortChannelID
		ok   bool
	}{
		{privateChannel{scid: real}, real, true},
		{privateChannel{scid: real, peerAlias: alias}, alias, true},
		{privateChannel{scid: real, peerAlias: alias, aliasOnly: true}, alias, true},
		{privateChannel{scid: real, aliasOnly: true}, lnwire.ShortChannelID{}, false},
	}
	for i, c := range cases {
		got, ok := c.c.hintScid()
		if got != c.want || ok != c.ok {
			t.Errorf("case %d: %v %v, want %v %v", i, got, ok, c.want, c.ok)
		}
	}
}
