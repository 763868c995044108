package main

import (
	"net"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwire"
)

func TestParseNodeAddr(t *testing.T) {
	onion := strings.Repeat("a", 56) + ".onion"
	for _, c := range []struct {
		in   string
		want string // the address's type and String, "" for an error
	}{
		{"203.0.113.7:9735", "*net.TCPAddr 203.0.113.7:9735"},
		{"[2001:db8::1]:9736", "*net.TCPAddr [2001:db8::1]:9736"},
		{onion + ":9735", "*lnwire.OnionAddr " + onion + ":9735"},
		{"node.example.com:9735", "*lnwire.DNSAddr node.example.com:9735"},
		{"abc.onion:9735", ""}, // Tor v2 and shorter: not announced
		{"1.2.3.4:0", ""},
		{"1.2.3.4", ""},
		{":9735", ""},
	} {
		a, err := parseNodeAddr(c.in)
		got := ""
		if err == nil {
			got = typeName(a) + " " + a.String()
		}
		if got != c.want {
			t.Errorf("%q: got %q (%v), want %q", c.in, got, err, c.want)
		}
	}
}

func typeName(a net.Addr) string {
	switch a.(type) {
	case *net.TCPAddr:
		return "*net.TCPAddr"
	case *lnwire.OnionAddr:
		return "*lnwire.OnionAddr"
	case *lnwire.DNSAddr:
		return "*lnwire.DNSAddr"
	}
	return "?"
}

// TestLocalChannelLimits: our update asks no less than the peer accepts
// and carries no more than it lets us have in flight, or than we can
// send above our reserve.
func TestLocalChannelLimits(t *testing.T) {
	k, _ := btcec.NewPrivateKey()
	st := &channeldb.OpenChannel{Capacity: 1_000_000, RemoteNode: k.PubKey(),
		ShortChannelID: lnwire.ShortChannelID{BlockHeight: 500, TxIndex: 1}}
	st.LocalConfig.ChanReserve = 10_000
	st.RemoteConfig.HtlcMinimumMsat = 1
	st.RemoteConfig.MaxHtlcValueInFlightMsat = 1_000_000_000
	lc := localChannel(st, true)
	if lc.MaxHTLC != 990_000_000 || lc.MinHTLC != 1 || !lc.Private || lc.SCID != st.ShortChannelID {
		t.Fatalf("reserve-bound: %+v", lc)
	}
	st.RemoteConfig.MaxHtlcValueInFlightMsat = 300_000_000
	if lc := localChannel(st, false); lc.MaxHTLC != 300_000_000 || lc.Private {
		t.Fatalf("in-flight-bound: %+v", lc)
	}
}
