// Package chainfee holds the fee-rate units shared by the chain backends,
// the wallet and the channel state machine: SatPerKWeight (BOLT 2/3's
// feerate_per_kw) and SatPerVByte (what operators and lnd's RPC speak),
// their conversions and the relay floor.
//
// It is a leaf package with no dependency beyond btcutil, so that code
// which only needs a fee rate (lnwallet, the future switch) does not pull
// in a chain backend or its RPC client.
package chainfee
