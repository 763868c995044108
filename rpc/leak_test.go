package rpc

import (
	"encoding/hex"
	"io"
	"net/http"
	"runtime"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"lnd.xprv/rpc/cert"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/macaroons"
)

// TestStopLeavesNoGoroutine: after calls and open streams over gRPC and
// REST, Stop ends every goroutine the server started.
func TestStopLeavesNoGoroutine(t *testing.T) {
	base := runtime.NumGoroutine()

	h := newHarness(t, true)
	tlsCfg, err := cert.ClientConfig(h.paths.TLSCert)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(h.srv.GRPCAddrs()[0].String(), grpc.WithTransportCredentials(credentials.NewTLS(tlsCfg)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := lnrpc.NewWalletUnlockerClient(conn).UnlockWallet(ctx, &lnrpc.UnlockWalletRequest{WalletPassword: []byte(testPassword)}); err != nil {
		t.Fatal(err)
	}
	if err := h.srv.Activate(h.node.backend()); err != nil {
		t.Fatal(err)
	}
	mac := h.macaroon(macaroons.AdminFile)
	ln := lnrpc.NewLightningClient(conn)
	stream, err := ln.SubscribePeerEvents(outgoing(ctx, hex.EncodeToString(mac)), &lnrpc.PeerEventSubscription{})
	if err != nil {
		t.Fatal(err)
	}
	h.node.events <- PeerEvent{PubKey: h.node.peers[0].PubKey, Online: true}
	if _, err := stream.Recv(); err != nil {
		t.Fatal(err)
	}

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg}}
	req, err := http.NewRequestWithContext(ctx, "GET", "https://"+h.srv.RESTAddrs()[0].String()+"/v1/state/subscribe", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := resp.Body.Read(make([]byte, 10)); err != nil {
		t.Fatal(err)
	}

	h.srv.Stop()
	// The server ended the streams; the clients see it and let go.
	if _, err := stream.Recv(); err == nil {
		t.Fatal("peer event stream open after Stop")
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	client.CloseIdleConnections()
	conn.Close()

	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			n := runtime.Stack(buf, true)
			t.Fatalf("%d goroutines after Stop, %d before:\n%s", runtime.NumGoroutine(), base, buf[:n])
		}
		time.Sleep(20 * time.Millisecond)
	}
}
