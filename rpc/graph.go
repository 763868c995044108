package rpc

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwire"
	"lnd.xprv/routing"
	"lnd.xprv/rpc/lnrpc"
)

// Graph is the channel graph as the graph calls read it
// (routing.ChannelGraph has these methods).
type Graph interface {
	ForEachNode(fn func(*lnwire.NodeAnnouncement) error) error
	ForEachChannel(first, last uint32, fn func(c *channeldb.GraphChannel, ups [2]*lnwire.ChannelUpdate) error) error
	Node(pub [33]byte) (*lnwire.NodeAnnouncement, error)
	Channel(id lnwire.ShortChannelID) (*channeldb.GraphChannel, [2]*lnwire.ChannelUpdate, bool, error)
	ChannelByPoint(op wire.OutPoint) (lnwire.ShortChannelID, bool)
	Subscribe() *routing.GraphSubscription
	Cache() *routing.Graph
	NumZombies() (int, error)
}

// Texts lnd answers with, which its clients match.
const (
	msgEdgeNotFound = "edge not found"
	msgNodeNotFound = "unable to find node"
	msgNoPath       = "unable to find a path to destination"
)

// allBlocks is the whole range of short channel ID block heights.
const allBlocks = 1<<24 - 1

func (l *lightningService) graph() (Graph, error) {
	b, err := l.node()
	if err != nil {
		return nil, err
	}
	if b.Graph == nil {
		return nil, status.Error(codes.Unavailable, "channel graph not available")
	}
	return b.Graph, nil
}

func (l *lightningService) DescribeGraph(ctx context.Context, req *lnrpc.ChannelGraphRequest) (*lnrpc.ChannelGraph, error) {
	g, err := l.graph()
	if err != nil {
		return nil, err
	}
	out := &lnrpc.ChannelGraph{Nodes: []*lnrpc.LightningNode{}, Edges: []*lnrpc.ChannelEdge{}}
	seen := make(map[[33]byte]bool)
	err = g.ForEachNode(func(a *lnwire.NodeAnnouncement) error {
		seen[a.NodeID] = true
		out.Nodes = append(out.Nodes, marshalNode(a))
		return nil
	})
	if err != nil {
		return nil, l.s.toStatus(err)
	}
	err = g.ForEachChannel(0, allBlocks, func(c *channeldb.GraphChannel, ups [2]*lnwire.ChannelUpdate) error {
		if c.Announcement == nil && !req.IncludeUnannounced {
			return nil
		}
		out.Edges = append(out.Edges, marshalEdge(c, ups))
		// A node with channels but no announcement yet is listed
		// by key, as lnd lists such shell nodes.
		for _, n := range [2][33]byte{c.Node1, c.Node2} {
			if !seen[n] {
				seen[n] = true
				out.Nodes = append(out.Nodes, &lnrpc.LightningNode{PubKey: hex.EncodeToString(n[:]),
					Addresses: []*lnrpc.NodeAddress{}, Features: map[uint32]*lnrpc.Feature{}})
			}
		}
		return nil
	})
	if err != nil {
		return nil, l.s.toStatus(err)
	}
	return out, nil
}

func marshalNode(a *lnwire.NodeAnnouncement) *lnrpc.LightningNode {
	n := &lnrpc.LightningNode{
		LastUpdate: a.Timestamp,
		PubKey:     hex.EncodeToString(a.NodeID[:]),
		Alias:      a.Alias.String(),
		Color:      fmt.Sprintf("#%02x%02x%02x", a.RGBColor[0], a.RGBColor[1], a.RGBColor[2]),
		Addresses:  marshalAddrs(a.Addresses),
		Features:   marshalRawFeatures(a.Features),
	}
	return n
}

func marshalAddrs(addrs []net.Addr) []*lnrpc.NodeAddress {
	out := make([]*lnrpc.NodeAddress, 0, len(addrs))
	for _, a := range addrs {
		switch a.(type) {
		case *net.TCPAddr, *lnwire.OnionAddr:
			out = append(out, &lnrpc.NodeAddress{Network: "tcp", Addr: a.String()})
		}
	}
	return out
}

func marshalRawFeatures(fv *lnwire.RawFeatureVector) map[uint32]*lnrpc.Feature {
	m := make(map[uint32]*lnrpc.Feature)
	if fv == nil {
		return m
	}
	for _, b := range fv.Bits() {
		m[uint32(b)] = &lnrpc.Feature{
			Name:       FeatureName(uint32(b), b.Name()),
			IsRequired: b%2 == 0,
			IsKnown:    lnwire.IsKnownFeature(b),
		}
	}
	return m
}

func marshalEdge(c *channeldb.GraphChannel, ups [2]*lnwire.ChannelUpdate) *lnrpc.ChannelEdge {
	e := &lnrpc.ChannelEdge{
		ChannelId:   c.ID.ToUint64(),
		ChanPoint:   c.ChanPoint.String(),
		Node1Pub:    hex.EncodeToString(c.Node1[:]),
		Node2Pub:    hex.EncodeToString(c.Node2[:]),
		Capacity:    int64(c.Capacity),
		Node1Policy: marshalPolicy(ups[0]),
		Node2Policy: marshalPolicy(ups[1]),
	}
	var last uint32
	for _, u := range ups {
		if u != nil {
			last = max(last, u.Timestamp)
		}
	}
	//lint:ignore SA1019 deprecated in lnd, but apps still read it.
	e.LastUpdate = last
	return e
}

func marshalPolicy(u *lnwire.ChannelUpdate) *lnrpc.RoutingPolicy {
	if u == nil {
		return nil
	}
	return &lnrpc.RoutingPolicy{
		TimeLockDelta:    uint32(u.TimeLockDelta),
		MinHtlc:          int64(u.HtlcMinimumMsat),
		FeeBaseMsat:      int64(u.BaseFee),
		FeeRateMilliMsat: int64(u.FeeRate),
		Disabled:         u.IsDisabled(),
		MaxHtlcMsat:      uint64(u.HtlcMaximumMsat),
		LastUpdate:       u.Timestamp,
	}
}

func (l *lightningService) GetChanInfo(ctx context.Context, req *lnrpc.ChanInfoRequest) (*lnrpc.ChannelEdge, error) {
	g, err := l.graph()
	if err != nil {
		return nil, err
	}
	id := lnwire.NewShortChanIDFromInt(req.ChanId)
	switch {
	case req.ChanId != 0 && req.ChanPoint != "":
		return nil, invalidf("chan_id and chan_point are mutually exclusive")
	case req.ChanPoint != "":
		op, err := parseChanPoint(req.ChanPoint)
		if err != nil {
			return nil, err
		}
		var ok bool
		if id, ok = g.ChannelByPoint(op); !ok {
			return nil, status.Error(codes.NotFound, msgEdgeNotFound)
		}
	case req.ChanId == 0:
		return nil, invalidf("chan_id or chan_point is required")
	}
	c, ups, zombie, err := g.Channel(id)
	if errors.Is(err, channeldb.ErrGraphChannelNotFound) || zombie {
		return nil, status.Error(codes.NotFound, msgEdgeNotFound)
	}
	if err != nil {
		return nil, l.s.toStatus(err)
	}
	return marshalEdge(c, ups), nil
}

// parseChanPoint parses "txid:index".
func parseChanPoint(s string) (wire.OutPoint, error) {
	txid, idx, ok := strings.Cut(s, ":")
	if !ok {
		return wire.OutPoint{}, invalidf("chan_point %q: want txid:index", s)
	}
	h, err := chainhash.NewHashFromStr(txid)
	if err != nil {
		return wire.OutPoint{}, invalidf("chan_point %q: %v", s, err)
	}
	n, err := strconv.ParseUint(idx, 10, 32)
	if err != nil {
		return wire.OutPoint{}, invalidf("chan_point %q: %v", s, err)
	}
	return wire.OutPoint{Hash: *h, Index: uint32(n)}, nil
}

func (l *lightningService) GetNodeInfo(ctx context.Context, req *lnrpc.NodeInfoRequest) (*lnrpc.NodeInfo, error) {
	g, err := l.graph()
	if err != nil {
		return nil, err
	}
	pub, err := parsePubKey("pub_key", req.PubKey)
	if err != nil {
		return nil, err
	}
	var key [33]byte
	copy(key[:], pub.SerializeCompressed())
	out := &lnrpc.NodeInfo{Channels: []*lnrpc.ChannelEdge{}}
	ann, err := g.Node(key)
	switch {
	case err == nil:
		out.Node = marshalNode(ann)
	case errors.Is(err, channeldb.ErrGraphNodeNotFound):
		if g.Cache().Degree(routing.Vertex(key)) == 0 {
			return nil, status.Error(codes.NotFound, msgNodeNotFound)
		}
		out.Node = &lnrpc.LightningNode{PubKey: req.PubKey, Addresses: []*lnrpc.NodeAddress{},
			Features: map[uint32]*lnrpc.Feature{}}
	default:
		return nil, l.s.toStatus(err)
	}
	err = g.ForEachChannel(0, allBlocks, func(c *channeldb.GraphChannel, ups [2]*lnwire.ChannelUpdate) error {
		if c.Node1 != key && c.Node2 != key {
			return nil
		}
		out.NumChannels++
		out.TotalCapacity += int64(c.Capacity)
		if req.IncludeChannels {
			out.Channels = append(out.Channels, marshalEdge(c, ups))
		}
		return nil
	})
	if err != nil {
		return nil, l.s.toStatus(err)
	}
	return out, nil
}

func (l *lightningService) GetNetworkInfo(ctx context.Context, _ *lnrpc.NetworkInfoRequest) (*lnrpc.NetworkInfo, error) {
	g, err := l.graph()
	if err != nil {
		return nil, err
	}
	out := &lnrpc.NetworkInfo{}
	degree := make(map[[33]byte]uint32)
	var sizes []int64
	err = g.ForEachChannel(0, allBlocks, func(c *channeldb.GraphChannel, _ [2]*lnwire.ChannelUpdate) error {
		degree[c.Node1]++
		degree[c.Node2]++
		sizes = append(sizes, int64(c.Capacity))
		return nil
	})
	if err != nil {
		return nil, l.s.toStatus(err)
	}
	nodes := 0
	err = g.ForEachNode(func(a *lnwire.NodeAnnouncement) error {
		nodes++
		if _, ok := degree[a.NodeID]; !ok {
			degree[a.NodeID] = 0
		}
		return nil
	})
	if err != nil {
		return nil, l.s.toStatus(err)
	}
	zombies, err := g.NumZombies()
	if err != nil {
		return nil, l.s.toStatus(err)
	}
	out.NumZombieChans = uint64(zombies)
	out.NumNodes = uint32(len(degree))
	out.NumChannels = uint32(len(sizes))
	var total uint64
	for _, d := range degree {
		out.MaxOutDegree = max(out.MaxOutDegree, d)
		total += uint64(d)
	}
	if len(degree) > 0 {
		out.AvgOutDegree = float64(total) / float64(len(degree))
	}
	if len(sizes) > 0 {
		sort.Slice(sizes, func(i, j int) bool { return sizes[i] < sizes[j] })
		for _, s := range sizes {
			out.TotalNetworkCapacity += s
		}
		out.MinChannelSize, out.MaxChannelSize = sizes[0], sizes[len(sizes)-1]
		out.AvgChannelSize = float64(out.TotalNetworkCapacity) / float64(len(sizes))
		out.MedianChannelSizeSat = sizes[len(sizes)/2]
		if len(sizes)%2 == 0 {
			out.MedianChannelSizeSat = (sizes[len(sizes)/2-1] + sizes[len(sizes)/2]) / 2
		}
	}
	return out, nil
}

func (l *lightningService) SubscribeChannelGraph(_ *lnrpc.GraphTopologySubscription, stream lnrpc.Lightning_SubscribeChannelGraphServer) error {
	g, err := l.graph()
	if err != nil {
		return err
	}
	ctx := stream.Context()
	sub := g.Subscribe()
	defer sub.Cancel()
	for {
		select {
		case u, ok := <-sub.Updates:
			if !ok {
				return status.Error(codes.Unavailable, "graph subscription ended: node shutting down")
			}
			out := l.marshalGraphUpdate(g, u)
			if out == nil {
				continue
			}
			if err := stream.Send(out); err != nil {
				return err
			}
		case <-ctx.Done():
			return l.s.toStatus(ctx.Err())
		}
	}
}

func (l *lightningService) marshalGraphUpdate(g Graph, u routing.GraphUpdate) *lnrpc.GraphTopologyUpdate {
	out := &lnrpc.GraphTopologyUpdate{}
	switch {
	case u.Node != nil:
		n := marshalNode(u.Node)
		out.NodeUpdates = append(out.NodeUpdates, &lnrpc.NodeUpdate{
			IdentityKey: n.PubKey, Alias: n.Alias, Color: n.Color,
			NodeAddresses: n.Addresses, Features: n.Features,
		})
	case u.Update != nil:
		c, _, _, err := g.Channel(u.Update.ShortChannelID)
		if err != nil {
			return nil
		}
		from, to := c.Node1, c.Node2
		if u.Update.Direction() == 1 {
			from, to = to, from
		}
		out.ChannelUpdates = append(out.ChannelUpdates, &lnrpc.ChannelEdgeUpdate{
			ChanId:          c.ID.ToUint64(),
			ChanPoint:       marshalChanPoint(c.ChanPoint),
			Capacity:        int64(c.Capacity),
			RoutingPolicy:   marshalPolicy(u.Update),
			AdvertisingNode: hex.EncodeToString(from[:]),
			ConnectingNode:  hex.EncodeToString(to[:]),
		})
	case u.Closed != nil:
		out.ClosedChans = append(out.ClosedChans, &lnrpc.ClosedChannelUpdate{
			ChanId: u.Closed.ID.ToUint64(), Capacity: int64(u.Closed.Capacity),
			ClosedHeight: uint32(max(u.Closed.Height, 0)), ChanPoint: marshalChanPoint(u.Closed.ChanPoint),
		})
	default:
		// A new channel shows with its first update, as in lnd.
		return nil
	}
	return out
}

func marshalChanPoint(op wire.OutPoint) *lnrpc.ChannelPoint {
	return &lnrpc.ChannelPoint{
		FundingTxid: &lnrpc.ChannelPoint_FundingTxidBytes{FundingTxidBytes: op.Hash[:]},
		OutputIndex: op.Index,
	}
}
