package lnwallet

import (
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"

	"lnd.xprv/channeldb"
	"lnd.xprv/internal/vartime"
	"lnd.xprv/lnwallet/chainfee"
	"lnd.xprv/lnwallet/shachain"
	"lnd.xprv/lnwire"
)

// DefaultMaxDustExposureMsat is the dust-exposure bound used when Config
// leaves it zero: 50,000 sat, the order of lnd's and CLN's defaults.
const DefaultMaxDustExposureMsat = 50_000_000

// DefaultMaxFeeRate is the highest feerate_per_kw accepted from the opener
// when Config leaves it zero (1,000 sat/vB).
const DefaultMaxFeeRate chainfee.SatPerKWeight = 250_000

// MaxCltvExpiry bounds cltv_expiry: BOLT 2 requires it below 500000000 (a
// block height, not a timestamp).
const MaxCltvExpiry = 500_000_000

// MaxAcceptedHTLCsLimit is BOLT 2's upper bound on max_accepted_htlcs.
const MaxAcceptedHTLCsLimit = 483

// Config holds what a Channel needs besides its stored state: keys and
// policy. Nothing in it does I/O.
type Config struct {
	// Signer signs with our funding key and basepoints.
	Signer Signer

	// Secrets produces our per-commitment secrets: a shachain.Producer
	// whose seed the caller derives from the wallet key at the state's
	// RevocationRoot.
	Secrets SecretSource

	// MaxDustExposureMsat bounds the value of trimmed HTLCs on either
	// commitment (0: DefaultMaxDustExposureMsat).
	MaxDustExposureMsat uint64

	// MinFeeRate and MaxFeeRate bound the feerate_per_kw we accept in
	// update_fee and send (0: chainfee.FeePerKwFloor and
	// DefaultMaxFeeRate).
	MinFeeRate, MaxFeeRate chainfee.SatPerKWeight
}

// SecretSource gives our per_commitment_secret of a commitment number;
// *shachain.Producer implements it.
type SecretSource interface {
	ForCommitment(commitNum uint64) ([32]byte, error)
}

// Channel is the state machine of one open channel (BOLT 2 normal
// operation and reestablishment). It does no I/O and is not safe for
// concurrent use; see the package documentation for the persist-then-send
// contract.
type Channel struct {
	cfg    Config
	st     *channeldb.OpenChannel
	params ChannelParams
	chanID lnwire.ChannelID

	// pendingLocal is a commitment of ours the peer signed that we have
	// not revoked the previous one for. It lives in memory only: if it
	// is lost, the peer retransmits it on reconnection.
	pendingLocal *channeldb.ChannelCommitment

	// unpersisted is the last Pending, until persisted.
	unpersisted *Pending

	// broken is set when a Pending failed to persist.
	broken bool

	// dataLoss is set once the peer proved our state is old: our
	// commitment is revoked and must never be broadcast.
	dataLoss bool

	// shutdownSent and shutdownRecv record the shutdown messages of a
	// cooperative close: no HTLC is added after either (shutdown.go).
	shutdownSent, shutdownRecv bool

	// points caches our last per_commitment_points by number: the one
	// announced in a revoke_and_ack is needed again to check the next
	// commitment_signed.
	points [2]cachedPoint

	// secrets caches our last per_commitment_secrets by number: each
	// is needed three times (for the point announced, for the
	// revocation key of our commitment, and to revoke it), and one
	// costs up to 48 SHA256 from the shachain seed, which the
	// Channel holds anyway.
	secrets [3]cachedSecret

	// revTables are the comb tables of each party's revocation
	// basepoint (by Party), built on first use: 4 KB each.
	revTables [2]*vartime.Table

	// peerTables are those of the peer's funding key and HTLC
	// basepoint, built on first use: 4 KB each.
	peerTables *sigTables

	// views are the commitments viewSet builds for an update's checks,
	// kept with their HTLC arrays: every add is checked on four views
	// that each copy the HTLCs in flight, and no view outlives its check.
	views [4]channeldb.ChannelCommitment
}

// cachedSecret is one entry of Channel.secrets.
type cachedSecret struct {
	n      uint64
	ok     bool
	secret [32]byte
}

// cachedPoint is one entry of Channel.points.
type cachedPoint struct {
	n     uint64
	point *btcec.PublicKey
}

// NewChannel resumes a channel from its stored state, which the Channel
// takes ownership of. Updates the peer never received a commitment_signed
// for are forgotten, as after any disconnection (BOLT 2).
func NewChannel(st *channeldb.OpenChannel, cfg Config) (*Channel, error) {
	if cfg.Signer == nil || cfg.Secrets == nil {
		return nil, errors.New("lnwallet: channel needs a signer and " +
			"its per-commitment secrets")
	}
	if cfg.MaxDustExposureMsat == 0 {
		cfg.MaxDustExposureMsat = DefaultMaxDustExposureMsat
	}
	if cfg.MinFeeRate == 0 {
		cfg.MinFeeRate = chainfee.FeePerKwFloor
	}
	if cfg.MaxFeeRate == 0 {
		cfg.MaxFeeRate = DefaultMaxFeeRate
	}
	c := &Channel{
		cfg:    cfg,
		st:     st,
		params: paramsOf(st),
		chanID: st.ChannelID(),
	}
	if err := c.params.Validate(); err != nil {
		return nil, fmt.Errorf("channel %v: %w", st.FundingOutpoint, err)
	}
	if st.RevocationStore == nil {
		st.RevocationStore = shachain.NewStore()
	}
	if st.RemoteCurrentPoint == nil {
		return nil, fmt.Errorf("channel %v: %w", st.FundingOutpoint,
			ErrNilKey)
	}
	if err := c.checkLogs(); err != nil {
		return nil, fmt.Errorf("channel %v: %w", st.FundingOutpoint, err)
	}
	c.dropUncommitted()
	return c, nil
}

// paramsOf converts the stored static parameters for the BOLT 3 layer.
func paramsOf(st *channeldb.OpenChannel) ChannelParams {
	conv := func(c *channeldb.ChannelConfig) ChannelConfig {
		return ChannelConfig{
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
	return ChannelParams{
		FundingOutpoint: st.FundingOutpoint,
		Capacity:        st.Capacity,
		Type:            ChannelType(st.ChanType),
		LocalIsOpener:   st.IsInitiator,
		Local:           conv(&st.LocalConfig),
		Remote:          conv(&st.RemoteConfig),
	}
}

// checkLogs verifies that each update log is a contiguous run of indices
// covering every update a commitment still needs, so that a damaged
// record is refused on load rather than mis-applied later.
func (c *Channel) checkLogs() error {
	st := c.st
	check := func(name string, log []channeldb.LogUpdate, next,
		from uint64) error {

		if len(log) == 0 {
			if from != next {
				return fmt.Errorf("%s log empty, expected "+
					"updates %d..%d", name, from, next)
			}
			return nil
		}
		if log[0].Index > from {
			return fmt.Errorf("%s log starts at %d, need %d", name,
				log[0].Index, from)
		}
		for i := range log {
			if log[i].Index != log[0].Index+uint64(i) {
				return fmt.Errorf("%s log not contiguous at %d",
					name, log[i].Index)
			}
		}
		if log[len(log)-1].Index+1 != next {
			return fmt.Errorf("%s log ends at %d, next is %d", name,
				log[len(log)-1].Index, next)
		}
		return nil
	}
	rc := c.latestRemote()
	if err := check("local", st.LocalLog, st.NextLocalLogIndex,
		min(st.LocalCommit.LocalLogIndex, st.RemoteCommit.LocalLogIndex),
	); err != nil {
		return err
	}
	if rc.LocalLogIndex > st.NextLocalLogIndex ||
		st.LocalCommit.RemoteLogIndex > st.NextRemoteLogIndex {

		return errors.New("commitment includes updates beyond its log")
	}
	return check("remote", st.RemoteLog, st.NextRemoteLogIndex,
		min(st.LocalCommit.RemoteLogIndex, rc.RemoteLogIndex,
			st.RemoteCommit.RemoteLogIndex))
}

// ChannelID returns the BOLT 2 channel_id.
func (c *Channel) ChannelID() lnwire.ChannelID { return c.chanID }

// Params returns the channel's static parameters.
func (c *Channel) Params() *ChannelParams { return &c.params }

// State returns the channel's state. It belongs to the Channel: read it,
// never modify it.
func (c *Channel) State() *channeldb.OpenChannel { return c.st }

// latestRemote returns the peer's newest commitment we signed.
func (c *Channel) latestRemote() *channeldb.ChannelCommitment {
	if c.st.PendingRemote != nil {
		return &c.st.PendingRemote.Commitment
	}
	return &c.st.RemoteCommit
}

// localPoint returns our per_commitment_point for commitment n.
func (c *Channel) localPoint(n uint64) (*btcec.PublicKey, error) {
	for _, cp := range c.points {
		if cp.point != nil && cp.n == n {
			return cp.point, nil
		}
	}
	secret, err := c.secret(n)
	if err != nil {
		return nil, err
	}
	point := CommitPoint(secret)
	c.points[0], c.points[1] = c.points[1], cachedPoint{n, point}
	return point, nil
}

// secret returns our per_commitment_secret for commitment n.
func (c *Channel) secret(n uint64) ([32]byte, error) {
	for _, cs := range c.secrets {
		if cs.ok && cs.n == n {
			return cs.secret, nil
		}
	}
	secret, err := c.cfg.Secrets.ForCommitment(n)
	if err != nil {
		return [32]byte{}, err
	}
	c.secrets[0], c.secrets[1] = c.secrets[1], c.secrets[2]
	c.secrets[2] = cachedSecret{n: n, ok: true, secret: secret}
	return secret, nil
}

// dropUncommitted forgets updates of either side not covered by a
// commitment_signed the other side received, and a received commitment
// not yet revoked (BOLT 2: "upon disconnection").
func (c *Channel) dropUncommitted() {
	st := c.st
	rc := c.latestRemote()
	st.LocalLog = truncateLog(st.LocalLog, rc.LocalLogIndex)
	st.NextLocalLogIndex = rc.LocalLogIndex
	st.NextLocalHtlcID = rc.LocalHtlcID
	st.RemoteLog = truncateLog(st.RemoteLog, st.LocalCommit.RemoteLogIndex)
	st.NextRemoteLogIndex = st.LocalCommit.RemoteLogIndex
	st.NextRemoteHtlcID = st.LocalCommit.RemoteHtlcID
	c.pendingLocal = nil
}

// truncateLog keeps the updates with index below end.
func truncateLog(log []channeldb.LogUpdate, end uint64) []channeldb.LogUpdate {
	for i := range log {
		if log[i].Index >= end {
			return log[:i]
		}
	}
	return log
}

// ready refuses a transition while the previous one is unpersisted or
// after a failed persist.
func (c *Channel) ready() error {
	if c.broken {
		return ErrChannelBroken
	}
	if c.unpersisted != nil {
		return ErrUnpersisted
	}
	return nil
}
