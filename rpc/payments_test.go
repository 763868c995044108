package rpc

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwire"
	"lnd.xprv/routing"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/routerrpc"
	"lnd.xprv/sphinx"
)

// payNet answers the HTLCs the payment router sends, as the switch would:
// each with what answer returns for it. It is the switch and the peer
// of the RPC tests; the onion is peeled with the peer's real key.
type payNet struct {
	peer *btcec.PrivateKey

	mu      sync.Mutex
	results map[uint64]routing.AttemptResult
	waiters map[uint64][]chan routing.AttemptResult
	// answer decides an HTLC's fate from its final payload.
	answer func(p *sphinx.HopPayload, ss sphinx.Hash256) routing.AttemptResult
}

func (n *payNet) send(_ lnwire.ShortChannelID, id uint64, htlc *lnwire.UpdateAddHTLC) error {
	pkt, err := sphinx.DecodeOnionPacket(htlc.OnionBlob[:])
	if err != nil {
		return err
	}
	proc, err := sphinx.NewRouter(sphinx.PrivKeyECDH{Key: n.peer}, nil).Peel(pkt, htlc.PaymentHash[:])
	if err != nil {
		return err
	}
	payload, err := sphinx.DecodeHopPayload(proc.Payload)
	if err != nil {
		return err
	}
	r := n.answer(payload, proc.SharedSecret)
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.results[id]; ok {
		return routing.ErrDuplicateAttempt
	}
	n.results[id] = r
	for _, ch := range n.waiters[id] {
		ch <- r
	}
	delete(n.waiters, id)
	return nil
}

func (n *payNet) result(id uint64) (<-chan routing.AttemptResult, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	ch := make(chan routing.AttemptResult, 1)
	if r, ok := n.results[id]; ok {
		ch <- r
	} else {
		n.waiters[id] = append(n.waiters[id], ch)
	}
	return ch, nil
}

// settleKeysend settles a keysend with its preimage, fails anything else
// as the recipient would an unknown hash.
func settleKeysend(p *sphinx.HopPayload, ss sphinx.Hash256) routing.AttemptResult {
	if pre, ok := p.KeysendPreimage(); ok {
		return routing.AttemptResult{Settled: true, Preimage: pre}
	}
	reason, _ := sphinx.NewFailure(ss, &sphinx.FailIncorrectOrUnknownPaymentDetails{HtlcMsat: p.AmtToForward, Height: 101})
	return routing.AttemptResult{Reason: reason}
}

// withPayments activates the backend with a real payment router over a
// bbolt file, our one channel (scid 1x1x0) to the peer it returns.
func (h *harness) withPayments() (*payNet, routing.Vertex) {
	h.t.Helper()
	db, err := channeldb.Open(filepath.Join(h.dir, "channel.db"), channeldb.WithNoSync())
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { db.Close() })
	peerKey, _ := btcec.NewPrivateKey()
	peer := routing.Vertex(peerKey.PubKey().SerializeCompressed())
	self := routing.Vertex(h.node.identity.SerializeCompressed())
	net := &payNet{peer: peerKey, results: make(map[uint64]routing.AttemptResult),
		waiters: make(map[uint64][]chan routing.AttemptResult), answer: settleKeysend}
	r := routing.NewPaymentRouter(routing.PaymentRouterConfig{
		DB: db, Self: self, Graph: routing.NewGraph(), PathFinding: routing.DefaultPathFindingConfig(),
		Dispatcher: routing.Dispatcher{SendHTLC: net.send, GetAttemptResult: net.result,
			Bandwidth: func(lnwire.ShortChannelID) (lnwire.MilliSatoshi, bool) { return 1_000_000_000, true }},
		LocalChannels: func() []routing.ExtraEdge {
			return []routing.ExtraEdge{{From: self, To: peer, ChannelID: lnwire.NewShortChanIDFromInt(1<<40 | 1<<16),
				Capacity: 1_000_000}}
		},
		BestHeight: func() (uint32, error) { return 101, nil },
	})
	if err := r.Start(); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { r.Stop() })
	_, err = lnrpc.NewWalletUnlockerClient(h.conn(nil)).UnlockWallet(h.t.Context(),
		&lnrpc.UnlockWalletRequest{WalletPassword: []byte(testPassword)})
	if err != nil {
		h.t.Fatalf("unlock: %v", err)
	}
	b := h.node.backend()
	b.Payments = r
	if err := h.srv.Activate(b); err != nil {
		h.t.Fatal(err)
	}
	return net, peer
}

func keysendRequest(peer routing.Vertex, pre [32]byte, sat int64) *routerrpc.SendPaymentRequest {
	hash := sha256.Sum256(pre[:])
	return &routerrpc.SendPaymentRequest{Dest: peer[:], Amt: sat, PaymentHash: hash[:], TimeoutSeconds: 30,
		DestCustomRecords: map[uint64][]byte{sphinx.KeysendPreimageType: pre[:]}}
}

// collect reads a payment stream to its end.
func collect(t *testing.T, recv func() (*lnrpc.Payment, error)) []*lnrpc.Payment {
	t.Helper()
	var out []*lnrpc.Payment
	for {
		p, err := recv()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("stream: %v", err)
		}
		out = append(out, p)
	}
}

func TestSendPaymentV2Keysend(t *testing.T) {
	h := newHarness(t, true)
	_, peer := h.withPayments()
	ctx := t.Context()
	router := routerrpc.NewRouterClient(h.conn(h.macaroon("admin.macaroon")))
	pre := [32]byte{1, 2, 3}
	stream, err := router.SendPaymentV2(ctx, keysendRequest(peer, pre, 1000))
	if err != nil {
		t.Fatal(err)
	}
	states := collect(t, stream.Recv)
	last := states[len(states)-1]
	if last.Status != lnrpc.Payment_SUCCEEDED || last.PaymentPreimage != hex.EncodeToString(pre[:]) ||
		last.ValueSat != 1000 || last.FeeMsat != 0 || len(last.Htlcs) != 1 {
		t.Fatalf("final state %v", last)
	}
	// As lnd's, the stream opens with the payment as created: IN_FLIGHT,
	// no HTLC yet, its index already given.
	if first := states[0]; len(states) < 3 || first.Status != lnrpc.Payment_IN_FLIGHT || len(first.Htlcs) != 0 ||
		first.PaymentIndex != last.PaymentIndex || first.PaymentIndex == 0 || first.ValueMsat != 1_000_000 ||
		first.CreationTimeNs != last.CreationTimeNs || first.PaymentHash != last.PaymentHash {
		t.Fatalf("%d states, the first %v", len(states), first)
	}
	if len(states[1].Htlcs) != 1 {
		t.Fatalf("second state %v", states[1])
	}
	for i, st := range states {
		// lnd's default: no INITIATED, IN_FLIGHT until final.
		if st.Status == lnrpc.Payment_INITIATED || (i < len(states)-1 && st.Status != lnrpc.Payment_IN_FLIGHT) {
			t.Fatalf("state %d of %d: %v", i, len(states), st.Status)
		}
	}
	htlc := last.Htlcs[0]
	hop := htlc.Route.Hops[0]
	if htlc.Status != lnrpc.HTLCAttempt_SUCCEEDED || hop.AmtToForwardMsat != 1_000_000 || hop.ChanId != 1<<40|1<<16 ||
		len(hop.CustomRecords[sphinx.KeysendPreimageType]) != 32 || hop.PubKey != hex.EncodeToString(peer[:]) {
		t.Fatalf("htlc %v", htlc)
	}

	// The hash is paid: a second payment is refused as lnd refuses it.
	stream, err = router.SendPaymentV2(ctx, keysendRequest(peer, pre, 1000))
	if err == nil {
		_, err = stream.Recv()
	}
	wantCode(t, err, codes.AlreadyExists)
	if !strings.Contains(err.Error(), "invoice is already paid") {
		t.Fatalf("second payment: %v", err)
	}

	// TrackPaymentV2 answers with the final state and ends.
	hash := sha256.Sum256(pre[:])
	track, err := router.TrackPaymentV2(ctx, &routerrpc.TrackPaymentRequest{PaymentHash: hash[:]})
	if err != nil {
		t.Fatal(err)
	}
	if got := collect(t, track.Recv); len(got) != 1 || got[0].Status != lnrpc.Payment_SUCCEEDED {
		t.Fatalf("track: %v", got)
	}
	track, err = router.TrackPaymentV2(ctx, &routerrpc.TrackPaymentRequest{PaymentHash: make([]byte, 32)})
	if err == nil {
		_, err = track.Recv()
	}
	wantCode(t, err, codes.NotFound)
	if !strings.Contains(err.Error(), "payment isn't initiated") {
		t.Fatalf("unknown payment: %v", err)
	}

	// Missing timeout, self-payment: refused before anything is sent.
	req := keysendRequest(peer, [32]byte{9}, 1000)
	req.TimeoutSeconds = 0
	stream, err = router.SendPaymentV2(ctx, req)
	if err == nil {
		_, err = stream.Recv()
	}
	wantCode(t, err, codes.InvalidArgument)
	req = keysendRequest(routing.Vertex(h.node.identity.SerializeCompressed()), [32]byte{9}, 1000)
	stream, err = router.SendPaymentV2(ctx, req)
	if err == nil {
		_, err = stream.Recv()
	}
	if err == nil || !strings.Contains(err.Error(), "self-payment") {
		t.Fatalf("self-payment: %v", err)
	}
}

func TestSendPaymentSyncFailureInResponse(t *testing.T) {
	h := newHarness(t, true)
	_, peer := h.withPayments()
	ln := h.lightning("admin.macaroon")
	ctx := t.Context()
	// Not a keysend: the recipient does not know the hash.
	resp, err := ln.SendPaymentSync(ctx, &lnrpc.SendRequest{Dest: peer[:], Amt: 500, PaymentHash: make([]byte, 32)})
	if err != nil {
		t.Fatalf("a failed payment is not an RPC error: %v", err)
	}
	if resp.PaymentError != "incorrect_payment_details" || len(resp.PaymentPreimage) != 0 {
		t.Fatalf("response %v", resp)
	}
	pre := [32]byte{4}
	resp, err = ln.SendPaymentSync(ctx, &lnrpc.SendRequest{Dest: peer[:], Amt: 500,
		DestCustomRecords: map[uint64][]byte{sphinx.KeysendPreimageType: pre[:]}})
	if err != nil || resp.PaymentError != "" || hex.EncodeToString(resp.PaymentPreimage) != hex.EncodeToString(pre[:]) ||
		resp.PaymentRoute == nil || resp.PaymentRoute.TotalAmtMsat != 500_000 {
		t.Fatalf("keysend: %v %v", resp, err)
	}
	resp, err = ln.SendPaymentSync(ctx, &lnrpc.SendRequest{Dest: peer[:], Amt: 500,
		DestCustomRecords: map[uint64][]byte{sphinx.KeysendPreimageType: pre[:]}})
	if err != nil || resp.PaymentError != "invoice is already paid" {
		t.Fatalf("paid twice: %v %v", resp, err)
	}

	// The failed payment's HTLC: the recipient's code, from index 1.
	list, err := ln.ListPayments(ctx, &lnrpc.ListPaymentsRequest{IncludeIncomplete: true, CountTotalPayments: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Payments) != 2 || list.TotalNumPayments != 2 || list.FirstIndexOffset != 1 || list.LastIndexOffset != 2 {
		t.Fatalf("list %v", list)
	}
	failed := list.Payments[0]
	if failed.Status != lnrpc.Payment_FAILED ||
		failed.FailureReason != lnrpc.PaymentFailureReason_FAILURE_REASON_INCORRECT_PAYMENT_DETAILS {
		t.Fatalf("failed payment %v", failed)
	}
	f := failed.Htlcs[0].Failure
	if f.Code != lnrpc.Failure_INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS || f.FailureSourceIndex != 1 ||
		f.HtlcMsat != 500_000 || f.Height != 101 {
		t.Fatalf("failure %v", f)
	}
	// Without include_incomplete only the succeeded one.
	list, err = ln.ListPayments(ctx, &lnrpc.ListPaymentsRequest{})
	if err != nil || len(list.Payments) != 1 || list.Payments[0].Status != lnrpc.Payment_SUCCEEDED {
		t.Fatalf("complete only: %v %v", list, err)
	}

	// Deletion as lnd's.
	_, err = ln.DeleteAllPayments(ctx, &lnrpc.DeleteAllPaymentsRequest{})
	wantCode(t, err, codes.InvalidArgument)
	del, err := ln.DeleteAllPayments(ctx, &lnrpc.DeleteAllPaymentsRequest{FailedPaymentsOnly: true})
	if err != nil || del.Status != "1 payments deleted, failed_htlcs_only=false" {
		t.Fatalf("delete failed: %v %v", del, err)
	}
	hash := sha256.Sum256(pre[:])
	if _, err := ln.DeletePayment(ctx, &lnrpc.DeletePaymentRequest{PaymentHash: hash[:]}); err != nil {
		t.Fatal(err)
	}
	_, err = ln.DeletePayment(ctx, &lnrpc.DeletePaymentRequest{PaymentHash: hash[:]})
	wantCode(t, err, codes.NotFound)
}

func TestSendToRouteV2AndBuildRoute(t *testing.T) {
	h := newHarness(t, true)
	net, peer := h.withPayments()
	router := routerrpc.NewRouterClient(h.conn(h.macaroon("admin.macaroon")))
	ctx := t.Context()
	pre := [32]byte{5}
	hash := sha256.Sum256(pre[:])
	addr := [32]byte{6}
	net.answer = func(p *sphinx.HopPayload, ss sphinx.Hash256) routing.AttemptResult {
		if p.PaymentData == nil || p.PaymentData.PaymentSecret != addr || p.PaymentData.TotalMsat != 2_000_000 {
			return settleKeysend(p, ss)
		}
		return routing.AttemptResult{Settled: true, Preimage: pre}
	}
	built, err := router.BuildRoute(ctx, &routerrpc.BuildRouteRequest{AmtMsat: 1_000_000,
		HopPubkeys: [][]byte{peer[:]}, PaymentAddr: addr[:]})
	if err != nil {
		t.Fatal(err)
	}
	rt := built.Route
	if len(rt.Hops) != 1 || rt.TotalAmtMsat != 1_000_000 || rt.TotalTimeLock != 101+defaultFinalCLTVDelta ||
		rt.Hops[0].MppRecord == nil {
		t.Fatalf("built %v", rt)
	}
	// Half of a 2,000 sat MPP payment.
	rt.Hops[0].MppRecord.TotalAmtMsat = 2_000_000
	a, err := router.SendToRouteV2(ctx, &routerrpc.SendToRouteRequest{PaymentHash: hash[:], Route: rt})
	if err != nil || a.Status != lnrpc.HTLCAttempt_SUCCEEDED || hex.EncodeToString(a.Preimage) != hex.EncodeToString(pre[:]) {
		t.Fatalf("attempt %v %v", a, err)
	}
	// The attempt's route says what went to the first hop, as lnd's; a
	// route built but not sent does not (BuildRoute's above).
	if a.Route.FirstHopAmountMsat != 1_000_000 || rt.FirstHopAmountMsat != 0 {
		t.Fatalf("first hop amount %d, built %d", a.Route.FirstHopAmountMsat, rt.FirstHopAmountMsat)
	}
	// AMP and blinded hops are refused, not sent without their records.
	for name, set := range map[string]func(*lnrpc.Hop){
		"AMP":     func(h *lnrpc.Hop) { h.AmpRecord = &lnrpc.AMPRecord{SetId: make([]byte, 32)} },
		"blinded": func(h *lnrpc.Hop) { h.EncryptedData = []byte{1} },
	} {
		bad := proto.Clone(rt).(*lnrpc.Route)
		set(bad.Hops[0])
		_, err := router.SendToRouteV2(ctx, &routerrpc.SendToRouteRequest{PaymentHash: make([]byte, 32), Route: bad})
		wantCode(t, err, codes.InvalidArgument)
		if !strings.Contains(err.Error(), "not supported") {
			t.Fatalf("%s hop: %v", name, err)
		}
	}
	// A failing route: the attempt comes back FAILED, no RPC error.
	rt.Hops[0].MppRecord = nil
	a, err = router.SendToRouteV2(ctx, &routerrpc.SendToRouteRequest{PaymentHash: make([]byte, 32), Route: rt})
	if err != nil || a.Status != lnrpc.HTLCAttempt_FAILED ||
		a.Failure.Code != lnrpc.Failure_INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS {
		t.Fatalf("failed attempt %v %v", a, err)
	}
	fee, err := router.EstimateRouteFee(ctx, &routerrpc.RouteFeeRequest{Dest: peer[:], AmtSat: 1000})
	if err != nil || fee.RoutingFeeMsat != 0 || fee.TimeLockDelay != defaultFinalCLTVDelta+finalCLTVPadding {
		t.Fatalf("estimate %v %v", fee, err)
	}
}

// TestSendPaymentV2REST streams over POST /v2/router/send as lnd's
// gateway does: one {"result":...} line per state, closed after the
// final one.
func TestSendPaymentV2REST(t *testing.T) {
	h := newHarness(t, true)
	_, peer := h.withPayments()
	pre := [32]byte{7}
	hash := sha256.Sum256(pre[:])
	body, _ := json.Marshal(map[string]any{
		"dest":                base64.StdEncoding.EncodeToString(peer[:]),
		"amt":                 "2000",
		"payment_hash":        base64.StdEncoding.EncodeToString(hash[:]),
		"timeout_seconds":     30,
		"dest_custom_records": map[string]string{"5482373484": base64.StdEncoding.EncodeToString(pre[:])},
	})
	resp := h.rest("POST", "/v2/router/send", string(body), h.macaroon("admin.macaroon"))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	done := make(chan []string, 1)
	go func() {
		var lines []string
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		done <- lines
	}()
	var lines []string
	select {
	case lines = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("stream not closed after the final state")
	}
	if len(lines) == 0 {
		t.Fatal("no states")
	}
	var last struct {
		Result struct {
			Status          string `json:"status"`
			PaymentPreimage string `json:"payment_preimage"`
			ValueSat        string `json:"value_sat"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(lines[0], `{"result":{`) || last.Result.Status != "SUCCEEDED" ||
		last.Result.PaymentPreimage != hex.EncodeToString(pre[:]) || last.Result.ValueSat != "2000" {
		t.Fatalf("stream %q", lines)
	}
}

// TestTrackPayments streams the changes of every payment made after it
// starts, each payment's last state its final one.
func TestTrackPayments(t *testing.T) {
	h := newHarness(t, true)
	_, peer := h.withPayments()
	ctx := t.Context()
	router := routerrpc.NewRouterClient(h.conn(h.macaroon("admin.macaroon")))
	stream, err := router.TrackPayments(ctx, &routerrpc.TrackPaymentsRequest{NoInflightUpdates: true})
	if err != nil {
		t.Fatal(err)
	}
	// The subscription is in place once the server sent the stream's
	// headers; a payment before that could be missed.
	if _, err := stream.Header(); err != nil {
		t.Fatal(err)
	}
	want := map[string]lnrpc.Payment_PaymentStatus{}
	for i, ok := range []bool{true, false} {
		pre := [32]byte{byte(20 + i)}
		req := keysendRequest(peer, pre, 100)
		if !ok {
			req.DestCustomRecords = nil // not a keysend: the peer refuses it
		}
		pay, err := router.SendPaymentV2(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		collect(t, pay.Recv)
		hash := sha256.Sum256(pre[:])
		want[hex.EncodeToString(hash[:])] = map[bool]lnrpc.Payment_PaymentStatus{
			true: lnrpc.Payment_SUCCEEDED, false: lnrpc.Payment_FAILED}[ok]
	}
	for len(want) > 0 {
		p, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		st, ok := want[p.PaymentHash]
		if !ok || p.Status != st {
			t.Fatalf("update %v, want one of %v", p, want)
		}
		delete(want, p.PaymentHash)
	}
}
