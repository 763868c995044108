package main

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"

	"lnd.xprv/rpc/lnrpc"
)

// TestRouteJSONRoundTrip: a route as xlncli prints it (buildroute,
// queryroutes) reads back for sendtoroute, bytes in hex included.
func TestRouteJSONRoundTrip(t *testing.T) {
	rt := &lnrpc.Route{TotalTimeLock: 500, TotalAmtMsat: 1_001_000, TotalFeesMsat: 1000,
		Hops: []*lnrpc.Hop{
			{ChanId: 1 << 40, Expiry: 460, AmtToForwardMsat: 1_000_000, FeeMsat: 1000,
				PubKey: "02" + string(bytes.Repeat([]byte("ab"), 32))},
			{ChanId: 2 << 40, Expiry: 460, AmtToForwardMsat: 1_000_000,
				PubKey:        "03" + string(bytes.Repeat([]byte("cd"), 32)),
				MppRecord:     &lnrpc.MPPRecord{PaymentAddr: bytes.Repeat([]byte{7}, 32), TotalAmtMsat: 2_000_000},
				CustomRecords: map[uint64][]byte{65537: {1, 2, 3}}},
		}}
	for _, wrap := range []proto.Message{rt, &lnrpc.QueryRoutesResponse{Routes: []*lnrpc.Route{rt}}} {
		var out bytes.Buffer
		a := &app{out: &out}
		if err := a.printRespJSON(wrap); err != nil {
			t.Fatal(err)
		}
		got, err := parseRouteJSON(out.Bytes())
		if err != nil {
			t.Fatalf("%s: %v", out.String(), err)
		}
		if !proto.Equal(got, rt) {
			t.Fatalf("read back %v, want %v", got, rt)
		}
	}
	if _, err := parseRouteJSON([]byte(`{"route":{"hops":[]}}`)); err == nil {
		t.Fatal("a route without hops was read")
	}
}

func TestPayFeeLimit(t *testing.T) {
	cases := []struct {
		f    payFlags
		amt  int64
		want int64
	}{
		{payFlags{}, 500_000, 500_000},
		{payFlags{}, 10_000_000, 500_000},
		{payFlags{FeeLimit: 7}, 10_000_000, 7000},
		{payFlags{FeeLimitPercent: 1}, 10_000_000, 100_000},
	}
	for _, c := range cases {
		if got, err := c.f.feeLimit(c.amt); err != nil || got != c.want {
			t.Errorf("%+v at %d: %d %v, want %d", c.f, c.amt, got, err, c.want)
		}
	}
	if _, err := (&payFlags{FeeLimit: 1, FeeLimitPercent: 1}).feeLimit(1); err == nil {
		t.Error("both limits accepted")
	}
	recs, err := parseDataRecords("65537=0102,65539=ff")
	if err != nil || len(recs) != 2 || recs[65539][0] != 0xff {
		t.Fatalf("records %v %v", recs, err)
	}
}
