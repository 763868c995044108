package main

import (
	"github.com/btcsuite/btcd/btcutil"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwallet/chainfee"
	"lnd.xprv/rpc"
)

// closeBalances sets a force-closed channel's settled_balance and
// time_locked_balance as lnd's close summary has them, from the outputs
// of ours the contract found on the closing transaction. lnd counts our
// own commitment's to_local in both (settled once its delay passes) and
// the HTLCs we offered on it as time-locked (what their HTLC-timeout
// transactions pay out); on the peer's commitment
// (a revoked one too) only to_remote, as settled. The HTLCs we may claim
// with a preimage are counted in neither.
func closeBalances(c *rpc.ClosedChannel, rec *channeldb.ContractRecord) {
	// lnd counts an offered HTLC by the output of its HTLC-timeout
	// transaction: less that transaction's fee without anchors.
	var timeoutFee btcutil.Amount
	if st := rec.Channel; st != nil {
		timeoutFee = lnwallet.HTLCTimeoutFee(lnwallet.ChannelType(st.ChanType),
			chainfee.SatPerKWeight(st.LocalCommit.FeeRate))
	}
	var toLocal, toRemote, offered btcutil.Amount
	for _, o := range rec.Outputs {
		switch o.Kind {
		case channeldb.OutputToLocal:
			toLocal += o.Amount
		case channeldb.OutputToRemote:
			toRemote += o.Amount
		case channeldb.OutputLocalHTLCTimeout:
			offered += max(o.Amount-timeoutFee, 0)
		}
	}
	switch rec.Kind {
	case channeldb.ContractLocalCommit:
		c.Settled, c.TimeLocked = toLocal, toLocal+offered
	case channeldb.ContractRemoteCommit, channeldb.ContractRemotePending,
		channeldb.ContractBreach:

		c.Settled, c.TimeLocked = toRemote, 0
	}
}
