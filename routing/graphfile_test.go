package routing

import (
	"bytes"
	"compress/gzip"
	"errors"
	"reflect"
	"strings"
	"testing"

	"lnd.xprv/lnwire/tlv"
)

// encodeGossmap writes channels in the gossmap layout, every value its
// own template; maxHTLC overrides the htlc_maximum_msat written (to write
// the special values), when not nil.
func encodeGossmap(chans []GossmapChannel, maxHTLC []uint64) []byte {
	b := []byte(gossmapMagic)
	put := func(v uint64) { b = tlv.AppendBigSize(b, v) }
	n := uint64(len(chans))
	put(n)
	for e := range 2 {
		for _, c := range chans {
			put(uint64(c.Ends[e]))
		}
	}
	for i, c := range chans {
		for d := range 2 {
			if c.Policies[d].Disabled {
				put(uint64(2*i + d))
			}
		}
	}
	put(2 * n) // ends the disabled list
	table := func(vals []uint64) {
		put(uint64(len(vals)))
		for _, v := range vals {
			put(v)
		}
		for i := range vals {
			put(uint64(i))
		}
	}
	var caps []uint64
	fields := make([][]uint64, 5)
	for i, c := range chans {
		caps = append(caps, uint64(c.Capacity))
		for d := range 2 {
			p := c.Policies[d]
			mx := uint64(p.MaxHTLC)
			if maxHTLC != nil {
				mx = maxHTLC[2*i+d]
			}
			for f, v := range []uint64{uint64(p.MinHTLC), mx, uint64(p.FeeBaseMsat),
				uint64(p.FeeRatePPM), uint64(p.CLTVDelta)} {
				fields[f] = append(fields[f], v)
			}
		}
	}
	table(caps)
	for _, f := range fields {
		table(f)
	}
	return b
}

func sampleGossmap() []GossmapChannel {
	return []GossmapChannel{
		{Ends: [2]uint32{0, 1}, Capacity: 1_000_000, Policies: [2]Policy{
			{FeeBaseMsat: 1000, FeeRatePPM: 1, CLTVDelta: 40, MinHTLC: 1, MaxHTLC: 990_000_000},
			{FeeBaseMsat: 0, FeeRatePPM: 500, CLTVDelta: 144, MinHTLC: 1000, MaxHTLC: 1_000_000_000, Disabled: true}}},
		{Ends: [2]uint32{1, 2}, Capacity: 20_000, Policies: [2]Policy{
			{CLTVDelta: 18, MaxHTLC: 5_000_000},
			{FeeBaseMsat: 1, FeeRatePPM: 4_294_967_295, CLTVDelta: 65535, MaxHTLC: 19_800_000}}},
	}
}

func TestGossmapRoundTrip(t *testing.T) {
	chans := sampleGossmap()
	// htlc_maximum_msat as the file says: 1 (99% of the capacity) and 0
	// (all of it) in channel 0, 1 in channel 1's second direction.
	raw := []uint64{1, 0, 5_000_000, 1}
	gm, err := ParseGossmap(encodeGossmap(chans, raw))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gm.Channels, chans) {
		t.Errorf("decoded %+v\nwant    %+v", gm.Channels, chans)
	}

	// Gzip and node map, as the files come.
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(encodeGossmap(chans, nil))
	zw.Close()
	gm, err = ReadGossmap(&z)
	if err != nil {
		t.Fatal(err)
	}
	gm.Nodes, err = ParseNodeMap(strings.NewReader(
		"0:" + vtx('a').String() + ":alice\n1:" + vtx('b').String() + ":bob:with:colons\n2:" + vtx('c').String() + ":\n"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewGraphFromSource(gm)
	if err != nil {
		t.Fatal(err)
	}
	info, pols, err := g.Channel(GossmapChannelID(1))
	if err != nil || info.Node1 != vtx('b') || info.Node2 != vtx('c') || *pols[1] != chans[1].Policies[1] {
		t.Errorf("channel 1: %+v %+v %v", info, pols, err)
	}
}

func TestGossmapRejects(t *testing.T) {
	good := encodeGossmap(sampleGossmap(), nil)
	for name, b := range map[string][]byte{
		"no header":  good[1:],
		"truncated":  good[:len(good)-1],
		"trailing":   append(append([]byte(nil), good...), 0),
		"huge count": append([]byte(gossmapMagic), 0xfe, 0xff, 0xff, 0xff, 0xff),
		"bad index": func() []byte {
			c := append([]byte(nil), good...)
			c[len(c)-1] = 9 // last cltv index past its table
			return c
		}(),
	} {
		if _, err := ParseGossmap(b); !errors.Is(err, ErrBadGossmap) {
			t.Errorf("%s: %v", name, err)
		}
	}

	// A node map that does not name a channel's end.
	gm, err := ParseGossmap(good)
	if err != nil {
		t.Fatal(err)
	}
	gm.Nodes = []Vertex{vtx('a'), vtx('b')}
	if _, err := NewGraphFromSource(gm); !errors.Is(err, ErrBadGossmap) {
		t.Errorf("missing node: %v", err)
	}
	for name, m := range map[string]string{
		"index order": "1:" + vtx('a').String() + ":x\n",
		"bad key":     "0:04" + strings.Repeat("00", 32) + ":x\n",
		"no colon":    "0\n",
	} {
		if _, err := ParseNodeMap(strings.NewReader(m)); err == nil {
			t.Errorf("node map %s accepted", name)
		}
	}
}

// FuzzParseGossmap: any bytes decode or fail cleanly, and what decodes
// encodes back to the same channels.
func FuzzParseGossmap(f *testing.F) {
	f.Add(encodeGossmap(sampleGossmap(), nil))
	f.Add(encodeGossmap(sampleGossmap(), []uint64{1, 0, 5_000_000, 1}))
	f.Add(encodeGossmap(nil, nil))
	f.Add([]byte(gossmapMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		gm, err := ParseGossmap(b)
		if err != nil {
			if !errors.Is(err, ErrBadGossmap) {
				t.Fatalf("error not ErrBadGossmap: %v", err)
			}
			return
		}
		again, err := ParseGossmap(encodeGossmap(gm.Channels, nil))
		if err != nil {
			t.Fatalf("re-encoded gossmap does not decode: %v", err)
		}
		if !reflect.DeepEqual(again.Channels, gm.Channels) {
			t.Fatalf("round trip changed the channels")
		}
	})
}

// FuzzParseNodeMap: any text parses or fails cleanly.
func FuzzParseNodeMap(f *testing.F) {
	f.Add("0:" + vtx('a').String() + ":ACINQ\n1:" + vtx('b').String() + ":x:y\n")
	f.Add("0:zz:\n")
	f.Fuzz(func(t *testing.T, s string) {
		nodes, err := ParseNodeMap(strings.NewReader(s))
		if err == nil && strings.Count(s, "\n")+1 < len(nodes) {
			t.Fatalf("%d nodes from %d lines", len(nodes), strings.Count(s, "\n")+1)
		}
	})
}

// FuzzDecodePairRecords: stored mission control bytes decode or fail
// cleanly, and what decodes encodes to the same bytes.
func FuzzDecodePairRecords(f *testing.F) {
	f.Add(EncodePairRecords(nil))
	f.Add(EncodePairRecords([]PairRecord{{From: vtx('a'), To: vtx('b'), PairResult: PairResult{FailAmt: 5}}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, err := DecodePairRecords(b)
		if err != nil {
			if !errors.Is(err, ErrBadPairRecords) {
				t.Fatalf("error not ErrBadPairRecords: %v", err)
			}
			return
		}
		if !bytes.Equal(EncodePairRecords(recs), b) {
			t.Fatalf("re-encoding differs")
		}
	})
}
