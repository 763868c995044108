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
// is disconnected, the client is told (Reorged) and the notification is
// delivered again once the event is back in the best chain.
//
// # The btcd backend
//
// BtcdBackend keeps its own short chain of recent headers and reconciles it
// with btcd's best chain whenever btcd reports a block, when the connection
// comes back after btcd restarted, and every PollInterval: it walks back
// from btcd's tip to the first block it already holds and reports its own
// blocks above that fork point as disconnected (highest first), then the new
// ones as connected. Reorgs, restarts and missed notifications all take that
// one path, so clients always see an ordered stream.
//
// btcd requirements: RPC over TLS (the certificate is passed in the config),
// and nothing else. Transactions and spends are found in blocks the backend
// fetches itself, scanning from the caller's height hint; with btcd's
// --txindex, registering for an old transaction is a lookup instead. Spend
// notifications are for spends in blocks only.
//
// Fee rates come from btcd's estimatefee; when it has none (always so on a
// fresh regtest) the configured fallback is used (DefaultFallbackFeeRate, 25
// sat/vbyte), and nothing below the relay fee and FeePerKwFloor (253 sat/kw)
// is ever returned.
package chain
