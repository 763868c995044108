package rpc

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"lnd.xprv/channeldb"
	"lnd.xprv/invoices/bolt11"
	"lnd.xprv/lnwire"
	"lnd.xprv/routing"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/sphinx"
)

// Payments is the payment router (routing.PaymentRouter).
type Payments interface {
	SendPayment(req *routing.PaymentRequest) error
	Subscribe(hash [32]byte) (*routing.PaymentSubscription, error)
	SubscribeAll() *routing.PaymentSubscription
	SendToRoute(ctx context.Context, hash [32]byte, rt *routing.Route, final routing.FinalHop,
		skipTempErr bool) (*channeldb.HTLCAttempt, error)
	FetchPayment(hash [32]byte) (*channeldb.Payment, error)
	QueryPayments(q channeldb.PaymentsQuery) (*channeldb.PaymentsPage, error)
	DeletePayment(hash [32]byte, failedHTLCsOnly bool) error
	DeletePayments(failedOnly, failedHTLCsOnly bool) (int, error)
	FindRoute(req *routing.PaymentRequest) (*routing.Route, error)
	BuildRoute(amt lnwire.MilliSatoshi, finalCLTV uint16, outgoing *lnwire.ShortChannelID,
		hops []routing.Vertex) (*routing.Route, error)
}

// Payment defaults, lnd's.
const (
	// defaultFinalCLTVDelta is the final delta of a payment to a node
	// with no invoice (keysend), and of BuildRoute: lnd's time-lock
	// delta.
	defaultFinalCLTVDelta = 80
	// finalCLTVPadding is added to the final hop's delta, as lnd does,
	// so that a block found in flight does not fail the payment.
	finalCLTVPadding = 3
	// maxCLTVLimit is lnd's --max-cltv-expiry.
	maxCLTVLimit = 2016
	// sendPaymentSyncTimeout is how long SendPaymentSync tries (lnd's
	// 60 s).
	sendPaymentSyncTimeout = 60 * time.Second
	msgSelfPayment         = "self-payments not allowed"
)

func (s *Server) payments() (Payments, *Backend, error) {
	b := s.backend.Load()
	if b == nil {
		return nil, nil, status.Error(codes.Unavailable, msgRPCStarting)
	}
	if b.Payments == nil {
		return nil, nil, status.Error(codes.Unavailable, "payment router not active")
	}
	return b.Payments, b, nil
}

// payTerms is what SendPaymentV2 and SendPaymentSync share.
type payTerms struct {
	dest           []byte
	amt            lnwire.MilliSatoshi
	hash           []byte
	finalCLTV      int32
	payReq         string
	feeLimit       lnwire.MilliSatoshi
	cltvLimit      uint32
	hints          []*lnrpc.RouteHint
	records        map[uint64][]byte
	lastHop        []byte
	allowSelf      bool
	maxParts       uint32
	outgoing       []uint64
	payAddr        []byte
	maxShard       uint64
	timePref       float64
	timeout        time.Duration
	defaultToParts bool // SendPaymentV2 splits by default; SendPaymentSync does not
}

// paymentRequest turns the terms into the router's request, as lnd reads
// them.
func (s *Server) paymentRequest(ctx context.Context, b *Backend, t payTerms) (*routing.PaymentRequest, error) {
	if t.timePref < -1 || t.timePref > 1 {
		return nil, invalidf("time preference out of range")
	}
	if t.cltvLimit > maxCLTVLimit {
		return nil, invalidf("total time lock of %v exceeds max allowed %v", t.cltvLimit, maxCLTVLimit)
	}
	req := &routing.PaymentRequest{
		FeeLimit: t.feeLimit, CLTVLimit: t.cltvLimit, TimePref: t.timePref,
		Timeout: t.timeout, MaxParts: t.maxParts,
		MaxShardAmt: lnwire.MilliSatoshi(t.maxShard),
	}
	if req.MaxParts == 0 && t.defaultToParts {
		req.MaxParts = routing.DefaultMaxParts
	}
	for _, id := range t.outgoing {
		req.OutgoingChannels = append(req.OutgoingChannels, lnwire.NewShortChanIDFromInt(id))
	}
	if len(t.lastHop) > 0 {
		v, err := vertexBytes("last_hop_pubkey", t.lastHop)
		if err != nil {
			return nil, err
		}
		req.LastHop = &v
	}
	for typ := range t.records {
		if typ < sphinx.MinCustomRecordType {
			return nil, invalidf("custom record type %d is below the custom range (>= 65536)", typ)
		}
	}
	if len(t.records) > 0 {
		req.DestCustomRecords = t.records
	}

	if t.payReq != "" {
		if err := s.payReqTerms(req, t); err != nil {
			return nil, err
		}
	} else if err := payDestTerms(req, t); err != nil {
		return nil, err
	}
	hints, err := routeHintEdges(t.hints, req.Target)
	if err != nil {
		return nil, err
	}
	req.RouteHints = append(hints, req.RouteHints...)
	req.FinalCLTVDelta += finalCLTVPadding

	self, err := b.Info.IdentityKey(ctx)
	if err != nil {
		return nil, s.toStatus(err)
	}
	if req.Target == routing.Vertex(self.SerializeCompressed()) && !t.allowSelf {
		return nil, invalidf(msgSelfPayment)
	}
	return req, nil
}

// payReqTerms fills req from a BOLT 11 invoice.
func (s *Server) payReqTerms(req *routing.PaymentRequest, t payTerms) error {
	switch {
	case len(t.dest) > 0:
		return invalidf("dest and payment_request cannot appear together")
	case len(t.hash) > 0:
		return invalidf("payment_hash and payment_request cannot appear together")
	case t.finalCLTV != 0:
		return invalidf("final_cltv_delta and payment_request cannot appear together")
	}
	str := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(t.payReq), "lightning:"))
	inv, err := bolt11.Decode(str, s.cfg.Network.Params)
	if err != nil {
		return invalidf("%v", err)
	}
	if until := inv.Timestamp.Add(time.Duration(inv.ExpirySeconds()) * time.Second); time.Now().After(until) {
		return invalidf("invoice expired. Valid until %v", until)
	}
	switch {
	case !inv.HasAmount() && t.amt == 0:
		return invalidf("amount must be specified when paying a zero amount invoice")
	case inv.HasAmount() && t.amt != 0:
		return invalidf("amount must not be specified when paying a non-zero amount invoice")
	case inv.HasAmount():
		req.Amount = lnwire.MilliSatoshi(inv.Amount)
	default:
		req.Amount = t.amt
	}
	addr := inv.PaymentSecret()
	if addr == ([32]byte{}) {
		return invalidf("payment request must contain either a payment address or blinded paths")
	}
	req.PaymentAddr = &addr
	if f := inv.Features(); !f.HasFeature(bolt11.FeatureBasicMPP) {
		req.MaxParts = 1
	}
	req.PaymentHash = inv.PaymentHash()
	req.Target = routing.Vertex(inv.Payee().SerializeCompressed())
	req.FinalCLTVDelta = uint16(inv.MinFinalCLTVExpiryDelta())
	req.PayReq = str
	req.RouteHints = bolt11HintEdges(inv.RouteHints(), req.Target)
	return nil
}

// payDestTerms fills req for a payment to a node by key: keysend when
// the preimage record is there.
func payDestTerms(req *routing.PaymentRequest, t payTerms) error {
	target, err := vertexBytes("dest", t.dest)
	if err != nil {
		return err
	}
	req.Target = target
	req.FinalCLTVDelta = defaultFinalCLTVDelta
	if t.finalCLTV < 0 || t.finalCLTV > 0xffff {
		return invalidf("final_cltv_delta %d out of range", t.finalCLTV)
	}
	if t.finalCLTV != 0 {
		req.FinalCLTVDelta = uint16(t.finalCLTV)
	}
	if t.amt == 0 {
		return invalidf("amount must be specified")
	}
	req.Amount = t.amt
	pre, keysend := t.records[sphinx.KeysendPreimageType]
	switch {
	case keysend && len(pre) != 32:
		return invalidf("keysend preimage must be 32 bytes")
	case keysend && t.maxShard != 0:
		return invalidf("keysend payments cannot specify a max shard amount - MPP not supported with keysend payments")
	case len(t.hash) == 32:
		req.PaymentHash = [32]byte(t.hash)
	case len(t.hash) == 0 && keysend:
		req.PaymentHash = sha256.Sum256(pre)
	default:
		return invalidf("payment hash must be 32 bytes")
	}
	if keysend && sha256.Sum256(pre) != req.PaymentHash {
		return invalidf("keysend preimage does not match the payment hash")
	}
	if len(t.payAddr) > 0 {
		if len(t.payAddr) != 32 {
			return invalidf("payment_addr must be 32 bytes")
		}
		addr := [32]byte(t.payAddr)
		req.PaymentAddr = &addr
	} else {
		// No payment address: the payment cannot be split.
		req.MaxParts = 1
	}
	return nil
}

// bolt11HintEdges turns an invoice's route hints into private channels,
// each hint a chain of hops ending at target.
func bolt11HintEdges(hints []bolt11.RouteHint, target routing.Vertex) []routing.ExtraEdge {
	var edges []routing.ExtraEdge
	for _, h := range hints {
		for i, hop := range h {
			to := target
			if i+1 < len(h) {
				to = routing.Vertex(h[i+1].NodeID.SerializeCompressed())
			}
			edges = append(edges, routing.ExtraEdge{
				From: routing.Vertex(hop.NodeID.SerializeCompressed()), To: to,
				ChannelID: lnwire.NewShortChanIDFromInt(uint64(hop.ChannelID)),
				Policy: routing.Policy{FeeBaseMsat: hop.FeeBaseMSat,
					FeeRatePPM: hop.FeeProportionalMillionths, CLTVDelta: hop.CLTVExpiryDelta},
			})
		}
	}
	return edges
}

func isFinal(p *channeldb.Payment) bool {
	s := p.Status()
	return s == channeldb.StatusSucceeded || s == channeldb.StatusFailed
}

// streamPayment sends the payment's states, the current one first, until
// it is final (only the final one with noInflight).
//
// created is set for a payment just sent: lnd subscribes after storing
// the payment and before its first attempt, so its stream opens with
// the payment as created, IN_FLIGHT without HTLCs. xlnd stores the
// payment with its first attempt in one write, so that state is sent
// first from the stored one, as it was before the attempt.
func (s *Server) streamPayment(ctx context.Context, pay Payments, hash [32]byte, noInflight, created bool,
	send func(*lnrpc.Payment) error) error {

	sub, err := pay.Subscribe(hash)
	if errors.Is(err, channeldb.ErrPaymentNotInitiated) {
		return status.Error(codes.NotFound, channeldb.ErrPaymentNotInitiated.Error())
	}
	if err != nil {
		return s.toStatus(err)
	}
	defer sub.Close()
	for {
		p, err := sub.Next(ctx)
		if err != nil {
			return s.toStatus(err)
		}
		if created && !noInflight {
			created = false
			first := channeldb.Payment{Info: p.Info, SequenceNum: p.SequenceNum}
			if err := send(marshalPayment(&first)); err != nil {
				return err
			}
		}
		final := isFinal(p)
		if noInflight && !final {
			continue
		}
		if err := send(marshalPayment(p)); err != nil {
			return err
		}
		if final {
			return nil
		}
	}
}

// SendPaymentSync pays and answers with the outcome; as lnd's, a payment
// that fails is an answer with payment_error, not an error.
func (l *lightningService) SendPaymentSync(ctx context.Context, req *lnrpc.SendRequest) (*lnrpc.SendResponse, error) {
	pay, b, err := l.s.payments()
	if err != nil {
		return nil, err
	}
	amt, err := unmarshalAmt(req.Amt, req.AmtMsat)
	if err != nil {
		return nil, err
	}
	// lnd's deprecated hex fields, which old clients send.
	dest, hash := req.Dest, req.PaymentHash
	//lint:ignore SA1019 see above
	if len(dest) == 0 && req.DestString != "" {
		//lint:ignore SA1019 see above
		if dest, err = hex.DecodeString(req.DestString); err != nil {
			return nil, invalidf("dest_string: %v", err)
		}
	}
	//lint:ignore SA1019 see above
	if len(hash) == 0 && req.PaymentHashString != "" {
		//lint:ignore SA1019 see above
		if hash, err = hex.DecodeString(req.PaymentHashString); err != nil {
			return nil, invalidf("payment_hash_string: %v", err)
		}
	}
	t := payTerms{dest: dest, amt: amt, hash: hash, finalCLTV: req.FinalCltvDelta,
		payReq: req.PaymentRequest, cltvLimit: req.CltvLimit,
		records: req.DestCustomRecords, lastHop: req.LastHopPubkey, allowSelf: req.AllowSelfPayment,
		payAddr: req.PaymentAddr, timeout: sendPaymentSyncTimeout}
	if req.OutgoingChanId != 0 {
		t.outgoing = []uint64{req.OutgoingChanId}
	}
	preq, err := l.s.paymentRequest(ctx, b, t)
	if err != nil {
		return nil, err
	}
	// The fee limit follows the amount, which an invoice may set.
	if preq.FeeLimit, err = feeLimit(req.FeeLimit, preq.Amount); err != nil {
		return nil, err
	}
	if err := pay.SendPayment(preq); err != nil {
		if errors.Is(err, routing.ErrBadQuery) {
			return nil, l.s.toStatus(err)
		}
		return &lnrpc.SendResponse{PaymentError: err.Error(), PaymentHash: clone32(preq.PaymentHash)}, nil
	}
	var final *channeldb.Payment
	err = l.s.streamPayment(ctx, pay, preq.PaymentHash, true, false, func(*lnrpc.Payment) error { return nil })
	if err != nil {
		return nil, err
	}
	if final, err = pay.FetchPayment(preq.PaymentHash); err != nil {
		return nil, l.s.toStatus(err)
	}
	resp := &lnrpc.SendResponse{PaymentHash: clone32(preq.PaymentHash)}
	if final.Status() != channeldb.StatusSucceeded {
		resp.PaymentError = failureReasonText(final.FailureReason)
		return resp, nil
	}
	pre, _ := final.Preimage()
	resp.PaymentPreimage = clone32(pre)
	for i := range final.Attempts {
		if a := &final.Attempts[i]; a.Settle != nil {
			resp.PaymentRoute = marshalDBRoute(&a.Route)
			break
		}
	}
	return resp, nil
}

// failureReasonText is lnd's text for a failure reason in payment_error.
func failureReasonText(r *channeldb.FailureReason) string {
	if r == nil {
		return "payment failed"
	}
	switch *r {
	case channeldb.FailureReasonTimeout:
		return "timeout"
	case channeldb.FailureReasonNoRoute:
		return "no_route"
	case channeldb.FailureReasonError:
		return "error"
	case channeldb.FailureReasonPaymentDetails:
		return "incorrect_payment_details"
	case channeldb.FailureReasonInsufficientBalance:
		return "insufficient_balance"
	case channeldb.FailureReasonCanceled:
		return "canceled"
	}
	return "unknown"
}

// ListPayments pages through the payments sent, as lnd's.
func (l *lightningService) ListPayments(_ context.Context, req *lnrpc.ListPaymentsRequest) (*lnrpc.ListPaymentsResponse, error) {
	pay, _, err := l.s.payments()
	if err != nil {
		return nil, err
	}
	if req.CreationDateStart != 0 && req.CreationDateEnd != 0 && req.CreationDateStart >= req.CreationDateEnd {
		return nil, status.Errorf(codes.Unknown, "start date(%v) must be before end date(%v)",
			req.CreationDateStart, req.CreationDateEnd)
	}
	const maxDate = 1 << 40
	if req.CreationDateStart > maxDate || req.CreationDateEnd > maxDate {
		return nil, invalidf("creation date out of range")
	}
	q := channeldb.PaymentsQuery{
		IndexOffset: req.IndexOffset, MaxPayments: req.MaxPayments, Reversed: req.Reversed,
		IncludeIncomplete: req.IncludeIncomplete, CountTotal: req.CountTotalPayments,
		CreationDateStart: int64(req.CreationDateStart), CreationDateEnd: int64(req.CreationDateEnd),
	}
	if q.MaxPayments == 0 {
		q.MaxPayments = channeldb.DefaultMaxPayments
	}
	page, err := pay.QueryPayments(q)
	if err != nil {
		return nil, l.s.toStatus(err)
	}
	resp := &lnrpc.ListPaymentsResponse{
		Payments:         make([]*lnrpc.Payment, 0, len(page.Payments)),
		FirstIndexOffset: page.FirstIndexOffset,
		LastIndexOffset:  page.LastIndexOffset,
		TotalNumPayments: page.TotalCount,
	}
	for _, p := range page.Payments {
		mp := marshalPayment(p)
		if req.OmitHops {
			for _, h := range mp.Htlcs {
				h.Route.Hops = nil
			}
		}
		resp.Payments = append(resp.Payments, mp)
	}
	return resp, nil
}

// DeletePayment deletes one payment, or its failed HTLCs.
func (l *lightningService) DeletePayment(_ context.Context, req *lnrpc.DeletePaymentRequest) (*lnrpc.DeletePaymentResponse, error) {
	pay, _, err := l.s.payments()
	if err != nil {
		return nil, err
	}
	if len(req.PaymentHash) != 32 {
		return nil, invalidf("payment_hash must be 32 bytes, is %d", len(req.PaymentHash))
	}
	if err := pay.DeletePayment([32]byte(req.PaymentHash), req.FailedHtlcsOnly); err != nil {
		return nil, l.s.toStatus(err)
	}
	return &lnrpc.DeletePaymentResponse{Status: "payment deleted"}, nil
}

// DeleteAllPayments deletes payments as lnd's: one option must be set,
// all_payments with neither other.
func (l *lightningService) DeleteAllPayments(_ context.Context, req *lnrpc.DeleteAllPaymentsRequest) (*lnrpc.DeleteAllPaymentsResponse, error) {
	pay, _, err := l.s.payments()
	if err != nil {
		return nil, err
	}
	switch {
	case !req.AllPayments && !req.FailedPaymentsOnly && !req.FailedHtlcsOnly:
		return nil, invalidf("at least one of the options `all_payments`, `failed_payments_only`, " +
			"or `failed_htlcs_only` must be set to true")
	case req.AllPayments && (req.FailedPaymentsOnly || req.FailedHtlcsOnly):
		return nil, invalidf("`all_payments` cannot be set to true while either " +
			"`failed_payments_only` or `failed_htlcs_only` is also set to true")
	}
	n, err := pay.DeletePayments(req.FailedPaymentsOnly, req.FailedHtlcsOnly)
	if err != nil {
		return nil, l.s.toStatus(err)
	}
	return &lnrpc.DeleteAllPaymentsResponse{Status: formatDeleted(n, req.FailedHtlcsOnly)}, nil
}

func formatDeleted(n int, failedHTLCsOnly bool) string {
	return fmt.Sprintf("%d payments deleted, failed_htlcs_only=%v", n, failedHTLCsOnly)
}

// unmarshalRoute reads a caller's route (SendToRouteV2): amounts in msat,
// or sat for old clients; the final hop's MPP record and custom records.
func unmarshalRoute(r *lnrpc.Route, self routing.Vertex) (*routing.Route, routing.FinalHop, error) {
	var final routing.FinalHop
	if r == nil || len(r.Hops) == 0 {
		return nil, final, invalidf("route has no hops")
	}
	out := &routing.Route{SourcePubKey: self, TotalTimeLock: r.TotalTimeLock,
		TotalAmount: lnwire.MilliSatoshi(r.TotalAmtMsat)}
	//lint:ignore SA1019 old clients send sat
	if out.TotalAmount == 0 && r.TotalAmt > 0 {
		//lint:ignore SA1019 see above
		out.TotalAmount = lnwire.NewMSatFromSatoshis(btcutil.Amount(r.TotalAmt))
	}
	if r.TotalAmtMsat < 0 || out.TotalAmount == 0 || out.TotalAmount > lnwire.MaxMilliSatoshi {
		return nil, final, invalidf("route total amount out of range")
	}
	for i, h := range r.Hops {
		v, err := vertexArg("hops.pub_key", h.PubKey)
		if err != nil {
			return nil, final, err
		}
		amt := lnwire.MilliSatoshi(h.AmtToForwardMsat)
		//lint:ignore SA1019 see above
		if amt == 0 && h.AmtToForward > 0 {
			//lint:ignore SA1019 see above
			amt = lnwire.NewMSatFromSatoshis(btcutil.Amount(h.AmtToForward))
		}
		if h.AmtToForwardMsat < 0 || amt == 0 || amt > out.TotalAmount {
			return nil, final, invalidf("hop %d amount out of range", i)
		}
		switch {
		case h.AmpRecord != nil:
			return nil, final, invalidf("hop %d: AMP payments are not supported", i)
		case len(h.BlindingPoint) > 0 || len(h.EncryptedData) > 0 || h.TotalAmtMsat != 0:
			return nil, final, invalidf("hop %d: blinded routes are not supported", i)
		}
		out.Hops = append(out.Hops, routing.Hop{PubKey: v, ChannelID: lnwire.NewShortChanIDFromInt(h.ChanId),
			AmtToForward: amt, OutgoingTimeLock: h.Expiry})
		last := i == len(r.Hops)-1
		switch {
		case !last && (h.MppRecord != nil || len(h.CustomRecords) > 0):
			return nil, final, invalidf("hop %d: MPP and custom records are for the final hop", i)
		case last && h.MppRecord != nil:
			if len(h.MppRecord.PaymentAddr) != 32 || h.MppRecord.TotalAmtMsat <= 0 {
				return nil, final, invalidf("mpp_record needs a 32-byte payment_addr and a total")
			}
			final.MPP = &channeldb.MPPRecord{PaymentAddr: [32]byte(h.MppRecord.PaymentAddr),
				TotalMsat: lnwire.MilliSatoshi(h.MppRecord.TotalAmtMsat)}
		}
		if last && len(h.CustomRecords) > 0 {
			for typ := range h.CustomRecords {
				if typ < sphinx.MinCustomRecordType {
					return nil, final, invalidf("custom record type %d below 65536", typ)
				}
			}
			final.CustomRecords = h.CustomRecords
		}
	}
	return out, final, nil
}

// marshalDBRoute is a stored route as lnrpc.Route: marshalRoute's
// fields, with each hop's custom records and MPP record.
func marshalDBRoute(r *channeldb.PaymentRoute) *lnrpc.Route {
	out := marshalRoute(nil, routing.RouteFromDB(r))
	// lnd sets it on every route it sends: the HTLC's amount, which only
	// custom channels make differ from the route's total.
	out.FirstHopAmountMsat = out.TotalAmtMsat
	for i, h := range r.Hops {
		hop := out.Hops[i]
		hop.CustomRecords = h.CustomRecords
		if h.MPP != nil {
			hop.MppRecord = &lnrpc.MPPRecord{PaymentAddr: clone32(h.MPP.PaymentAddr),
				TotalAmtMsat: int64(h.MPP.TotalMsat)}
		}
	}
	return out
}

// marshalPayment is a stored payment as lnd's Payment.
func marshalPayment(p *channeldb.Payment) *lnrpc.Payment {
	var fee lnwire.MilliSatoshi
	var pre [32]byte
	htlcs := make([]*lnrpc.HTLCAttempt, 0, len(p.Attempts))
	for i := range p.Attempts {
		a := &p.Attempts[i]
		if a.Settle != nil {
			pre = a.Settle.Preimage
			fee += a.Route.TotalAmount - a.Route.ReceiverAmt()
		}
		htlcs = append(htlcs, marshalAttempt(a))
	}
	out := &lnrpc.Payment{
		PaymentHash:     hex.EncodeToString(p.Info.PaymentHash[:]),
		ValueSat:        int64(p.Info.Value.ToSatoshis()),
		ValueMsat:       int64(p.Info.Value),
		PaymentPreimage: hex.EncodeToString(pre[:]),
		PaymentRequest:  p.Info.PaymentRequest,
		Status:          paymentStatus(p.Status()),
		FeeSat:          int64(fee.ToSatoshis()),
		FeeMsat:         int64(fee),
		CreationTimeNs:  timeNano(p.Info.CreationTime),
		Htlcs:           htlcs,
		PaymentIndex:    p.SequenceNum,
	}
	//lint:ignore SA1019 lnd still fills the deprecated fields
	out.Value = out.ValueSat
	//lint:ignore SA1019 see above
	out.CreationDate = p.Info.CreationTime.Unix()
	//lint:ignore SA1019 see above
	out.Fee = out.FeeSat
	if p.FailureReason != nil {
		out.FailureReason = lnrpc.PaymentFailureReason(*p.FailureReason)
	}
	return out
}

// paymentStatus is lnd's reading of a status: a payment with no attempt
// yet is IN_FLIGHT (lnd reports INITIATED only with
// --routerrpc.usestatusinitiated, off by default, and apps know the four
// older values).
func paymentStatus(s channeldb.PaymentStatus) lnrpc.Payment_PaymentStatus {
	if s == channeldb.StatusInitiated {
		return lnrpc.Payment_IN_FLIGHT
	}
	return lnrpc.Payment_PaymentStatus(s)
}

func timeNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// marshalAttempt is a stored attempt as lnd's HTLCAttempt.
func marshalAttempt(a *channeldb.HTLCAttempt) *lnrpc.HTLCAttempt {
	out := &lnrpc.HTLCAttempt{
		AttemptId:     a.AttemptID,
		Status:        lnrpc.HTLCAttempt_IN_FLIGHT,
		Route:         marshalDBRoute(&a.Route),
		AttemptTimeNs: timeNano(a.AttemptTime),
	}
	switch {
	case a.Settle != nil:
		out.Status = lnrpc.HTLCAttempt_SUCCEEDED
		out.ResolveTimeNs = timeNano(a.Settle.SettleTime)
		out.Preimage = clone32(a.Settle.Preimage)
	case a.Failure != nil:
		out.Status = lnrpc.HTLCAttempt_FAILED
		out.ResolveTimeNs = timeNano(a.Failure.FailTime)
		out.Failure = marshalFailure(a.Failure)
	}
	return out
}

// marshalFailure is lnd's reading of a failed attempt's failure.
func marshalFailure(f *channeldb.HTLCFailure) *lnrpc.Failure {
	out := &lnrpc.Failure{FailureSourceIndex: f.SourceIndex}
	switch f.Reason {
	case channeldb.HTLCFailUnreadable:
		out.Code = lnrpc.Failure_UNREADABLE_FAILURE
		return out
	case channeldb.HTLCFailInternal:
		out.Code = lnrpc.Failure_INTERNAL_FAILURE
		return out
	case channeldb.HTLCFailUnknown:
		out.Code = lnrpc.Failure_UNKNOWN_FAILURE
		return out
	}
	msg, err := sphinx.DecodeFailureMessage(f.Message)
	if err != nil {
		out.Code = lnrpc.Failure_UNKNOWN_FAILURE
		return out
	}
	fillFailure(out, msg)
	return out
}
