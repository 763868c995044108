package routing

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/btcutil"

	"lnd.xprv/lnwire"
	"lnd.xprv/lnwire/tlv"
)

// A gossmap file is Core Lightning's compact test snapshot of a channel
// graph: channel ends, disabled directions, capacities and the five policy
// fields, each as a table of distinct values and an index into it per
// channel or direction, all as BigSize integers (layout in
// ../shared/data/SOURCE.md). It carries no short channel IDs, timestamps or
// signatures, so it serves tests and benchmarks, never a live node.

// gossmapMagic opens a gossmap file, zero byte included.
const gossmapMagic = "GOSSMAP_COMPRESSv1\x00"

// maxGossmapSize bounds the decompressed file: mainnet's is 1.3 MB.
const maxGossmapSize = 64 << 20

// maxCapacitySat is 21 million bitcoin, the most a channel can hold.
const maxCapacitySat = 21_000_000 * btcutil.SatoshiPerBitcoin

// ErrBadGossmap is returned for a gossmap file that does not decode.
var ErrBadGossmap = errors.New("routing: malformed gossmap")

// Gossmap is a decoded gossmap file.
type Gossmap struct {
	// Nodes names the node indices of the channel ends; the caller
	// sets it from the node map before using the Gossmap as a
	// GraphSource.
	Nodes []Vertex

	Channels []GossmapChannel
}

// GossmapChannel is one channel of a gossmap: its ends (indices into the
// node map; direction 0 goes from Ends[0] to Ends[1]), capacity and both
// directions' policies. htlc_maximum_msat is resolved: the file's special
// values 0 and 1 (all, or 99%, of the capacity) are already amounts.
type GossmapChannel struct {
	Ends     [2]uint32
	Capacity btcutil.Amount
	Policies [2]Policy
}

// ReadGossmap decodes a gzip-compressed gossmap.
func ReadGossmap(r io.Reader) (*Gossmap, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadGossmap, err)
	}
	b, err := io.ReadAll(io.LimitReader(zr, maxGossmapSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadGossmap, err)
	}
	if len(b) > maxGossmapSize {
		return nil, fmt.Errorf("%w: over %d bytes", ErrBadGossmap, maxGossmapSize)
	}
	return ParseGossmap(b)
}

// gossmapReader reads the BigSize stream, keeping the first error.
type gossmapReader struct {
	b   []byte
	err error
}

func (r *gossmapReader) next(what string) uint64 {
	if r.err != nil {
		return 0
	}
	if len(r.b) > 0 && r.b[0] < 0xfd {
		// One byte, always minimal: the common case, inline.
		v := uint64(r.b[0])
		r.b = r.b[1:]
		return v
	}
	v, n, err := tlv.ParseBigSize(r.b)
	if err != nil {
		r.err = fmt.Errorf("%w: %s: %v", ErrBadGossmap, what, err)
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a count of items that each take at least one more byte, so
// that a corrupt count cannot make us allocate more than the file holds.
func (r *gossmapReader) count(what string) int {
	v := r.next(what)
	if r.err == nil && v > uint64(len(r.b)) {
		r.err = fmt.Errorf("%w: %s %d with %d bytes left", ErrBadGossmap, what, v, len(r.b))
		return 0
	}
	return int(v)
}

// table reads a template table and then n indices into it, returning the
// value of each of the n items.
func (r *gossmapReader) table(what string, n int) []uint64 {
	t := r.count(what + " templates")
	vals := make([]uint64, t)
	for i := range vals {
		vals[i] = r.next(what)
	}
	if r.err == nil && n > len(r.b) {
		r.err = fmt.Errorf("%w: %s: %d indices with %d bytes left", ErrBadGossmap, what, n, len(r.b))
	}
	if r.err != nil {
		return nil
	}
	out := make([]uint64, n)
	idxWhat := what + " index"
	for i := range out {
		idx := r.next(idxWhat)
		if r.err == nil && idx >= uint64(t) {
			r.err = fmt.Errorf("%w: %s index %d of %d", ErrBadGossmap, what, idx, t)
		}
		if r.err != nil {
			return nil
		}
		out[i] = vals[idx]
	}
	return out
}

// ParseGossmap decodes a gossmap from its decompressed bytes.
func ParseGossmap(b []byte) (*Gossmap, error) {
	if !bytes.HasPrefix(b, []byte(gossmapMagic)) {
		return nil, fmt.Errorf("%w: no %q header", ErrBadGossmap, gossmapMagic[:len(gossmapMagic)-1])
	}
	r := &gossmapReader{b: b[len(gossmapMagic):]}

	n := r.count("channel count")
	chans := make([]GossmapChannel, n)
	for e := range 2 {
		for i := range chans {
			v := r.next("channel end")
			if v > 0xffffffff-1 {
				r.err = fmt.Errorf("%w: node index %d", ErrBadGossmap, v)
			}
			chans[i].Ends[e] = uint32(v)
		}
	}
	for {
		v := r.next("disabled direction")
		if r.err != nil || v >= uint64(2*n) {
			break
		}
		chans[v/2].Policies[v%2].Disabled = true
	}

	caps := r.table("capacity", n)
	minHTLC := r.table("htlc_minimum_msat", 2*n)
	maxHTLC := r.table("htlc_maximum_msat", 2*n)
	feeBase := r.table("fee_base_msat", 2*n)
	feeRate := r.table("fee_proportional_millionths", 2*n)
	cltv := r.table("cltv_expiry_delta", 2*n)
	if r.err != nil {
		return nil, r.err
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the last table", ErrBadGossmap, len(r.b))
	}

	for i := range chans {
		c := &chans[i]
		if caps[i] > maxCapacitySat {
			return nil, fmt.Errorf("%w: channel %d capacity %d sat", ErrBadGossmap, i, caps[i])
		}
		c.Capacity = btcutil.Amount(caps[i])
		capMsat := lnwire.NewMSatFromSatoshis(c.Capacity)
		for d := range 2 {
			j := 2*i + d
			if feeBase[j] > 0xffffffff || feeRate[j] > 0xffffffff || cltv[j] > 0xffff {
				return nil, fmt.Errorf("%w: channel %d direction %d: policy field out of range", ErrBadGossmap, i, d)
			}
			p := &c.Policies[d]
			p.FeeBaseMsat = uint32(feeBase[j])
			p.FeeRatePPM = uint32(feeRate[j])
			p.CLTVDelta = uint16(cltv[j])
			p.MinHTLC = lnwire.MilliSatoshi(minHTLC[j])
			switch maxHTLC[j] {
			case 0:
				p.MaxHTLC = capMsat
			case 1:
				p.MaxHTLC = capMsat * 99 / 100
			default:
				p.MaxHTLC = lnwire.MilliSatoshi(maxHTLC[j])
			}
		}
	}
	return &Gossmap{Channels: chans}, nil
}

// ForEachChannel makes a Gossmap a GraphSource. Channel i gets the
// synthetic short channel ID i+1x0x0 (the file has none). Nodes must name
// every channel end.
func (m *Gossmap) ForEachChannel(fn func(ChannelInfo, [2]*Policy) error) error {
	for i := range m.Channels {
		c := &m.Channels[i]
		if int64(c.Ends[0]) >= int64(len(m.Nodes)) || int64(c.Ends[1]) >= int64(len(m.Nodes)) {
			return fmt.Errorf("%w: channel %d ends at nodes %d and %d of %d",
				ErrBadGossmap, i, c.Ends[0], c.Ends[1], len(m.Nodes))
		}
		info := ChannelInfo{
			ID:       GossmapChannelID(i),
			Node1:    m.Nodes[c.Ends[0]],
			Node2:    m.Nodes[c.Ends[1]],
			Capacity: c.Capacity,
		}
		if err := fn(info, [2]*Policy{&c.Policies[0], &c.Policies[1]}); err != nil {
			return fmt.Errorf("gossmap channel %d: %w", i, err)
		}
	}
	return nil
}

// GossmapChannelID is the synthetic short channel ID of a gossmap's
// channel i.
func GossmapChannelID(i int) lnwire.ShortChannelID {
	return lnwire.ShortChannelID{BlockHeight: uint32(i) + 1}
}

// ParseNodeMap reads a gossmap's node map: one line per node,
// "index:node_id_hex:alias", indices counting up from 0.
func ParseNodeMap(r io.Reader) ([]Vertex, error) {
	var nodes []Vertex
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		idx, rest, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("%w: node map line %d: no index", ErrBadGossmap, len(nodes)+1)
		}
		i, err := strconv.Atoi(idx)
		if err != nil || i != len(nodes) {
			return nil, fmt.Errorf("%w: node map line %d: index %q", ErrBadGossmap, len(nodes)+1, idx)
		}
		key, _, _ := strings.Cut(rest, ":")
		v, err := NewVertexFromHex(key)
		if err != nil {
			return nil, fmt.Errorf("node map line %d: %w", len(nodes)+1, err)
		}
		nodes = append(nodes, v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: node map: %v", ErrBadGossmap, err)
	}
	return nodes, nil
}
