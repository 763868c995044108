package routing

import (
	"bytes"
	"errors"
	"log/slog"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwire"
	"lnd.xprv/sphinx"
)

// retryState is what one payment learned for its own retries, beyond
// what mission control learns for every payment.
type retryState struct {
	// overrides replace a channel's policy with the one a failure's
	// channel_update gave: for this payment only, never the graph's.
	overrides map[lnwire.ShortChannelID]ExtraEdge
	// ignoredChans are our own channels that refused an HTLC.
	ignoredChans map[lnwire.ShortChannelID]struct{}
	// ignoredPairs are pairs of a route whose failure could not be
	// read (any of them may be to blame).
	ignoredPairs map[NodePair]struct{}
}

func newRetryState() *retryState {
	return &retryState{
		overrides:    make(map[lnwire.ShortChannelID]ExtraEdge),
		ignoredChans: make(map[lnwire.ShortChannelID]struct{}),
		ignoredPairs: make(map[NodePair]struct{}),
	}
}

// failureOutcome is how an attempt's failure is recorded and whether it
// ends the payment.
type failureOutcome struct {
	record *channeldb.HTLCFailure
	// terminal is the payment's failure reason when no retry can
	// help, nil otherwise.
	terminal *channeldb.FailureReason
}

func reason(r channeldb.FailureReason) *channeldb.FailureReason { return &r }

// interpretFailure applies BOLT 4's origin rules to a failed attempt: it
// works out which node failed and why, tells mission control which pair
// to blame (or that the route worked, when the recipient failed it),
// records a channel_update the failure carried for this payment's
// retries, and says whether the payment is over.
func interpretFailure(a *channeldb.HTLCAttempt, res *AttemptResult, st *retryState,
	mc *MissionControl, now time.Time, log *slog.Logger) failureOutcome {

	rt := RouteFromDB(&a.Route)
	rec := &channeldb.HTLCFailure{FailTime: now}
	out := failureOutcome{record: rec}
	report := func(hop int, code sphinx.FailCode) {
		if mc == nil {
			return
		}
		if err := mc.ReportFailure(rt, hop, code); err != nil {
			log.Warn("Mission control report failed", "err", err)
		}
	}

	switch {
	case res.LocalFailure != nil && !res.FromFirstHop:
		// Our own node refused it (source index 0): that channel is
		// out for this payment; nobody else is to blame.
		rec.Reason = channeldb.HTLCFailMessage
		rec.Message = sphinx.EncodeFailureMessage(res.LocalFailure)
		st.ignoredChans[rt.Hops[0].ChannelID] = struct{}{}
		return out

	case res.LocalFailure != nil:
		// update_fail_malformed_htlc from the first hop: it could not
		// read our onion.
		rec.Reason = channeldb.HTLCFailMessage
		rec.SourceIndex = 1
		rec.Message = sphinx.EncodeFailureMessage(res.LocalFailure)
		report(0, res.LocalFailure.Code())
		st.ignoredPairs[NodePair{rt.SourcePubKey, rt.Hops[0].PubKey}] = struct{}{}
		return out
	}

	df, err := decryptFailure(a, res.Reason)
	if err != nil {
		// No hop's key opens it: any pair may have garbled it.
		rec.Reason = channeldb.HTLCFailUnreadable
		if len(rt.Hops) == 1 {
			out.terminal = reason(channeldb.FailureReasonError)
			return out
		}
		for i := range rt.Hops {
			from, to := pair(rt, i)
			st.ignoredPairs[NodePair{from, to}] = struct{}{}
		}
		return out
	}
	rec.Reason = channeldb.HTLCFailMessage
	rec.SourceIndex = uint32(df.SenderIdx) + 1
	rec.Message = df.Message
	if df.DecodeErr != nil {
		// The node is known, its message is not: blame the node.
		report(df.SenderIdx, sphinx.CodeTemporaryNodeFailure)
		if df.SenderIdx == len(rt.Hops)-1 {
			out.terminal = reason(channeldb.FailureReasonError)
		}
		return out
	}
	code := df.Failure.Code()

	if df.SenderIdx == len(rt.Hops)-1 {
		// The recipient failed it: the route worked.
		report(df.SenderIdx, code)
		switch code {
		case sphinx.CodeMPPTimeout:
			// The other parts did not arrive in time: try again.
		case sphinx.CodeIncorrectOrUnknownPaymentDetails,
			sphinx.CodeIncorrectPaymentAmount, sphinx.CodeFinalExpiryTooSoon:
			out.terminal = reason(channeldb.FailureReasonPaymentDetails)
		default:
			out.terminal = reason(channeldb.FailureReasonError)
		}
		return out
	}

	// An intermediate node failed it. A channel_update it sent is
	// applied for this payment; a policy failure whose update changes
	// what we routed with is not the node's fault.
	changed := applyFailureUpdate(rt, df.SenderIdx, df.Failure, st, log)
	switch code {
	case sphinx.CodeFeeInsufficient, sphinx.CodeIncorrectCltvExpiry,
		sphinx.CodeAmountBelowMinimum, sphinx.CodeExpiryTooSoon:
		if changed {
			return out
		}
	}
	report(df.SenderIdx, code)
	return out
}

func decryptFailure(a *channeldb.HTLCAttempt, reason []byte) (*sphinx.DecryptedFailure, error) {
	path := make([]*btcec.PublicKey, len(a.Route.Hops))
	for i, h := range a.Route.Hops {
		pub, err := btcec.ParsePubKey(h.PubKey[:])
		if err != nil {
			return nil, err
		}
		path[i] = pub
	}
	c, err := sphinx.NewCircuit(sessionKey(a), path)
	if err != nil {
		return nil, err
	}
	return c.DecryptFailure(reason, nil)
}

// applyFailureUpdate takes the channel_update that hop i's failure
// carries for its outgoing channel, if it is that channel's, signed by
// hop i, for its direction, and keeps it in st for this payment. It
// reports whether the policy differs from the one the route used.
func applyFailureUpdate(rt *Route, i int, f sphinx.FailureMessage, st *retryState, log *slog.Logger) bool {
	uc, ok := f.(sphinx.UpdateCarrier)
	if !ok || len(uc.Update()) == 0 || i+1 >= len(rt.Hops) {
		return false
	}
	var u lnwire.ChannelUpdate
	if err := u.Decode(bytes.NewReader(sphinx.StripChannelUpdateType(uc.Update()))); err != nil {
		log.Debug("Failure's channel_update unreadable", "err", err)
		return false
	}
	from, to := rt.Hops[i].PubKey, rt.Hops[i+1].PubKey
	scid := rt.Hops[i+1].ChannelID
	wantDir := 0
	if bytes.Compare(from[:], to[:]) > 0 {
		wantDir = 1
	}
	if u.ShortChannelID != scid || u.Direction() != wantDir {
		log.Debug("Failure's channel_update is for another channel", "scid", u.ShortChannelID)
		return false
	}
	if err := VerifyChannelUpdate(&u, from, 0); err != nil {
		log.Debug("Failure's channel_update refused", "err", err)
		return false
	}
	pol := PolicyFromUpdate(&u)
	prev, had := st.overrides[scid]
	if had && prev.Policy == pol {
		return false
	}
	st.overrides[scid] = ExtraEdge{From: from, To: to, ChannelID: scid, Policy: pol, Capacity: prev.Capacity}
	// Did the route pay what the new policy asks? Node i sends
	// Hops[i].AmtToForward over the channel, receiving its fee and
	// delta on top.
	sent := rt.Hops[i].AmtToForward
	fee, ok := pol.Fee(sent)
	in := rt.TotalTimeLock
	if i > 0 {
		in = rt.Hops[i-1].OutgoingTimeLock
	}
	delta := in - rt.Hops[i].OutgoingTimeLock
	return !ok || fee > rt.HopFee(i) || uint32(pol.CLTVDelta) > delta || sent < pol.MinHTLC
}

// errNoAttempt is an internal error: a result for an attempt the payment
// does not hold.
var errNoAttempt = errors.New("routing: result for an unknown attempt")
