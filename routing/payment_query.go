package routing

import (
	"errors"
	"fmt"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwire"
)

// ErrNoChannel is returned by BuildRoute for two consecutive nodes with no
// usable channel between them.
var ErrNoChannel = errors.New("routing: no usable channel between hops")

// QueryPayments pages through the stored payments (ListPayments).
func (r *PaymentRouter) QueryPayments(q channeldb.PaymentsQuery) (*channeldb.PaymentsPage, error) {
	var page *channeldb.PaymentsPage
	err := r.cfg.DB.View(func(tx kvdb.RTx) error {
		var err error
		page, err = channeldb.QueryPayments(tx, q)
		return err
	})
	return page, err
}

// DeletePayment deletes a payment not in flight, or its failed attempts.
func (r *PaymentRouter) DeletePayment(hash [32]byte, failedHTLCsOnly bool) error {
	defer r.forget(&hash)
	return r.cfg.DB.Update(func(tx kvdb.RwTx) error {
		return channeldb.DeletePayment(tx, hash, failedHTLCsOnly)
	})
}

// DeletePayments deletes every payment not in flight (only FAILED ones if
// failedOnly), or their failed attempts; it returns how many.
func (r *PaymentRouter) DeletePayments(failedOnly, failedHTLCsOnly bool) (int, error) {
	var n int
	defer r.forget(nil)
	err := r.cfg.DB.Update(func(tx kvdb.RwTx) error {
		var err error
		n, err = channeldb.DeletePayments(tx, failedOnly, failedHTLCsOnly)
		return err
	})
	return n, err
}

// FindRoute is the route a payment of req would try first, with req's
// limits and our channels' live balances (EstimateRouteFee).
func (r *PaymentRouter) FindRoute(req *PaymentRequest) (*Route, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	l := r.newLifecycle(req.PaymentHash, req)
	return l.findRoute(req.Amount, req.FeeLimit)
}

// BuildRoute builds the route through hops (not including us) that
// delivers amt with the final hop's expiry finalCLTV blocks above the tip:
// over outgoing (if set) or any of our channels to the first hop, and
// between later hops over the channel that asks the highest fee for what
// crosses it, so that the route pays whichever the node picks.
func (r *PaymentRouter) BuildRoute(amt lnwire.MilliSatoshi, finalCLTV uint16,
	outgoing *lnwire.ShortChannelID, hops []Vertex) (*Route, error) {

	if len(hops) == 0 {
		return nil, fmt.Errorf("%w: no hops", ErrBadQuery)
	}
	height, err := r.cfg.BestHeight()
	if err != nil {
		return nil, err
	}
	n := len(hops)
	rt := &Route{SourcePubKey: r.cfg.Self, Hops: make([]Hop, n)}
	// cur and exp cross the channel into hops[i]; fwd and fwdExp are
	// what hops[i] sends on (the payment itself at the final hop).
	cur, exp := amt, height+uint32(finalCLTV)
	fwd, fwdExp := cur, exp
	for i := n - 1; i >= 0; i-- {
		from := r.cfg.Self
		if i > 0 {
			from = hops[i-1]
		}
		e, err := r.pickChannel(from, hops[i], cur, i == 0, outgoing)
		if err != nil {
			return nil, err
		}
		rt.Hops[i] = Hop{PubKey: hops[i], ChannelID: e.ChannelID, AmtToForward: fwd, OutgoingTimeLock: fwdExp}
		if i == 0 {
			break
		}
		// hops[i-1] charges its fee and delta for sending on over e.
		fee, ok := e.Policy.Fee(cur)
		if !ok {
			return nil, fmt.Errorf("%w: fee overflow", ErrBadQuery)
		}
		fwd, fwdExp = cur, exp
		cur += fee
		exp += uint32(e.Policy.CLTVDelta)
	}
	rt.TotalAmount, rt.TotalTimeLock = cur, exp
	return rt, nil
}

// pickChannel chooses the channel from -> to carrying amt: ours (from
// is Self) by outgoing or the most bandwidth, another node's by the
// highest fee.
func (r *PaymentRouter) pickChannel(from, to Vertex, amt lnwire.MilliSatoshi, local bool,
	outgoing *lnwire.ShortChannelID) (ExtraEdge, error) {

	cands := r.cfg.Graph.PairChannels(from, to)
	if local && r.cfg.LocalChannels != nil {
		for _, e := range r.cfg.LocalChannels() {
			if e.To == to {
				cands = append(cands, e)
			}
		}
	}
	var best ExtraEdge
	var bestScore lnwire.MilliSatoshi
	found := false
	for _, e := range cands {
		var score lnwire.MilliSatoshi
		switch {
		case local && outgoing != nil && e.ChannelID != *outgoing:
			continue
		case local:
			if r.cfg.Dispatcher.Bandwidth != nil {
				bw, ok := r.cfg.Dispatcher.Bandwidth(e.ChannelID)
				if !ok || bw < amt {
					continue
				}
				score = bw
			}
		default:
			if e.Policy.Disabled || amt < e.Policy.MinHTLC || (e.Policy.MaxHTLC != 0 && amt > e.Policy.MaxHTLC) {
				continue
			}
			fee, ok := e.Policy.Fee(amt)
			if !ok {
				continue
			}
			score = fee
		}
		if !found || score > bestScore {
			best, bestScore, found = e, score, true
		}
	}
	if !found {
		return ExtraEdge{}, fmt.Errorf("%w: %v to %v for %v", ErrNoChannel, from, to, amt)
	}
	return best, nil
}
