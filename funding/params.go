package funding

import (
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwire"
)

// side is what one party announced in open_channel or accept_channel.
type side struct {
	dust        btcutil.Amount
	reserve     btcutil.Amount // what the other party must keep
	minHtlc     lnwire.MilliSatoshi
	maxInFlight lnwire.MilliSatoshi
	maxHtlcs    uint16
	csv         uint16 // imposed on the other party's outputs

	keys       channeldb.ChannelConfig // keys only
	firstPoint *btcec.PublicKey
	shutdown   []byte
}

func sideOfOpen(m *lnwire.OpenChannel) side {
	return side{
		dust: m.DustLimit, reserve: m.ChannelReserve,
		minHtlc: m.HtlcMinimum, maxInFlight: m.MaxValueInFlight,
		maxHtlcs: m.MaxAcceptedHTLCs, csv: m.CsvDelay,
		keys: channeldb.ChannelConfig{
			FundingKey:              m.FundingKey,
			RevocationBasePoint:     m.RevocationPoint,
			PaymentBasePoint:        m.PaymentPoint,
			DelayedPaymentBasePoint: m.DelayedPaymentPoint,
			HtlcBasePoint:           m.HtlcPoint,
		},
		firstPoint: m.FirstCommitmentPoint,
		shutdown:   m.UpfrontShutdownScript,
	}
}

func sideOfAccept(m *lnwire.AcceptChannel) side {
	return side{
		dust: m.DustLimit, reserve: m.ChannelReserve,
		minHtlc: m.HtlcMinimum, maxInFlight: m.MaxValueInFlight,
		maxHtlcs: m.MaxAcceptedHTLCs, csv: m.CsvDelay,
		keys: channeldb.ChannelConfig{
			FundingKey:              m.FundingKey,
			RevocationBasePoint:     m.RevocationPoint,
			PaymentBasePoint:        m.PaymentPoint,
			DelayedPaymentBasePoint: m.DelayedPaymentPoint,
			HtlcBasePoint:           m.HtlcPoint,
		},
		firstPoint: m.FirstCommitmentPoint,
		shutdown:   m.UpfrontShutdownScript,
	}
}

// ourSide is what we announce for a channel of capacity.
func ourSide(capacity, theirDust btcutil.Amount, k *localKeys,
	firstPoint *btcec.PublicKey, shutdown []byte) side {

	c := ourConstraints(capacity, theirDust)
	return side{
		dust: c.DustLimit, reserve: c.ChanReserve,
		minHtlc:     lnwire.MilliSatoshi(c.HtlcMinimumMsat),
		maxInFlight: lnwire.MilliSatoshi(c.MaxHtlcValueInFlightMsat),
		maxHtlcs:    c.MaxAcceptedHtlcs, csv: c.CsvDelay,
		keys: k.cfg, firstPoint: firstPoint, shutdown: shutdown,
	}
}

// configs turns both announcements into the stored per-party
// configurations, where each party's constraints are those that bind it.
func configs(ours, theirs side) (local, remote channeldb.ChannelConfig) {
	local = ours.keys
	local.ChannelConstraints = channeldb.ChannelConstraints{
		DustLimit:                ours.dust,
		ChanReserve:              theirs.reserve,
		HtlcMinimumMsat:          uint64(ours.minHtlc),
		MaxHtlcValueInFlightMsat: uint64(ours.maxInFlight),
		MaxAcceptedHtlcs:         ours.maxHtlcs,
		CsvDelay:                 theirs.csv,
	}
	remote = theirs.keys
	remote.ChannelConstraints = channeldb.ChannelConstraints{
		DustLimit:                theirs.dust,
		ChanReserve:              ours.reserve,
		HtlcMinimumMsat:          uint64(theirs.minHtlc),
		MaxHtlcValueInFlightMsat: uint64(theirs.maxInFlight),
		MaxAcceptedHtlcs:         theirs.maxHtlcs,
		CsvDelay:                 ours.csv,
	}
	return local, remote
}
