package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// netHTTPRequest is the bytes net/http's client writes for a request
// made as the tool made its requests through it: Content-Type for a
// body, and the macaroon header.
func netHTTPRequest(t *testing.T, method, path, mac string, body []byte) (host string, raw []byte) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		var buf bytes.Buffer
		req, err := http.ReadRequest(bufio.NewReader(io.TeeReader(c, &buf)))
		if err == nil {
			_, err = io.Copy(io.Discard, req.Body)
		}
		if err != nil {
			got <- nil
			return
		}
		got <- buf.Bytes()
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
	}()
	var payload io.Reader
	if body != nil {
		payload = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://"+ln.Addr().String()+path, payload)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Grpc-Metadata-macaroon", mac)
	client := &http.Client{Transport: &http.Transport{}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return ln.Addr().String(), <-got
}

// TestWriteRequest: the tool's requests are net/http's, byte for byte.
func TestWriteRequest(t *testing.T) {
	for _, c := range []struct {
		method, path string
		body         []byte
	}{
		{"POST", "/v1/invoices", []byte(`{"private":false,"value":"10"}`)},
		{"POST", "/v2/router/send", []byte(`{"fee_limit_sat":"100","payment_request":"lnbcrt1","timeout_seconds":60}`)},
		{"GET", "/v1/getinfo", nil},
		{"GET", "/v1/newaddress?type=WITNESS_PUBKEY_HASH", nil},
		{"POST", "/v1/peers", nil},
	} {
		host, want := netHTTPRequest(t, c.method, c.path, "0201abcd", c.body)
		if want == nil {
			t.Fatalf("%s %s: nothing captured", c.method, c.path)
		}
		var got bytes.Buffer
		w := bufio.NewWriter(&got)
		if err := writeRequest(w, c.method, c.path, host, "0201abcd", c.body); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s %s:\n got %q\nwant %q", c.method, c.path, got.Bytes(), want)
		}
	}
	if err := writeRequest(bufio.NewWriter(io.Discard), "GET", "/a b", "h", "m", nil); err == nil {
		t.Error("a path with a space written")
	}
}

// TestRoundTrip: answers with a length and chunked answers are read to
// their end, the connection is reused after a complete answer and not
// after one left unread, and an error status reaches the caller.
func TestRoundTrip(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Grpc-Metadata-Macaroon") != "0201" {
			http.Error(w, "no macaroon", http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/unary":
			_, _ = io.WriteString(w, `{"payment_request":"lnbcrt1"}`)
		case "/stream":
			for _, s := range []string{"IN_FLIGHT", "SUCCEEDED"} {
				_, _ = io.WriteString(w, `{"result":{"status":"`+s+`"}}`+"\n")
				http.NewResponseController(w).Flush()
			}
		case "/fail":
			http.Error(w, `{"code":2,"message":"no"}`, http.StatusInternalServerError)
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	n := &restNode{name: "test", addr: srv.Listener.Addr().String(),
		host: srv.Listener.Addr().String(), mac: "0201",
		tlsCfg: &tls.Config{RootCAs: pool}, maxIdle: 4}
	ctx := context.Background()

	for range 3 {
		var inv struct {
			PaymentRequest string `json:"payment_request"`
		}
		if err := n.do(ctx, "POST", "/unary", []byte(`{}`), &inv); err != nil || inv.PaymentRequest != "lnbcrt1" {
			t.Fatalf("unary: %+v, %v", inv, err)
		}
		var lines []string
		err := n.stream(ctx, "POST", "/stream", map[string]any{}, func(line []byte) (bool, error) {
			lines = append(lines, string(line))
			return strings.Contains(string(line), "SUCCEEDED"), nil
		})
		if err != nil || len(lines) != 2 {
			t.Fatalf("stream: %q, %v", lines, err)
		}
	}
	if c := conns.Load(); c != 1 {
		t.Fatalf("%d connections for six requests one at a time, want 1", c)
	}
	err := n.do(ctx, "GET", "/fail", nil, nil)
	if err == nil || !strings.Contains(err.Error(), "HTTP 500") || !strings.Contains(err.Error(), `"message":"no"`) {
		t.Fatalf("error answer: %v", err)
	}
	// A stream left before its end: its connection is not reused.
	err = n.stream(ctx, "POST", "/stream", nil, func([]byte) (bool, error) {
		return true, io.ErrUnexpectedEOF
	})
	if err != io.ErrUnexpectedEOF {
		t.Fatalf("stream left early: %v", err)
	}
	if err := n.do(ctx, "GET", "/unary", nil, nil); err != nil {
		t.Fatal(err)
	}
	if c := conns.Load(); c != 2 {
		t.Fatalf("%d connections, want 2 (one new after the stream left early)", c)
	}
	// A context that has ended fails the request.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := n.do(cctx, "GET", "/unary", nil, nil); err == nil {
		t.Fatal("request with an ended context succeeded")
	}
}

// TestRequestBodies: the load's request bodies are json.Marshal's of the
// maps it used to marshal.
func TestRequestBodies(t *testing.T) {
	for _, c := range []struct {
		amt   int64
		hints bool
	}{{10, false}, {1, true}, {0, false}, {-5, true}, {1 << 62, false}} {
		want, _ := json.Marshal(map[string]any{"value": strconv.FormatInt(c.amt, 10), "private": c.hints})
		if got := invoiceBody(c.amt, c.hints); !bytes.Equal(got, want) {
			t.Errorf("invoice %+v: %s, want %s", c, got, want)
		}
	}
	for _, pr := range []string{"lnbcrt100n1p43d55qpp5pnvk5524uppld5vc78d69frdfcrud6kc8r30lx73t49vyuq8m0jq",
		"LNBC1", "", `a"b`, "a<b&c>", "é\u2028", "a\\b\x01"} {
		for _, to := range []time.Duration{60 * time.Second, 1500 * time.Millisecond, 0} {
			want, _ := json.Marshal(map[string]any{"payment_request": pr,
				"timeout_seconds": int(to.Seconds()), "fee_limit_sat": "100"})
			if got := sendBody(pr, to); !bytes.Equal(got, want) {
				t.Errorf("send %q %v: %s, want %s", pr, to, got, want)
			}
		}
	}
}
