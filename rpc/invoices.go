package rpc

import (
	"context"
	"encoding/hex"
	"strings"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"lnd.xprv/channeldb"
	"lnd.xprv/invoices"
	"lnd.xprv/invoices/bolt11"
	"lnd.xprv/lnwire"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/invoicesrpc"
)

// Invoices is the invoice registry as the RPC layer uses it;
// *invoices.Registry has these methods.
type Invoices interface {
	AddInvoice(ctx context.Context, n invoices.NewInvoice) (*channeldb.Invoice, error)
	AddHoldInvoice(ctx context.Context, hash [32]byte, n invoices.NewInvoice) (*channeldb.Invoice, error)
	LookupInvoice(ctx context.Context, hash [32]byte) (*channeldb.Invoice, error)
	LookupInvoiceByAddr(ctx context.Context, addr [32]byte) (*channeldb.Invoice, error)
	ListInvoices(ctx context.Context, q channeldb.InvoiceQuery) (*channeldb.InvoicePage, error)
	SubscribeInvoices(ctx context.Context, addIndex, settleIndex uint64) (*invoices.Subscription, error)
	SubscribeSingleInvoice(ctx context.Context, hash [32]byte) (*invoices.Subscription, error)
	SettleInvoice(ctx context.Context, preimage [32]byte) error
	CancelInvoice(ctx context.Context, hash [32]byte) error
}

func (s *Server) registry() (Invoices, error) {
	b := s.backend.Load()
	if b == nil {
		return nil, status.Error(codes.Unavailable, msgRPCStarting)
	}
	if b.Invoices == nil {
		return nil, status.Error(codes.Unavailable, "invoice registry not active")
	}
	return b.Invoices, nil
}

// unmarshalAmt is lnd's: value and value_msat are exclusive, neither
// negative.
func unmarshalAmt(sat, msat int64) (lnwire.MilliSatoshi, error) {
	switch {
	case sat != 0 && msat != 0:
		return 0, invalidf("sat and msat arguments are mutually exclusive")
	case sat < 0 || msat < 0:
		return 0, invalidf("amount cannot be negative")
	case sat != 0:
		if sat > int64(btcutil.MaxSatoshi) {
			return 0, invalidf("amount of %d sat exceeds 21M BTC", sat)
		}
		return lnwire.MilliSatoshi(sat) * 1000, nil
	}
	return lnwire.MilliSatoshi(msat), nil
}

// invoiceTerms is what AddInvoice and AddHoldInvoice share.
type invoiceTerms struct {
	memo       string
	sat, msat  int64
	descHash   []byte
	expiry     int64
	fallback   string
	cltvExpiry uint64
	routeHints []*lnrpc.RouteHint
	private    bool
}

func (s *Server) newInvoice(t invoiceTerms) (invoices.NewInvoice, error) {
	var n invoices.NewInvoice
	amt, err := unmarshalAmt(t.sat, t.msat)
	if err != nil {
		return n, err
	}
	n.Memo, n.Value, n.Private = t.memo, amt, t.private
	if len(t.descHash) > 0 {
		if len(t.descHash) != 32 {
			return n, invalidf("description hash is %d bytes, must be 32", len(t.descHash))
		}
		h := [32]byte(t.descHash)
		n.DescriptionHash = &h
	}
	if t.expiry < 0 {
		return n, invalidf("expiry must be positive")
	}
	if t.expiry > int64(invoices.MaxExpiry.Seconds()) {
		return n, invalidf("expiry of %d seconds greater than max invoice expiry of %d seconds",
			t.expiry, int64(invoices.MaxExpiry.Seconds()))
	}
	n.Expiry = time.Duration(t.expiry) * time.Second
	if t.cltvExpiry > 1<<16-1 {
		return n, invalidf("CLTV delta of %d is too large, max accepted is %d", t.cltvExpiry, 1<<16-1)
	}
	n.CltvDelta = uint32(t.cltvExpiry)
	if t.fallback != "" {
		addr, err := btcutil.DecodeAddress(t.fallback, s.cfg.Network.Params)
		if err != nil || !addr.IsForNet(s.cfg.Network.Params) {
			return n, invalidf("invalid fallback address: %s", t.fallback)
		}
		n.Fallback = addr
	}
	for _, rh := range t.routeHints {
		hint, err := unmarshalRouteHint(rh)
		if err != nil {
			return n, err
		}
		n.RouteHints = append(n.RouteHints, hint)
	}
	return n, nil
}

func unmarshalRouteHint(rh *lnrpc.RouteHint) (bolt11.RouteHint, error) {
	var out bolt11.RouteHint
	if len(rh.GetHopHints()) == 0 {
		return nil, invalidf("route hint without hops")
	}
	for _, h := range rh.GetHopHints() {
		key, err := parsePubKey("node_id", h.NodeId)
		if err != nil {
			return nil, err
		}
		if h.CltvExpiryDelta > 1<<16-1 {
			return nil, invalidf("hop hint cltv_expiry_delta %d too large", h.CltvExpiryDelta)
		}
		out = append(out, bolt11.HopHint{NodeID: key, ChannelID: bolt11.ShortChannelID(h.ChanId),
			FeeBaseMSat: h.FeeBaseMsat, FeeProportionalMillionths: h.FeeProportionalMillionths,
			CLTVExpiryDelta: uint16(h.CltvExpiryDelta)})
	}
	return out, nil
}

func (l *lightningService) AddInvoice(ctx context.Context, req *lnrpc.Invoice) (*lnrpc.AddInvoiceResponse, error) {
	reg, err := l.s.registry()
	if err != nil {
		return nil, err
	}
	if req.IsAmp {
		return nil, invalidf("AMP invoices are not supported")
	}
	n, err := l.s.newInvoice(invoiceTerms{memo: req.Memo, sat: req.Value, msat: req.ValueMsat,
		descHash: req.DescriptionHash, expiry: req.Expiry, fallback: req.FallbackAddr,
		cltvExpiry: req.CltvExpiry, routeHints: req.RouteHints, private: req.Private})
	if err != nil {
		return nil, err
	}
	if len(req.RPreimage) > 0 {
		if len(req.RPreimage) != 32 {
			return nil, invalidf("payment preimage must be exactly 32 bytes, is %d", len(req.RPreimage))
		}
		p := [32]byte(req.RPreimage)
		n.Preimage = &p
	}
	inv, err := reg.AddInvoice(ctx, n)
	if err != nil {
		return nil, l.s.toStatus(err)
	}
	return &lnrpc.AddInvoiceResponse{RHash: inv.PaymentHash[:], PaymentRequest: inv.PaymentRequest,
		AddIndex: inv.AddIndex, PaymentAddr: inv.PaymentAddr[:]}, nil
}

// parseHash reads a payment hash given as bytes or, as lnd's deprecated
// r_hash_str, hex.
func parseHash(raw []byte, hexStr string) ([32]byte, error) {
	if len(raw) == 0 && hexStr != "" {
		b, err := hex.DecodeString(hexStr)
		if err != nil {
			return [32]byte{}, invalidf("unable to decode payment hash: %v", err)
		}
		raw = b
	}
	if len(raw) != 32 {
		return [32]byte{}, invalidf("payment hash must be exactly 32 bytes, is %d", len(raw))
	}
	return [32]byte(raw), nil
}

func (l *lightningService) LookupInvoice(ctx context.Context, req *lnrpc.PaymentHash) (*lnrpc.Invoice, error) {
	reg, err := l.s.registry()
	if err != nil {
		return nil, err
	}
	//lint:ignore SA1019 lnd's REST path carries the hash in r_hash_str.
	hash, err := parseHash(req.RHash, req.RHashStr)
	if err != nil {
		return nil, err
	}
	inv, err := reg.LookupInvoice(ctx, hash)
	if err != nil {
		return nil, l.s.toStatus(err)
	}
	return l.s.marshalInvoice(inv)
}

func (l *lightningService) ListInvoices(ctx context.Context, req *lnrpc.ListInvoiceRequest) (*lnrpc.ListInvoiceResponse, error) {
	reg, err := l.s.registry()
	if err != nil {
		return nil, err
	}
	if req.CreationDateStart != 0 || req.CreationDateEnd != 0 {
		return nil, status.Error(codes.Unimplemented, "creation date filters are not supported")
	}
	num := req.NumMaxInvoices
	if num == 0 {
		num = 100 // lnd's default page
	}
	page, err := reg.ListInvoices(ctx, channeldb.InvoiceQuery{IndexOffset: req.IndexOffset,
		NumMax: num, Reversed: req.Reversed, PendingOnly: req.PendingOnly})
	if err != nil {
		return nil, l.s.toStatus(err)
	}
	resp := &lnrpc.ListInvoiceResponse{Invoices: []*lnrpc.Invoice{},
		FirstIndexOffset: page.FirstIndexOffset, LastIndexOffset: page.LastIndexOffset}
	for _, inv := range page.Invoices {
		ri, err := l.s.marshalInvoice(inv)
		if err != nil {
			return nil, err
		}
		resp.Invoices = append(resp.Invoices, ri)
	}
	return resp, nil
}

func (l *lightningService) SubscribeInvoices(req *lnrpc.InvoiceSubscription, stream lnrpc.Lightning_SubscribeInvoicesServer) error {
	reg, err := l.s.registry()
	if err != nil {
		return err
	}
	sub, err := reg.SubscribeInvoices(stream.Context(), req.AddIndex, req.SettleIndex)
	if err != nil {
		return l.s.toStatus(err)
	}
	return l.s.streamInvoices(stream.Context(), sub, stream.Send)
}

// streamInvoices sends a subscription's updates until the client leaves
// or the registry ends it.
func (s *Server) streamInvoices(ctx context.Context, sub *invoices.Subscription, send func(*lnrpc.Invoice) error) error {
	defer sub.Cancel()
	for {
		select {
		case inv, ok := <-sub.Updates:
			if !ok {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return status.Error(codes.Unavailable, "invoice registry shutting down")
			}
			ri, err := s.marshalInvoice(inv)
			if err != nil {
				return err
			}
			if err := send(ri); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (l *lightningService) DecodePayReq(ctx context.Context, req *lnrpc.PayReqString) (*lnrpc.PayReq, error) {
	if _, err := l.node(); err != nil {
		return nil, err
	}
	s := strings.TrimPrefix(strings.TrimSpace(req.PayReq), "lightning:")
	inv, err := bolt11.Decode(strings.ToLower(s), l.s.cfg.Network.Params)
	if err != nil {
		return nil, invalidf("%v", err)
	}
	return marshalPayReq(inv), nil
}

func marshalPayReq(inv *bolt11.Invoice) *lnrpc.PayReq {
	hash := inv.PaymentHash()
	secret := inv.PaymentSecret()
	resp := &lnrpc.PayReq{
		Destination: hex.EncodeToString(inv.Payee().SerializeCompressed()),
		PaymentHash: hex.EncodeToString(hash[:]),
		NumSatoshis: int64(inv.Amount / 1000),
		NumMsat:     int64(inv.Amount),
		Timestamp:   inv.Timestamp.Unix(),
		Expiry:      int64(inv.ExpirySeconds()),
		CltvExpiry:  int64(inv.MinFinalCLTVExpiryDelta()),
		PaymentAddr: secret[:],
		RouteHints:  marshalRouteHints(inv.RouteHints()),
		Features:    invoiceFeatures(inv.Features()),
	}
	if d, ok := inv.Description(); ok {
		resp.Description = d
	}
	if h, ok := inv.DescriptionHash(); ok {
		resp.DescriptionHash = hex.EncodeToString(h[:])
	}
	if fb := inv.Fallbacks(); len(fb) > 0 {
		resp.FallbackAddr = fb[0].String()
	}
	return resp
}

func marshalRouteHints(hints []bolt11.RouteHint) []*lnrpc.RouteHint {
	out := []*lnrpc.RouteHint{}
	for _, h := range hints {
		rh := &lnrpc.RouteHint{}
		for _, hop := range h {
			rh.HopHints = append(rh.HopHints, &lnrpc.HopHint{
				NodeId:                    hex.EncodeToString(hop.NodeID.SerializeCompressed()),
				ChanId:                    uint64(hop.ChannelID),
				FeeBaseMsat:               hop.FeeBaseMSat,
				FeeProportionalMillionths: hop.FeeProportionalMillionths,
				CltvExpiryDelta:           uint32(hop.CLTVExpiryDelta),
			})
		}
		out = append(out, rh)
	}
	return out
}

// invoiceFeatures names an invoice's feature bits as lnd does.
func invoiceFeatures(f bolt11.Features) map[uint32]*lnrpc.Feature {
	m := map[uint32]*lnrpc.Feature{}
	for _, b := range f.Bits() {
		name := FeatureName(uint32(b), "unknown")
		m[uint32(b)] = &lnrpc.Feature{Name: name, IsRequired: b%2 == 0, IsKnown: name != "unknown"}
	}
	return m
}

// marshalInvoice is lnd's Invoice message for a stored invoice; the
// request's fields (description hash, fallback, hints, features) come
// from its payment request.
func (s *Server) marshalInvoice(inv *channeldb.Invoice) (*lnrpc.Invoice, error) {
	ri := &lnrpc.Invoice{
		Memo:           inv.Memo,
		RHash:          clone32(inv.PaymentHash),
		Value:          int64(inv.Value / 1000),
		ValueMsat:      int64(inv.Value),
		CreationDate:   inv.CreationDate.Unix(),
		PaymentRequest: inv.PaymentRequest,
		Expiry:         int64(inv.Expiry.Seconds()),
		CltvExpiry:     uint64(inv.CltvDelta),
		Private:        inv.Private,
		AddIndex:       inv.AddIndex,
		SettleIndex:    inv.SettleIndex,
		AmtPaidSat:     int64(inv.AmtPaid / 1000),
		AmtPaidMsat:    int64(inv.AmtPaid),
		State:          lnrpc.Invoice_InvoiceState(inv.State),
		Htlcs:          []*lnrpc.InvoiceHTLC{},
		Features:       map[uint32]*lnrpc.Feature{},
		RouteHints:     []*lnrpc.RouteHint{},
		IsKeysend:      inv.IsKeysend,
		IsAmp:          inv.IsAMP,
		PaymentAddr:    clone32(inv.PaymentAddr),
	}
	//lint:ignore SA1019 deprecated in lnd, still read by apps.
	ri.Settled, ri.AmtPaid = inv.State == channeldb.InvoiceSettled, int64(inv.AmtPaid)
	if inv.Preimage != nil {
		ri.RPreimage = clone32(*inv.Preimage)
	}
	if !inv.SettleDate.IsZero() {
		ri.SettleDate = inv.SettleDate.Unix()
	}
	if inv.PaymentRequest != "" {
		dec, err := bolt11.Decode(inv.PaymentRequest, s.cfg.Network.Params)
		if err != nil {
			return nil, status.Errorf(codes.Internal, "stored payment request of %x: %v", inv.PaymentHash, err)
		}
		if h, ok := dec.DescriptionHash(); ok {
			ri.DescriptionHash = h[:]
		}
		if fb := dec.Fallbacks(); len(fb) > 0 {
			ri.FallbackAddr = fb[0].String()
		}
		ri.RouteHints = marshalRouteHints(dec.RouteHints())
		ri.Features = invoiceFeatures(dec.Features())
	}
	for _, h := range inv.HTLCs {
		rh := &lnrpc.InvoiceHTLC{
			ChanId:          h.Circuit.ChanID.ToUint64(),
			HtlcIndex:       h.Circuit.HtlcID,
			AmtMsat:         uint64(h.Amount),
			AcceptHeight:    int32(h.AcceptHeight),
			AcceptTime:      h.AcceptTime.Unix(),
			ExpiryHeight:    int32(h.Expiry),
			State:           lnrpc.InvoiceHTLCState(h.State),
			CustomRecords:   h.CustomRecords,
			MppTotalAmtMsat: uint64(h.MPPTotal),
		}
		if !h.ResolveTime.IsZero() {
			rh.ResolveTime = h.ResolveTime.Unix()
		}
		ri.Htlcs = append(ri.Htlcs, rh)
	}
	return ri, nil
}

func clone32(b [32]byte) []byte { return append([]byte(nil), b[:]...) }

// invoicesService implements the Invoices sub-server.
type invoicesService struct {
	invoicesrpc.UnimplementedInvoicesServer
	s *Server
}

func (v *invoicesService) AddHoldInvoice(ctx context.Context, req *invoicesrpc.AddHoldInvoiceRequest) (*invoicesrpc.AddHoldInvoiceResp, error) {
	reg, err := v.s.registry()
	if err != nil {
		return nil, err
	}
	if len(req.Hash) != 32 {
		return nil, invalidf("hash must be exactly 32 bytes, is %d", len(req.Hash))
	}
	n, err := v.s.newInvoice(invoiceTerms{memo: req.Memo, sat: req.Value, msat: req.ValueMsat,
		descHash: req.DescriptionHash, expiry: req.Expiry, fallback: req.FallbackAddr,
		cltvExpiry: req.CltvExpiry, routeHints: req.RouteHints, private: req.Private})
	if err != nil {
		return nil, err
	}
	inv, err := reg.AddHoldInvoice(ctx, [32]byte(req.Hash), n)
	if err != nil {
		return nil, v.s.toStatus(err)
	}
	return &invoicesrpc.AddHoldInvoiceResp{PaymentRequest: inv.PaymentRequest, AddIndex: inv.AddIndex,
		PaymentAddr: inv.PaymentAddr[:]}, nil
}

func (v *invoicesService) SettleInvoice(ctx context.Context, req *invoicesrpc.SettleInvoiceMsg) (*invoicesrpc.SettleInvoiceResp, error) {
	reg, err := v.s.registry()
	if err != nil {
		return nil, err
	}
	if len(req.Preimage) != 32 {
		return nil, invalidf("preimage must be exactly 32 bytes, is %d", len(req.Preimage))
	}
	if err := reg.SettleInvoice(ctx, [32]byte(req.Preimage)); err != nil {
		return nil, v.s.toStatus(err)
	}
	return &invoicesrpc.SettleInvoiceResp{}, nil
}

func (v *invoicesService) CancelInvoice(ctx context.Context, req *invoicesrpc.CancelInvoiceMsg) (*invoicesrpc.CancelInvoiceResp, error) {
	reg, err := v.s.registry()
	if err != nil {
		return nil, err
	}
	hash, err := parseHash(req.PaymentHash, "")
	if err != nil {
		return nil, err
	}
	if err := reg.CancelInvoice(ctx, hash); err != nil {
		return nil, v.s.toStatus(err)
	}
	return &invoicesrpc.CancelInvoiceResp{}, nil
}

func (v *invoicesService) LookupInvoiceV2(ctx context.Context, req *invoicesrpc.LookupInvoiceMsg) (*lnrpc.Invoice, error) {
	reg, err := v.s.registry()
	if err != nil {
		return nil, err
	}
	var inv *channeldb.Invoice
	switch ref := req.InvoiceRef.(type) {
	case *invoicesrpc.LookupInvoiceMsg_PaymentHash:
		hash, err := parseHash(ref.PaymentHash, "")
		if err != nil {
			return nil, err
		}
		inv, err = reg.LookupInvoice(ctx, hash)
		if err != nil {
			return nil, v.s.toStatus(err)
		}
	case *invoicesrpc.LookupInvoiceMsg_PaymentAddr:
		if len(ref.PaymentAddr) != 32 {
			return nil, invalidf("payment address must be exactly 32 bytes, is %d", len(ref.PaymentAddr))
		}
		inv, err = reg.LookupInvoiceByAddr(ctx, [32]byte(ref.PaymentAddr))
		if err != nil {
			return nil, v.s.toStatus(err)
		}
	case *invoicesrpc.LookupInvoiceMsg_SetId:
		return nil, status.Error(codes.Unimplemented, "AMP set ids are not supported")
	default:
		return nil, invalidf("no payment hash or payment address given")
	}
	if req.LookupModifier != invoicesrpc.LookupModifier_DEFAULT {
		return nil, status.Error(codes.Unimplemented, "lookup modifiers apply to AMP invoices, not supported")
	}
	return v.s.marshalInvoice(inv)
}

func (v *invoicesService) SubscribeSingleInvoice(req *invoicesrpc.SubscribeSingleInvoiceRequest,
	stream invoicesrpc.Invoices_SubscribeSingleInvoiceServer) error {

	reg, err := v.s.registry()
	if err != nil {
		return err
	}
	hash, err := parseHash(req.RHash, "")
	if err != nil {
		return err
	}
	sub, err := reg.SubscribeSingleInvoice(stream.Context(), hash)
	if err != nil {
		return v.s.toStatus(err)
	}
	return v.s.streamInvoices(stream.Context(), sub, stream.Send)
}
