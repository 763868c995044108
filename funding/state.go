package funding

import (
	"time"

	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwallet/chainfee"
	"lnd.xprv/lnwallet/shachain"
	"lnd.xprv/lnwire"
)

// rpcTimeout bounds each call to the chain backend or wallet.
const rpcTimeout = 30 * time.Second

// newState is the channel's record at commitment 0, as the state machine
// resumes it: both commitments number 0 with the opener's balance less
// the push, the peer's first per_commitment_point current and its
// second unknown until channel_ready.
func newState(f *flow, op wire.OutPoint) *channeldb.OpenChannel {
	local, remote := configs(f.ours, f.theirs)
	total := uint64(lnwire.NewMSatFromSatoshis(f.capacity))
	ours, theirs := total-uint64(f.push), uint64(f.push)
	if f.role == channeldb.Fundee {
		ours, theirs = theirs, ours
	}
	commit := channeldb.ChannelCommitment{
		LocalBalanceMsat:  ours,
		RemoteBalanceMsat: theirs,
		FeeRate:           f.feeRate,
	}
	return &channeldb.OpenChannel{
		FundingOutpoint:    op,
		Capacity:           f.capacity,
		ChanType:           uint8(f.chanType),
		IsInitiator:        f.role == channeldb.Funder,
		RemoteNode:         f.peer,
		LocalConfig:        local,
		RemoteConfig:       remote,
		RevocationRoot:     f.keys.revRoot,
		LocalCommit:        commit,
		RemoteCommit:       commit,
		RemoteCurrentPoint: f.theirs.firstPoint,
		RevocationStore:    shachain.NewStore(),
	}
}

// paramsOf gives the BOLT 3 parameters of a stored channel.
func paramsOf(st *channeldb.OpenChannel) lnwallet.ChannelParams {
	conv := func(c *channeldb.ChannelConfig) lnwallet.ChannelConfig {
		return lnwallet.ChannelConfig{
			DustLimit:               c.DustLimit,
			ChanReserve:             c.ChanReserve,
			CsvDelay:                c.CsvDelay,
			FundingKey:              c.FundingKey,
			RevocationBasePoint:     c.RevocationBasePoint,
			PaymentBasePoint:        c.PaymentBasePoint,
			DelayedPaymentBasePoint: c.DelayedPaymentBasePoint,
			HtlcBasePoint:           c.HtlcBasePoint,
		}
	}
	return lnwallet.ChannelParams{
		FundingOutpoint: st.FundingOutpoint,
		Capacity:        st.Capacity,
		Type:            lnwallet.ChannelType(st.ChanType),
		LocalIsOpener:   st.IsInitiator,
		Local:           conv(&st.LocalConfig),
		Remote:          conv(&st.RemoteConfig),
	}
}

// initialSpec is commitment 0, from our point of view.
func initialSpec(st *channeldb.OpenChannel) *lnwallet.CommitmentSpec {
	return &lnwallet.CommitmentSpec{
		FeeRate:           chainfee.SatPerKWeight(st.LocalCommit.FeeRate),
		LocalBalanceMsat:  st.LocalCommit.LocalBalanceMsat,
		RemoteBalanceMsat: st.LocalCommit.RemoteBalanceMsat,
	}
}

// checkState makes sure the state machine resumes the record before it
// is persisted: a channel that could not be resumed must not be signed.
func (m *Manager) checkState(st *channeldb.OpenChannel) error {
	b, err := channeldb.EncodeOpenChannel(st)
	if err != nil {
		return err
	}
	cp, err := channeldb.DecodeOpenChannel(b)
	if err != nil {
		return err
	}
	_, err = NewChannel(m.cfg.Wallet, cp)
	return err
}

// validShutdownScript accepts the scripts BOLT 2 allows in
// upfront_shutdown_script: P2PKH, P2SH, P2WPKH, P2WSH, and witness v1+
// programs of 2 to 40 bytes (option_shutdown_anysegwit).
func validShutdownScript(s []byte) bool {
	switch txscript.GetScriptClass(s) {
	case txscript.PubKeyHashTy, txscript.ScriptHashTy,
		txscript.WitnessV0PubKeyHashTy, txscript.WitnessV0ScriptHashTy:
		return true
	}
	if len(s) < 4 || len(s) > 42 {
		return false
	}
	v := s[0]
	return v >= txscript.OP_1 && v <= txscript.OP_16 && int(s[1]) == len(s)-2
}
