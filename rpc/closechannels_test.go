package rpc

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"lnd.xprv/rpc/lnrpc"
)

func TestCloseParams(t *testing.T) {
	txid := strings.Repeat("ab", 32)
	cp := &lnrpc.ChannelPoint{FundingTxid: &lnrpc.ChannelPoint_FundingTxidStr{
		FundingTxidStr: txid}, OutputIndex: 1}
	for _, tc := range []struct {
		name string
		req  *lnrpc.CloseChannelRequest
		code codes.Code
		want string
	}{
		{"no channel point", &lnrpc.CloseChannelRequest{}, codes.InvalidArgument, "channel_point is required"},
		{"bad txid", &lnrpc.CloseChannelRequest{ChannelPoint: &lnrpc.ChannelPoint{
			FundingTxid: &lnrpc.ChannelPoint_FundingTxidStr{FundingTxidStr: "xyz"}}},
			codes.InvalidArgument, "is not a transaction id"},
		{"short bytes", &lnrpc.CloseChannelRequest{ChannelPoint: &lnrpc.ChannelPoint{
			FundingTxid: &lnrpc.ChannelPoint_FundingTxidBytes{FundingTxidBytes: []byte{1}}}},
			codes.InvalidArgument, "funding_txid_bytes"},
		{"force", &lnrpc.CloseChannelRequest{ChannelPoint: cp, Force: true},
			codes.Unimplemented, "force close is not served yet"},
		{"rate and target", &lnrpc.CloseChannelRequest{ChannelPoint: cp, SatPerVbyte: 5,
			TargetConf: 3}, codes.InvalidArgument, "either target_conf or sat_per_vbyte"},
		{"rate above max", &lnrpc.CloseChannelRequest{ChannelPoint: cp, SatPerVbyte: 50,
			MaxFeePerVbyte: 10}, codes.InvalidArgument, "above max_fee_per_vbyte"},
		{"negative target", &lnrpc.CloseChannelRequest{ChannelPoint: cp, TargetConf: -1},
			codes.InvalidArgument, "target_conf must not be negative"},
	} {
		_, err := closeParams(tc.req)
		s, _ := status.FromError(err)
		if err == nil || s.Code() != tc.code || !strings.Contains(s.Message(), tc.want) {
			t.Errorf("%s: got %v, want %v %q", tc.name, err, tc.code, tc.want)
		}
	}
	// no_wait, which lncli always sets, is taken.
	p, err := closeParams(&lnrpc.CloseChannelRequest{ChannelPoint: cp,
		SatPerVbyte: 7, MaxFeePerVbyte: 20, DeliveryAddress: "bcrt1q", NoWait: true})
	if err != nil || p.ChanPoint.Index != 1 || p.ChanPoint.Hash.String() != txid ||
		p.SatPerVByte != 7 || p.MaxFeePerVByte != 20 || p.DeliveryAddress != "bcrt1q" ||
		!p.NoWait {

		t.Fatalf("params %+v, %v", p, err)
	}
}
