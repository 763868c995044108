// Package cluster elects the one node of an active/standby cluster that
// may run: every node campaigns through etcd's election API under a
// shared prefix, the winner runs, the others wait to take over.
//
// Leadership is a key under the prefix, held by a lease the node keeps
// alive; the key with the lowest create revision leads. A leader that
// stops keeping its lease alive (crash, partition, pause) loses the key
// after the session TTL, and the next candidate leads. Because a node may
// not notice at once that it lost the lease, the etcd kvdb backend makes
// every commit conditional on the key (Leader.Fence): a deposed leader
// cannot write, so two nodes never both persist channel state.
package cluster
