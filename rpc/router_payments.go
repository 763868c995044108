package rpc

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"google.golang.org/grpc/metadata"

	"lnd.xprv/lnwire"
	"lnd.xprv/routing"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/routerrpc"
	"lnd.xprv/sphinx"
)

// SendPaymentV2 pays and streams the payment's states, as lnd's.
func (r *routerService) SendPaymentV2(req *routerrpc.SendPaymentRequest, stream routerrpc.Router_SendPaymentV2Server) error {
	ctx := stream.Context()
	pay, b, err := r.s.payments()
	if err != nil {
		return err
	}
	if req.Amp {
		return invalidf("AMP payments are not supported")
	}
	if req.TimeoutSeconds <= 0 {
		return invalidf("timeout_seconds must be specified")
	}
	amt, err := unmarshalAmt(req.Amt, req.AmtMsat)
	if err != nil {
		return err
	}
	fee, err := unmarshalAmt(req.FeeLimitSat, req.FeeLimitMsat)
	if err != nil {
		return err
	}
	if req.CltvLimit < 0 {
		return invalidf("cltv_limit must not be negative")
	}
	t := payTerms{dest: req.Dest, amt: amt, hash: req.PaymentHash, finalCLTV: req.FinalCltvDelta,
		payReq: req.PaymentRequest, feeLimit: fee, cltvLimit: uint32(req.CltvLimit),
		hints: req.RouteHints, records: req.DestCustomRecords, lastHop: req.LastHopPubkey,
		allowSelf: req.AllowSelfPayment, maxParts: req.MaxParts, outgoing: req.OutgoingChanIds,
		payAddr: req.PaymentAddr, maxShard: req.MaxShardSizeMsat, timePref: req.TimePref,
		timeout: time.Duration(req.TimeoutSeconds) * time.Second, defaultToParts: true}
	preq, err := r.s.paymentRequest(ctx, b, t)
	if err != nil {
		return err
	}
	if err := pay.SendPayment(preq); err != nil {
		return r.s.toStatus(err)
	}
	return r.s.streamPayment(ctx, pay, preq.PaymentHash, req.NoInflightUpdates, true, stream.Send)
}

// TrackPaymentV2 streams a payment's states, the current one first.
func (r *routerService) TrackPaymentV2(req *routerrpc.TrackPaymentRequest, stream routerrpc.Router_TrackPaymentV2Server) error {
	pay, _, err := r.s.payments()
	if err != nil {
		return err
	}
	if len(req.PaymentHash) != 32 {
		return invalidf("payment_hash must be 32 bytes, is %d", len(req.PaymentHash))
	}
	return r.s.streamPayment(stream.Context(), pay, [32]byte(req.PaymentHash), req.NoInflightUpdates, false, stream.Send)
}

// TrackPayments streams the states of every payment from now on.
func (r *routerService) TrackPayments(req *routerrpc.TrackPaymentsRequest, stream routerrpc.Router_TrackPaymentsServer) error {
	pay, _, err := r.s.payments()
	if err != nil {
		return err
	}
	sub := pay.SubscribeAll()
	defer sub.Close()
	// Headers now tell the client the subscription is in place (a
	// payment started after Header returns is seen).
	if err := stream.SendHeader(metadata.MD{}); err != nil {
		return err
	}
	for {
		p, err := sub.Next(stream.Context())
		if err != nil {
			return r.s.toStatus(err)
		}
		if req.NoInflightUpdates && !isFinal(p) {
			continue
		}
		if err := stream.Send(marshalPayment(p)); err != nil {
			return err
		}
	}
}

// SendToRouteV2 sends one HTLC over the caller's route and answers with
// the attempt, failed or settled.
func (r *routerService) SendToRouteV2(ctx context.Context, req *routerrpc.SendToRouteRequest) (*lnrpc.HTLCAttempt, error) {
	pay, b, err := r.s.payments()
	if err != nil {
		return nil, err
	}
	if len(req.PaymentHash) != 32 {
		return nil, invalidf("payment_hash must be 32 bytes, is %d", len(req.PaymentHash))
	}
	self, err := b.Info.IdentityKey(ctx)
	if err != nil {
		return nil, r.s.toStatus(err)
	}
	rt, final, err := unmarshalRoute(req.Route, routing.Vertex(self.SerializeCompressed()))
	if err != nil {
		return nil, err
	}
	a, err := pay.SendToRoute(ctx, [32]byte(req.PaymentHash), rt, final, req.SkipTempErr)
	if err != nil {
		return nil, r.s.toStatus(err)
	}
	return marshalAttempt(a), nil
}

// BuildRoute builds a route through the given nodes, as lnd's.
func (r *routerService) BuildRoute(ctx context.Context, req *routerrpc.BuildRouteRequest) (*routerrpc.BuildRouteResponse, error) {
	pay, _, err := r.s.payments()
	if err != nil {
		return nil, err
	}
	if req.AmtMsat < 0 || req.AmtMsat > int64(lnwire.MaxMilliSatoshi) {
		return nil, invalidf("amt_msat out of range")
	}
	amt := lnwire.MilliSatoshi(req.AmtMsat)
	if amt == 0 {
		// lnd's "minimum routable amount": a 1 sat HTLC.
		amt = 1000
	}
	cltv := req.FinalCltvDelta
	if cltv == 0 {
		cltv = defaultFinalCLTVDelta
	}
	if cltv < 0 || cltv > 0xffff {
		return nil, invalidf("final_cltv_delta %d out of range", cltv)
	}
	var outgoing *lnwire.ShortChannelID
	if req.OutgoingChanId != 0 {
		id := lnwire.NewShortChanIDFromInt(req.OutgoingChanId)
		outgoing = &id
	}
	var hops []routing.Vertex
	for _, h := range req.HopPubkeys {
		v, err := vertexBytes("hop_pubkeys", h)
		if err != nil {
			return nil, err
		}
		hops = append(hops, v)
	}
	if len(req.PaymentAddr) != 0 && len(req.PaymentAddr) != 32 {
		return nil, invalidf("payment_addr must be 32 bytes")
	}
	rt, err := pay.BuildRoute(amt, uint16(cltv), outgoing, hops)
	if err != nil {
		return nil, r.s.toStatus(err)
	}
	out := marshalRoute(nil, rt)
	if len(req.PaymentAddr) == 32 {
		out.Hops[len(out.Hops)-1].MppRecord = &lnrpc.MPPRecord{
			PaymentAddr: bytes.Clone(req.PaymentAddr), TotalAmtMsat: int64(amt)}
	}
	return &routerrpc.BuildRouteResponse{Route: out}, nil
}

// EstimateRouteFee gives the fee and time lock of the route a payment
// would take first: to dest for amt_sat, or for a payment request (its
// destination, amount and hints; xlnd does not probe).
func (r *routerService) EstimateRouteFee(ctx context.Context, req *routerrpc.RouteFeeRequest) (*routerrpc.RouteFeeResponse, error) {
	pay, b, err := r.s.payments()
	if err != nil {
		return nil, err
	}
	var preq *routing.PaymentRequest
	switch {
	case len(req.Dest) > 0 && req.PaymentRequest != "":
		return nil, invalidf("dest and payment_request cannot appear together")
	case len(req.Dest) > 0:
		if req.AmtSat <= 0 || req.AmtSat > int64(btcutil.MaxSatoshi) {
			return nil, invalidf("amount must be greater than 0")
		}
		amt := lnwire.NewMSatFromSatoshis(btcutil.Amount(req.AmtSat))
		t := payTerms{dest: req.Dest, amt: amt, hash: make([]byte, 32), outgoing: req.OutgoingChanIds}
		if preq, err = r.s.paymentRequest(ctx, b, t); err != nil {
			return nil, err
		}
	case req.PaymentRequest != "":
		t := payTerms{payReq: req.PaymentRequest, outgoing: req.OutgoingChanIds}
		if preq, err = r.s.paymentRequest(ctx, b, t); err != nil {
			return nil, err
		}
	default:
		return nil, invalidf("either dest or payment_request must be set")
	}
	// The fee limit of an estimate is lnd's default for the amount.
	if preq.FeeLimit, err = feeLimit(nil, preq.Amount); err != nil {
		return nil, err
	}
	tip, err := b.Chain.BestBlock(ctx)
	if err != nil {
		return nil, r.s.toStatus(err)
	}
	rt, err := pay.FindRoute(preq)
	if errors.Is(err, routing.ErrNoPath) {
		return &routerrpc.RouteFeeResponse{FailureReason: lnrpc.PaymentFailureReason_FAILURE_REASON_NO_ROUTE}, nil
	}
	if err != nil {
		return nil, r.s.toStatus(err)
	}
	return &routerrpc.RouteFeeResponse{
		RoutingFeeMsat: int64(rt.TotalFees()),
		TimeLockDelay:  int64(rt.TotalTimeLock) - int64(tip.Height),
	}, nil
}

// failureCodes maps BOLT 4 codes to lnrpc's Failure codes.
var failureCodes = map[sphinx.FailCode]lnrpc.Failure_FailureCode{
	sphinx.CodeIncorrectOrUnknownPaymentDetails: lnrpc.Failure_INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS,
	sphinx.CodeIncorrectPaymentAmount:           lnrpc.Failure_INCORRECT_PAYMENT_AMOUNT,
	sphinx.CodeFinalIncorrectCltvExpiry:         lnrpc.Failure_FINAL_INCORRECT_CLTV_EXPIRY,
	sphinx.CodeFinalIncorrectHtlcAmount:         lnrpc.Failure_FINAL_INCORRECT_HTLC_AMOUNT,
	sphinx.CodeFinalExpiryTooSoon:               lnrpc.Failure_FINAL_EXPIRY_TOO_SOON,
	sphinx.CodeExpiryTooSoon:                    lnrpc.Failure_EXPIRY_TOO_SOON,
	sphinx.CodeInvalidOnionVersion:              lnrpc.Failure_INVALID_ONION_VERSION,
	sphinx.CodeInvalidOnionHMAC:                 lnrpc.Failure_INVALID_ONION_HMAC,
	sphinx.CodeInvalidOnionKey:                  lnrpc.Failure_INVALID_ONION_KEY,
	sphinx.CodeAmountBelowMinimum:               lnrpc.Failure_AMOUNT_BELOW_MINIMUM,
	sphinx.CodeFeeInsufficient:                  lnrpc.Failure_FEE_INSUFFICIENT,
	sphinx.CodeIncorrectCltvExpiry:              lnrpc.Failure_INCORRECT_CLTV_EXPIRY,
	sphinx.CodeChannelDisabled:                  lnrpc.Failure_CHANNEL_DISABLED,
	sphinx.CodeTemporaryChannelFailure:          lnrpc.Failure_TEMPORARY_CHANNEL_FAILURE,
	sphinx.CodeRequiredNodeFeatureMissing:       lnrpc.Failure_REQUIRED_NODE_FEATURE_MISSING,
	sphinx.CodeRequiredChannelFeatureMissing:    lnrpc.Failure_REQUIRED_CHANNEL_FEATURE_MISSING,
	sphinx.CodeUnknownNextPeer:                  lnrpc.Failure_UNKNOWN_NEXT_PEER,
	sphinx.CodeTemporaryNodeFailure:             lnrpc.Failure_TEMPORARY_NODE_FAILURE,
	sphinx.CodePermanentNodeFailure:             lnrpc.Failure_PERMANENT_NODE_FAILURE,
	sphinx.CodePermanentChannelFailure:          lnrpc.Failure_PERMANENT_CHANNEL_FAILURE,
	sphinx.CodeExpiryTooFar:                     lnrpc.Failure_EXPIRY_TOO_FAR,
	sphinx.CodeMPPTimeout:                       lnrpc.Failure_MPP_TIMEOUT,
	sphinx.CodeInvalidOnionPayload:              lnrpc.Failure_INVALID_ONION_PAYLOAD,
	sphinx.CodeInvalidOnionBlinding:             lnrpc.Failure_INVALID_ONION_BLINDING,
}

// fillFailure sets out's code and the data msg carries.
func fillFailure(out *lnrpc.Failure, msg sphinx.FailureMessage) {
	code, ok := failureCodes[msg.Code()]
	if !ok {
		code = lnrpc.Failure_UNKNOWN_FAILURE
	}
	out.Code = code
	switch m := msg.(type) {
	case *sphinx.FailIncorrectOrUnknownPaymentDetails:
		out.HtlcMsat, out.Height = m.HtlcMsat, m.Height
	case *sphinx.FailFinalIncorrectCltvExpiry:
		out.CltvExpiry = m.CltvExpiry
	case *sphinx.FailFinalIncorrectHtlcAmount:
		out.HtlcMsat = m.IncomingHtlcAmt
	case *sphinx.FailInvalidOnionVersion:
		out.OnionSha_256 = bytes.Clone(m.OnionSHA256[:])
	case *sphinx.FailInvalidOnionHMAC:
		out.OnionSha_256 = bytes.Clone(m.OnionSHA256[:])
	case *sphinx.FailInvalidOnionKey:
		out.OnionSha_256 = bytes.Clone(m.OnionSHA256[:])
	case *sphinx.FailAmountBelowMinimum:
		out.HtlcMsat = m.HtlcMsat
	case *sphinx.FailFeeInsufficient:
		out.HtlcMsat = m.HtlcMsat
	case *sphinx.FailIncorrectCltvExpiry:
		out.CltvExpiry = m.CltvExpiry
	case *sphinx.FailChannelDisabled:
		out.Flags = uint32(m.DisabledFlags)
	}
	if uc, ok := msg.(sphinx.UpdateCarrier); ok && len(uc.Update()) > 0 {
		var u lnwire.ChannelUpdate
		if u.Decode(bytes.NewReader(sphinx.StripChannelUpdateType(uc.Update()))) == nil {
			out.ChannelUpdate = marshalChannelUpdate(&u)
		}
	}
}

func marshalChannelUpdate(u *lnwire.ChannelUpdate) *lnrpc.ChannelUpdate {
	return &lnrpc.ChannelUpdate{
		Signature:       bytes.Clone(u.Signature[:]),
		ChainHash:       bytes.Clone(u.ChainHash[:]),
		ChanId:          u.ShortChannelID.ToUint64(),
		Timestamp:       u.Timestamp,
		MessageFlags:    uint32(u.MessageFlags),
		ChannelFlags:    uint32(u.ChannelFlags),
		TimeLockDelta:   uint32(u.TimeLockDelta),
		HtlcMinimumMsat: uint64(u.HtlcMinimumMsat),
		BaseFee:         u.BaseFee,
		FeeRate:         u.FeeRate,
		HtlcMaximumMsat: uint64(u.HtlcMaximumMsat),
		ExtraOpaqueData: u.ExtraTLV.Encode(),
	}
}
