// Package routing holds the channel graph (stored in channeldb, cached as
// path finding reads it), gossip validation and sync with peers, the path
// finder, mission control and the payment lifecycle.
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
// # Channel graph and gossip
//
// ChannelGraph is the graph on disk (channeldb's graph buckets: signed
// messages as received, a channel-point index, zombies, the prune tip)
// with its Graph cache: every change is written to the store, then to
// the cache, under one lock, and OpenChannelGraph refills the cache from
// the store at start. Zombies stay on disk and out of the cache. Our own
// channels enter through ChannelGraph.AddChannel (Announcement nil until
// announced) and UpdatePolicy, like anyone's.
//
// Gossiper validates what peers send before it reaches the graph: the
// four signatures of a channel_announcement and the funding output its
// short channel ID names (found through ChainView, which chain.Source
// satisfies: the block at that height, the transaction at that index,
// an output paying the 2-of-2 P2WSH of the two bitcoin keys, unspent);
// node_announcement and channel_update signatures; timestamps newer than
// held (and an update's no more than two weeks ahead, as lnd); sane policies (htlc_maximum_msat present, at least
// htlc_minimum_msat, at most the capacity). Refusals the sender is to
// blame for match ErrBadGossip and are counted per peer; a token bucket
// per peer drops floods. PruneBlock removes the channels a block's
// inputs close; PruneZombies marks channels with no update for two weeks
// in either direction, and a fresh update resurrects one.
//
// Syncer speaks BOLT 7's gossip queries with each peer. It answers
// query_channel_range (replies covering the queried range exactly, no
// block split, timestamps and checksums when asked, as lnd and CLN
// require), query_short_channel_ids (announcement, updates, node
// announcements, query flags honoured, then reply_short_channel_ids_end)
// and gossip_timestamp_filter (what we hold in the range, then new gossip
// within it). It runs a historical sync with the first three peers that
// signal gossip_queries (query_channel_range over every block, then
// query_short_channel_ids in batches for what we lack or hold older),
// then sends each a gossip_timestamp_filter from now on; later peers get
// the filter at once. Accepted gossip goes out to the other peers in a
// batch every trickle delay (lnd's --trickledelay, 90 s). Each peer's
// messages are handled in order by a worker of its own (Enqueue), off the
// peer's read loop, through a bounded queue; a historical sync left
// unanswered for five minutes is given up. All of it is sent through a
// closure: routing never imports the peer package.
//
// # Our own gossip
//
// Announcer signs and publishes what this node says of itself: its
// node_announcement (alias, color, addresses, features; signed anew when
// any of them changes and with the first public channel, so that peers'
// timestamp filters let it through), each public channel's
// channel_announcement once funding has both halves of it, and a
// channel_update per channel from the forwarding policy it reads
// through a closure. Updates of a channel not announced carry
// dont_forward and go to the peer alone; the others are broadcast
// through the Syncer's trickle. A channel whose peer has been away for
// the disable timeout (lnd's 20 minutes) is announced disabled, and
// enabled again once the peer has been back for the enable timeout (19
// minutes); public updates and the node announcement are signed anew
// once a day, long before peers would prune them. Updates are signed one
// at a time with strictly increasing timestamps, and stored in our own
// graph before they leave.
//
// # Payments
//
// PaymentRouter sends payments. SendPayment stores the payment
// (channeldb's payments store refuses a hash paid or in flight) and a
// goroutine of its own drives it: a route from the Finder over the graph
// cache, our channels judged by the switch's live bandwidth less what
// the payment already has out on them, the invoice's route hints; each
// attempt stored with its session key before its HTLC is handed to the
// switch (Dispatcher, closures of the switch's calls, so that routing
// does not import htlcswitch); the result decrypted with the session
// key. BOLT 4's origin rules decide what a failure means: the recipient
// failing it ends the payment (incorrect_or_unknown_payment_details as
// INCORRECT_PAYMENT_DETAILS), except mpp_timeout; an intermediate node's
// failure is reported to mission control against the pair it names, and
// a channel_update it carries is used for this payment's retries only
// (the channel is ignored in the graph and re-added with the new policy
// as an extra edge), never written to the graph; a failure that no hop's
// key opens excludes the route's pairs for this payment; a refusal by
// our own node excludes that channel. The payment retries until it
// succeeds, no route is left within its fee and CLTV limits, or its
// timeout passes. With a payment address and max_parts above one, an
// amount no single route carries is halved (down to 10,000 sat) into
// shards, each carrying payment_data with the total. At Start every
// payment left in flight resumes: each attempt in flight is handed to
// the switch again (which refuses one it has seen, and sends one that a
// crash kept from leaving) and its result awaited; resumed payments make
// no new attempts. Subscribe and SubscribeAll follow payments' stored
// states (TrackPaymentV2, TrackPayments); SendToRoute is SendToRouteV2.
package routing
