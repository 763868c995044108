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
