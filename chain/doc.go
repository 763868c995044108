// Package chain is xlnd's view of the blockchain: block epochs (connected and
// disconnected), confirmation and spend notifications that follow reorgs,
// chain queries, transaction broadcast and fee estimation.
//
// The interfaces here are what the rest of the node depends on; the btcd
// implementation over btcd's websocket RPC lives in this package too
// (NewBtcdBackend). Nothing here knows about Lightning.
//
// Delivery model: every registration returns an event whose channels are fed
// by an unbounded per-client queue, so a slow consumer never blocks the
// notifier or other clients. A registration for something that already
// happened (a transaction already confirmed, an outpoint already spent) is
// delivered at once. When a block carrying a delivered confirmation or spend
// is disconnected, the client is told (Reorged / Withdrawn) and the
// notification is delivered again once the event is back in the best chain.
package chain
