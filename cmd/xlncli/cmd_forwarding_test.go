package main

import (
	"slices"
	"testing"
	"time"
)

func TestRelativeTimes(t *testing.T) {
	for _, c := range []struct{ in, want []string }{
		{[]string{"fwdinghistory", "-1w"}, []string{"fwdinghistory", "--start_time=-1w"}},
		{[]string{"--rpcserver=x", "fwdinghistory", "--start_time", "-2d", "--max_events", "5"},
			[]string{"--rpcserver=x", "fwdinghistory", "--start_time=-2d", "--max_events", "5"}},
		{[]string{"fwdinghistory", "-1w", "-1d", "3"},
			[]string{"fwdinghistory", "--start_time=-1w", "--end_time=-1d", "3"}},
		{[]string{"fwdinghistory", "1700000000", "-1d"},
			[]string{"fwdinghistory", "1700000000", "--end_time=-1d"}},
		{[]string{"listchannels", "-1w"}, []string{"listchannels", "-1w"}},
	} {
		if got := relativeTimes(c.in); !slices.Equal(got, c.want) {
			t.Errorf("%q: %q, want %q", c.in, got, c.want)
		}
	}
	now := time.Unix(1_000_000, 0)
	if v, err := parseTime("-1d", now); err != nil || v != 1_000_000-86400 {
		t.Fatalf("-1d: %d %v", v, err)
	}
	if v, err := parseTime("1234", now); err != nil || v != 1234 {
		t.Fatalf("1234: %d %v", v, err)
	}
	if _, err := parseTime("-1x", now); err == nil {
		t.Fatal("-1x parsed")
	}
}
