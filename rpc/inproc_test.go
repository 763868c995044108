package rpc

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"lnd.xprv/rpc/cert"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/routerrpc"
	"lnd.xprv/rpc/macaroons"
)

// grpcGateway is the gateway as it was before the in-process connection:
// grpc-gateway calling the gRPC server through a gRPC client over an
// in-memory listener, with TLS and HTTP/2. The tests compare the two.
func grpcGateway(t testing.TB, s *Server) http.Handler {
	t.Helper()
	ln := bufconn.Listen(256 << 10)
	go func() { _ = s.grpcServer.Serve(ln) }()
	t.Cleanup(func() { ln.Close() })
	tlsCfg, err := cert.ClientConfig(s.cfg.TLSCertPath)
	if err != nil {
		t.Fatal(err)
	}
	tlsCfg.ServerName = "127.0.0.1"
	conn, err := grpc.NewClient("passthrough:///xlnd-rest-gateway",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			return ln.DialContext(ctx)
		}),
		grpc.WithTransportCredentials(credentials.NewTLS(tlsCfg)),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMsgSize)),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	mux, err := s.gatewayMux(conn)
	if err != nil {
		t.Fatal(err)
	}
	return mux
}

// httpAnswer is what a REST client can see of an answer. lines limits how
// much of a streamed body is read (0: all of it).
type httpAnswer struct {
	Status   int
	Header   http.Header
	Trailer  http.Header
	Chunked  bool
	Body     string
	ReadLine int
}

func fetchAnswer(t *testing.T, base, method, path, body string, mac []byte, lines int, header ...string) httpAnswer {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if mac != nil {
		req.Header.Set("Grpc-Metadata-macaroon", hex.EncodeToString(mac))
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b []byte
	if lines == 0 {
		b, err = io.ReadAll(resp.Body)
	} else {
		rd := bufio.NewReader(resp.Body)
		for range lines {
			var line []byte
			line, err = rd.ReadBytes('\n')
			b = append(b, line...)
			if err != nil {
				break
			}
		}
	}
	if err != nil {
		t.Fatalf("%s %s: read: %v", method, path, err)
	}
	h := resp.Header.Clone()
	h.Del("Date")
	return httpAnswer{
		Status:  resp.StatusCode,
		Header:  h,
		Trailer: resp.Trailer,
		Chunked: slices.Contains(resp.TransferEncoding, "chunked"),
		Body:    string(b),
	}
}

// TestInprocGatewayMatchesGRPC sends the same REST requests through the
// gateway over gRPC and over the in-process connection: status, headers,
// trailers and body must be identical, errors included.
func TestInprocGatewayMatchesGRPC(t *testing.T) {
	h := newHarness(t, true)
	// Before unlock: refused by state.
	locked := []struct{ method, path string }{
		{"GET", "/v1/getinfo"},
		{"GET", "/v1/peers/subscribe"},
		{"GET", "/v1/state"},
	}
	oldSrv := httptest.NewServer(grpcGateway(t, h.srv))
	defer oldSrv.Close()
	mux, err := h.srv.gatewayMux(h.srv.inproc)
	if err != nil {
		t.Fatal(err)
	}
	newSrv := httptest.NewServer(mux)
	defer newSrv.Close()

	compare := func(t *testing.T, method, path, body string, mac []byte, lines int, header ...string) httpAnswer {
		t.Helper()
		want := fetchAnswer(t, oldSrv.URL, method, path, body, mac, lines, header...)
		got := fetchAnswer(t, newSrv.URL, method, path, body, mac, lines, header...)
		wj, _ := json.MarshalIndent(want, "", " ")
		gj, _ := json.MarshalIndent(got, "", " ")
		if string(wj) != string(gj) {
			t.Errorf("%s %s:\nin-process %s\ngRPC %s", method, path, gj, wj)
		}
		return got
	}
	for _, c := range locked {
		compare(t, c.method, c.path, "", nil, 0)
	}
	compare(t, "GET", "/v1/state/subscribe", "", nil, 1)

	_, peer := h.withPayments()
	admin := h.macaroon(macaroons.AdminFile)
	readonly := h.macaroon(macaroons.ReadOnlyFile)
	addr := "bcrt1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqdku202"
	other := "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
	wrong := make([]byte, len(admin))
	copy(wrong, admin)
	wrong[len(wrong)-1] ^= 1
	ipElsewhere := h.macaroon(macaroons.AdminFile, macaroons.IPAddrCaveat(net.IPv4(10, 1, 1, 1)))
	ipHere := h.macaroon(macaroons.AdminFile, macaroons.IPAddrCaveat(net.IPv4(127, 0, 0, 1)))

	cases := []struct {
		name, method, path, body string
		mac                      []byte
		header                   []string
		wantStatus               int
	}{
		{"no macaroon", "GET", "/v1/getinfo", "", nil, nil, 401},
		{"wrong macaroon", "GET", "/v1/getinfo", "", wrong, nil, 401},
		{"macaroon not hex", "GET", "/v1/getinfo", "", nil, []string{"Grpc-Metadata-macaroon", "xyz"}, 401},
		{"two macaroons", "GET", "/v1/getinfo", "", nil, []string{"Grpc-Metadata-macaroon", hex.EncodeToString(admin) + "," + hex.EncodeToString(admin)}, 401},
		{"read-only on a write method", "POST", "/v1/transactions", `{"addr":"` + addr + `","amount":"1000"}`, readonly, nil, 403},
		{"ipaddr elsewhere", "GET", "/v1/getinfo", "", ipElsewhere, nil, 401},
		{"ipaddr of the client", "GET", "/v1/getinfo", "", ipHere, nil, 200},
		{"forged client address", "GET", "/v1/getinfo", "", ipElsewhere,
			[]string{"Grpc-Metadata-Xlnd-Gateway-Client", "10.1.1.1:5", "Grpc-Metadata-Xlnd-Gateway-Token", "x"}, 401},
		{"getinfo", "GET", "/v1/getinfo", "", admin, nil, 200},
		{"getinfo with trailers", "GET", "/v1/getinfo", "", admin, []string{"TE", "trailers"}, 200},
		{"error with trailers", "GET", "/v1/getinfo", "", nil, []string{"TE", "trailers"}, 401},
		{"balance", "GET", "/v1/balance/blockchain", "", readonly, nil, 200},
		{"unknown peer", "DELETE", "/v1/peers/" + other, "", admin, nil, 404},
		{"validation", "GET", "/v1/transactions/fee", "", admin, nil, 400},
		{"insufficient funds", "POST", "/v1/transactions", `{"addr":"` + addr + `","amount":"999999"}`, admin, nil, 400},
		{"bad json", "POST", "/v1/transactions", `{"addr":`, admin, nil, 400},
		{"no route", "GET", "/v1/nothing", "", admin, nil, 404},
		{"state", "GET", "/v1/state", "", nil, nil, 200},
		{"unlocker after unlock", "POST", "/v1/unlockwallet", `{"wallet_password":"eA=="}`, nil, nil, 503},
		{"stream refused", "GET", "/v1/peers/subscribe", "", nil, nil, 401},
		{"stream read-only refused", "GET", "/v1/peers/subscribe", "", wrong, nil, 401},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := compare(t, c.method, c.path, c.body, c.mac, 0, c.header...)
			if got.Status != c.wantStatus {
				t.Errorf("status %d, want %d: %s", got.Status, c.wantStatus, got.Body)
			}
		})
	}

	t.Run("stream", func(t *testing.T) {
		// Events keep coming, so that each stream has its first message
		// (the gateway sends the headers with it).
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			for {
				select {
				case h.node.events <- PeerEvent{PubKey: h.node.peers[0].PubKey, Online: false}:
				case <-stop:
					return
				}
			}
		}()
		got := compare(t, "GET", "/v1/peers/subscribe", "", readonly, 2)
		if !strings.HasPrefix(got.Body, `{"result":{"pub_key":`) {
			t.Fatalf("stream %q", got.Body)
		}
	})

	t.Run("payment stream", func(t *testing.T) {
		for i := range 2 {
			pre := [32]byte{byte(i + 1)}
			hash := sha256.Sum256(pre[:])
			body, _ := json.Marshal(map[string]any{
				"dest":                base64.StdEncoding.EncodeToString(peer[:]),
				"amt":                 "2000",
				"payment_hash":        base64.StdEncoding.EncodeToString(hash[:]),
				"timeout_seconds":     30,
				"dest_custom_records": map[string]string{"5482373484": base64.StdEncoding.EncodeToString(pre[:])},
			})
			base := oldSrv.URL
			if i == 1 {
				base = newSrv.URL
			}
			a := fetchAnswer(t, base, "POST", "/v2/router/send", string(body), admin, 0)
			if a.Status != 200 || !a.Chunked || a.Header.Get("Grpc-Metadata-Content-Type") != "application/grpc" ||
				!strings.Contains(a.Body, `"status":"SUCCEEDED"`) {
				t.Fatalf("payment over %s: %+v", base, a)
			}
		}
		// Paying the same hash again: refused, identically.
		pre := [32]byte{1}
		hash := sha256.Sum256(pre[:])
		body, _ := json.Marshal(map[string]any{
			"dest": base64.StdEncoding.EncodeToString(peer[:]), "amt": "2000",
			"payment_hash": base64.StdEncoding.EncodeToString(hash[:]), "timeout_seconds": 30,
			"dest_custom_records": map[string]string{"5482373484": base64.StdEncoding.EncodeToString(pre[:])},
		})
		got := compare(t, "POST", "/v2/router/send", string(body), admin, 0)
		if got.Status == 200 && !strings.Contains(got.Body, `"error"`) {
			t.Fatalf("second payment of a hash: %+v", got)
		}
	})
}

// TestInprocUnknownMethod: a method nobody registered fails as the gRPC
// server answers it.
func TestInprocUnknownMethod(t *testing.T) {
	h := newHarness(t, true)
	err := h.srv.inproc.Invoke(t.Context(), "/lnrpc.Lightning/NoSuchCall", &lnrpc.GetInfoRequest{}, &lnrpc.GetInfoResponse{})
	var viaGRPC error
	viaGRPC = h.conn(nil).Invoke(t.Context(), "/lnrpc.Lightning/NoSuchCall", &lnrpc.GetInfoRequest{}, &lnrpc.GetInfoResponse{})
	if err == nil || err.Error() != viaGRPC.Error() {
		t.Fatalf("in-process %v, gRPC %v", err, viaGRPC)
	}
	err = h.srv.inproc.Invoke(t.Context(), "/nosuch.Service/Call", &lnrpc.GetInfoRequest{}, &lnrpc.GetInfoResponse{})
	viaGRPC = h.conn(nil).Invoke(t.Context(), "/nosuch.Service/Call", &lnrpc.GetInfoRequest{}, &lnrpc.GetInfoResponse{})
	if err == nil || err.Error() != viaGRPC.Error() {
		t.Fatalf("in-process %v, gRPC %v", err, viaGRPC)
	}
}

// stateProbe is a State service that records what a handler sees.
type stateProbe struct {
	lnrpc.UnimplementedStateServer
	ended chan error
	sent  chan struct{}
	// block makes GetState wait for its context to end.
	block bool
}

// SubscribeState sends LOCKED, changes the message it sent, sends it
// again, and waits for the call to end.
func (p *stateProbe) SubscribeState(_ *lnrpc.SubscribeStateRequest, st lnrpc.State_SubscribeStateServer) error {
	msg := &lnrpc.SubscribeStateResponse{State: lnrpc.WalletState_LOCKED}
	if err := st.Send(msg); err != nil {
		return err
	}
	msg.State = lnrpc.WalletState_SERVER_ACTIVE
	if err := st.Send(msg); err != nil {
		return err
	}
	close(p.sent)
	<-st.Context().Done()
	p.ended <- st.Context().Err()
	return st.Context().Err()
}

func (p *stateProbe) GetState(ctx context.Context, _ *lnrpc.GetStateRequest) (*lnrpc.GetStateResponse, error) {
	if p.block {
		<-ctx.Done()
		p.ended <- ctx.Err()
		return &lnrpc.GetStateResponse{}, nil
	}
	return nil, status.Error(codes.NotFound, "no state here")
}

func newProbeConn(t *testing.T, unary grpc.UnaryServerInterceptor) (*inprocConn, *stateProbe) {
	t.Helper()
	var ints []grpc.UnaryServerInterceptor
	if unary != nil {
		ints = append(ints, unary)
	}
	c := newInprocConn(ints, nil, maxMsgSize)
	p := &stateProbe{ended: make(chan error, 1), sent: make(chan struct{})}
	lnrpc.RegisterStateServer(c, p)
	t.Cleanup(func() { c.stop(10 * time.Second) })
	return c, p
}

// TestInprocMessageCopied: a message the service changes after Send
// reaches the client as it was sent.
func TestInprocMessageCopied(t *testing.T) {
	c, p := newProbeConn(t, nil)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	st, err := lnrpc.NewStateClient(c).SubscribeState(ctx, &lnrpc.SubscribeStateRequest{})
	if err != nil {
		t.Fatal(err)
	}
	<-p.sent
	var got []lnrpc.WalletState
	for range 2 {
		m, err := st.Recv()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m.State)
	}
	want := []lnrpc.WalletState{lnrpc.WalletState_LOCKED, lnrpc.WalletState_SERVER_ACTIVE}
	if !slices.Equal(got, want) {
		t.Fatalf("client read %v, want %v", got, want)
	}
	cancel()
	if err := <-p.ended; err != context.Canceled {
		t.Fatalf("service context ended with %v", err)
	}
	if _, err := st.Recv(); status.Code(err) != codes.Canceled {
		t.Fatalf("Recv after cancel: %v", err)
	}
}

// TestInprocClientGoneEndsStream: an HTTP client that goes away ends the
// service's stream context; an error from a unary handler keeps its code
// through the interceptor, which sees the gateway's metadata as incoming
// metadata, the peer and the method.
func TestInprocClientGoneEndsStream(t *testing.T) {
	type seen struct {
		method   string
		in, out  metadata.MD
		peerAddr string
	}
	calls := make(chan seen, 1)
	c, p := newProbeConn(t, func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		in, _ := metadata.FromIncomingContext(ctx)
		out, _ := metadata.FromOutgoingContext(ctx)
		pr, _ := peer.FromContext(ctx)
		calls <- seen{grpc.ServerTransportStreamFromContext(ctx).Method(), in, out, pr.Addr.String()}
		if info.FullMethod != "/lnrpc.State/GetState" {
			t.Errorf("interceptor info %q", info.FullMethod)
		}
		return handler(ctx, req)
	})
	s := &Server{gatewayToken: "tok"}
	mux, err := s.gatewayMux(c)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()

	a := fetchAnswer(t, srv.URL, "GET", "/v1/state", "", []byte{1, 2}, 0)
	// protojson's spacing varies by build: compare the compacted body.
	var body bytes.Buffer
	if err := json.Compact(&body, []byte(a.Body)); err != nil || a.Status != http.StatusNotFound ||
		body.String() != `{"code":5,"message":"no state here","details":[]}` {
		t.Fatalf("unary error: %+v", a)
	}
	call := <-calls
	if call.method != "/lnrpc.State/GetState" || call.in.Get(MacaroonMetadataKey)[0] != "0102" ||
		call.in.Get(gatewayTokenKey)[0] != "tok" || !strings.HasPrefix(call.in.Get(gatewayClientKey)[0], "127.0.0.1:") ||
		len(call.out) != 0 || call.peerAddr != "inproc" {
		t.Fatalf("handler saw %+v", call)
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/v1/state/subscribe", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || line != `{"result":{"state":"LOCKED"}}`+"\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	select {
	case err := <-p.ended:
		t.Fatalf("stream ended early: %v", err)
	default:
	}
	cancel()
	resp.Body.Close()
	select {
	case err := <-p.ended:
		if err != context.Canceled {
			t.Fatalf("service context ended with %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("service context not ended by the client going away")
	}
}

// TestInprocStopEndsStreams: stop ends a running stream, waits for its
// handler, and refuses new calls.
func TestInprocStopEndsStreams(t *testing.T) {
	c, p := newProbeConn(t, nil)
	st, err := lnrpc.NewStateClient(c).SubscribeState(t.Context(), &lnrpc.SubscribeStateRequest{})
	if err != nil {
		t.Fatal(err)
	}
	<-p.sent
	if !c.stop(10 * time.Second) {
		t.Fatal("handler still running after stop")
	}
	select {
	case err := <-p.ended:
		if err != context.Canceled {
			t.Fatalf("service context ended with %v", err)
		}
	default:
		t.Fatal("stop returned before the handler")
	}
	for range 2 {
		if _, err := st.Recv(); err != nil {
			t.Fatalf("message sent before stop lost: %v", err)
		}
	}
	if _, err := st.Recv(); status.Code(err) != codes.Canceled {
		t.Fatalf("Recv after stop: %v", err)
	}
	if _, err := lnrpc.NewStateClient(c).GetState(t.Context(), &lnrpc.GetStateRequest{}); status.Code(err) != codes.Canceled {
		t.Fatalf("call after stop: %v", err)
	}
}

// processCPU is the CPU time the test process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRESTGateway is one REST call through the gateway over the
// gRPC transport (as before) and over the in-process connection: a
// unary GetInfo, and a TrackPaymentV2 stream of a settled payment (one
// update, then the end). It reports the process's CPU time per call
// (cpu-ns/op), client included, which a loaded machine disturbs less
// than the time per call.
func BenchmarkRESTGateway(b *testing.B) {
	h := newHarness(b, true)
	_, peer := h.withPayments()
	admin := h.macaroon(macaroons.AdminFile)
	pre := [32]byte{42}
	hash := sha256.Sum256(pre[:])
	pay, err := routerrpc.NewRouterClient(h.conn(admin)).SendPaymentV2(b.Context(), keysendRequest(peer, pre, 100))
	if err != nil {
		b.Fatal(err)
	}
	for {
		if _, err := pay.Recv(); err == io.EOF {
			break
		} else if err != nil {
			b.Fatal(err)
		}
	}
	mux, err := h.srv.gatewayMux(h.srv.inproc)
	if err != nil {
		b.Fatal(err)
	}
	gateways := []struct {
		name string
		h    http.Handler
	}{{"grpc", grpcGateway(b, h.srv)}, {"inproc", mux}}
	calls := []struct{ name, path string }{
		{"getinfo", "/v1/getinfo"},
		{"track", "/v2/router/track/" + base64.URLEncoding.EncodeToString(hash[:])},
	}
	for _, g := range gateways {
		srv := httptest.NewServer(g.h)
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
		for _, c := range calls {
			b.Run(c.name+"/"+g.name, func(b *testing.B) {
				b.ReportAllocs()
				cpu0 := processCPU()
				for b.Loop() {
					req, _ := http.NewRequestWithContext(b.Context(), "GET", srv.URL+c.path, nil)
					req.Header.Set("Grpc-Metadata-macaroon", hex.EncodeToString(admin))
					resp, err := client.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					body, err := io.ReadAll(resp.Body)
					resp.Body.Close()
					if err != nil || resp.StatusCode != http.StatusOK {
						b.Fatalf("%d %s %v", resp.StatusCode, body, err)
					}
				}
				b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
			})
		}
		client.CloseIdleConnections()
		srv.Close()
	}
}

// TestInprocUnaryCancel: a unary call whose caller goes away returns
// Canceled at once, and the handler's context ends.
func TestInprocUnaryCancel(t *testing.T) {
	c, p := newProbeConn(t, nil)
	p.block = true
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := lnrpc.NewStateClient(c).GetState(ctx, &lnrpc.GetStateRequest{})
		errc <- err
	}()
	select {
	case err := <-errc:
		t.Fatalf("call returned before cancel: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	if err := <-errc; status.Code(err) != codes.Canceled {
		t.Fatalf("call ended with %v", err)
	}
	if err := <-p.ended; err != context.Canceled {
		t.Fatalf("handler context ended with %v", err)
	}
}

// TestInprocChains: interceptors run first-outermost, as
// grpc.ChainUnaryInterceptor and grpc.ChainStreamInterceptor run them.
func TestInprocChains(t *testing.T) {
	var order []string
	unary := func(name string) grpc.UnaryServerInterceptor {
		return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			order = append(order, name)
			return h(ctx, req)
		}
	}
	stream := func(name string) grpc.StreamServerInterceptor {
		return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			order = append(order, name)
			return h(srv, ss)
		}
	}
	u := chainUnary([]grpc.UnaryServerInterceptor{unary("a"), unary("b"), unary("c")})
	if _, err := u(t.Context(), nil, &grpc.UnaryServerInfo{}, func(context.Context, any) (any, error) {
		order = append(order, "handler")
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	s := chainStream([]grpc.StreamServerInterceptor{stream("x"), stream("y")})
	if err := s(nil, nil, &grpc.StreamServerInfo{}, func(any, grpc.ServerStream) error {
		order = append(order, "stream handler")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{"a", "b", "c", "handler", "x", "y", "stream handler"}
	if !slices.Equal(order, want) {
		t.Fatalf("order %q, want %q", order, want)
	}
	if chainUnary(nil) != nil || chainStream(nil) != nil {
		t.Fatal("empty chains are not nil")
	}
}
