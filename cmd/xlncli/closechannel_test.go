package main

import (
	"strings"
	"testing"
)

func TestCloseChannelPoint(t *testing.T) {
	txid := strings.Repeat("ab", 32)
	one := uint32(1)
	for _, tc := range []struct {
		name  string
		cmd   closeChannelCmd
		args  []string
		index uint32
		err   string
	}{
		{"chan_point", closeChannelCmd{ChanPoint: txid + ":3"}, nil, 3, ""},
		{"flags", closeChannelCmd{FundingTxid: txid, OutputIndex: &one}, nil, 1, ""},
		{"positional", closeChannelCmd{}, []string{txid, "2"}, 2, ""},
		{"txid only", closeChannelCmd{}, []string{txid}, 0, ""},
		{"txid flag, index arg", closeChannelCmd{FundingTxid: txid}, []string{"5"}, 5, ""},
		{"nothing", closeChannelCmd{}, nil, 0, "is required"},
		{"both forms", closeChannelCmd{ChanPoint: txid + ":1", FundingTxid: txid}, nil, 0, "excludes"},
		{"no index", closeChannelCmd{ChanPoint: txid}, nil, 0, "txid:index"},
		{"bad index", closeChannelCmd{ChanPoint: txid + ":x"}, nil, 0, "bad output index"},
		{"bad txid", closeChannelCmd{FundingTxid: "abc"}, nil, 0, "not a transaction id"},
		{"extra args", closeChannelCmd{}, []string{txid, "1", "2"}, 0, "unexpected arguments"},
	} {
		cp, err := tc.cmd.chanPoint(tc.args)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: %v, want %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || cp.GetFundingTxidStr() != txid || cp.OutputIndex != tc.index {
			t.Errorf("%s: %v, %v", tc.name, cp, err)
		}
	}
}
