// Package routing holds the channel graph as path finding reads it, the
// path finder, mission control, and the answers to peers' gossip queries.
// Gossip validation and storage (channeldb), gossip sync and the payment
// lifecycle will join them here.
//
// # Graph
//
// Graph is an in-memory cache of the channel graph shaped for path
// finding: nodes and channels are numbered densely, and each node keeps
// the list of channel directions that reach it with their policies
// inline (fees, CLTV delta, HTLC limits folded with the capacity, the
// disable bit), 64 bytes a direction, so that expanding a node reads one
// run of memory. It is filled through AddChannel, UpdatePolicy and
// RemoveChannel, incrementally, from any GraphSource: channeldb's graph
// once gossip is stored, and today a gossmap file (ReadGossmap,
// ParseNodeMap), Core Lightning's compact snapshot format, which the tests
// and benchmarks use with the mainnet graph of ../shared/data. The mainnet
// graph (17,324 nodes, 50,808 channels) takes about 17 MB of heap. Each
// node also keeps, beside its in-list, a 16-byte summary of the reverse of
// each entry (a direction leaving it) for the forward pass below.
//
// # Path finding
//
// Finder.FindRoute answers a Query (QueryRoutes' shape) with a Route that
// carries each hop's amount and expiry for the onion. Like lnd's findPath
// it searches from the target back to the source, so that every hop's
// amount already includes the fees of the hops after it: fees are BOLT 7's
// (fee_base_msat + amount * fee_proportional_millionths / 1,000,000,
// rounded down, on the amount the node forwards), CLTV deltas add up from
// the final delta, and each channel must carry what crosses it (capacity,
// htlc_minimum_msat, htlc_maximum_msat, enabled in that direction). A route
// is scored as lnd scores it: fees plus a time-lock penalty plus the
// attempt cost divided by the success probability that an Estimator
// (mission control's Snapshot) gives. Queries take lnd's limits (fee limit,
// CLTV limit, outgoing channels, last hop, ignored nodes and pairs), route
// hints as ExtraEdges, and for our own node a LocalBandwidth closure that
// judges our channels by their live balance; without it the source is
// treated as a remote node, as QueryRoutes does with source_pub_key. As in
// lnd, the source pays no fee and adds no delta for its own channel.
//
// Two things make a search cheap on mainnet (under half a millisecond of
// CPU a query where lnd takes about 100 ms). A forward pass from the
// source first marks, level by level, the nodes it can reach over
// directions able to carry the amount; an unroutable query usually ends
// there. For each node it counts the fewest hops on the way from the
// source that are sent by nodes without mission-control history, whose
// probability is at most the a priori one: that bounds the probability of
// the rest of any route through the node. The pass stops once it has
// reached the target and finished that level; the nodes it did not reach
// get the next level as their bound. The backward search orders nodes by
// their cost so far with the probability term divided by this bound (A*)
// rather than by the cost so far alone, so it settles a few hundred nodes
// rather than most of the graph. Keys only grow along a path, so a node
// settled is settled for good and the nodes after it keep consistent
// amounts. On the mainnet queries it finds routes no dearer than lnd's
// ordering (the tests compare it with plain Dijkstra). Scratch space is
// kept between queries.
//
// # Mission control
//
// MissionControl records, per directed node pair, the last failure and the
// largest success with their times (ReportSuccess, ReportFailure with the
// BOLT 4 failure code and the hop that returned it), and scores pairs with
// lnd's apriori estimator: an a priori hop probability (0.6) lowered near
// the channel's capacity, pulled down by failures that fade with a
// half-life (one hour), and 0.95 for an amount a pair has carried; or,
// when configured, with lnd's bimodal estimator (liquidity thought to lie
// near either end of a channel, results narrowing where, fading over a
// week). The path finder's A* bound is the apriori estimator's; with the
// bimodal one it searches as plain Dijkstra does, about 20 ms a mainnet
// query. Mission control persists every report through a Store
// (EncodePairRecords gives the versioned bytes) before returning.
//
// # Gossip queries
//
// A node that advertises gossip_queries owes its peers answers to their
// queries (QueryResponder). BOLT 7 requires them, and lnd waits for them: a
// peer it picked for its initial graph sync that never answers keeps its
// synced_to_graph false until its next historical sync, an hour later.
// The responder answers through the Peer interface declared here; routing
// never imports the peer package.
package routing
