// Package routing will hold the channel graph (gossip validation and
// pruning), gossip sync with peers, pathfinding and the payment lifecycle.
//
// Today it holds what a node that advertises gossip_queries owes its peers
// before it keeps a graph: answers to their queries (QueryResponder), with
// nothing known. BOLT 7 requires the answers, and lnd waits for them: a
// peer it picked for its initial graph sync that never answers keeps its
// synced_to_graph false until its next historical sync, an hour later.
package routing
