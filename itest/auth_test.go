package itest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/btcsuite/btcd/txscript"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"gopkg.in/macaroon.v2"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
)

// TestMacaroonsRefuseSendCoins: SendCoins without a macaroon, or with the
// read-only one, is refused over gRPC (Unauthenticated, PermissionDenied)
// and over REST (401, 403), and no coin moves; the read-only macaroon
// still reads; the same REST request with the admin macaroon goes through.
func TestMacaroonsRefuseSendCoins(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	check(t, nw.Fund(alice, 50_000_000))

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	dest := nw.Btcd().MinerAddress().EncodeAddress()
	send := &lnrpc.SendCoinsRequest{Addr: dest, Amount: 1_000_000, SatPerVbyte: 2}

	balBefore, err := alice.Balance()
	check(t, err)
	txsBefore, err := alice.RPC.GetTransactions(ctx, &lnrpc.GetTransactionsRequest{EndHeight: -1})
	check(t, err)

	// gRPC.
	grpcCases := []struct {
		name     string
		macaroon string
		want     codes.Code
	}{
		{"no macaroon", "", codes.Unauthenticated},
		{"readonly macaroon", alice.ReadOnlyMacaroonPath(), codes.PermissionDenied},
	}
	for _, tc := range grpcCases {
		conn, err := alice.Conn(tc.macaroon)
		check(t, err)
		client := lnrpc.NewLightningClient(conn)
		_, err = client.SendCoins(ctx, send)
		if status.Code(err) != tc.want {
			t.Errorf("gRPC SendCoins with %s: %v, want code %v", tc.name, err, tc.want)
		}
		// Reading works with the read-only macaroon only.
		info, err := client.GetInfo(ctx, &lnrpc.GetInfoRequest{})
		if tc.macaroon == "" {
			if status.Code(err) != codes.Unauthenticated {
				t.Errorf("gRPC GetInfo with no macaroon: %v, want Unauthenticated", err)
			}
		} else if err != nil || info.IdentityPubkey != alice.PubKey() {
			t.Errorf("gRPC GetInfo with %s: %v, %v", tc.name, info, err)
		}
	}

	// REST: grpc-gateway maps Unauthenticated to 401 and PermissionDenied
	// to 403, with the gRPC code in the JSON body.
	body := map[string]any{"addr": dest, "amount": "1000000", "sat_per_vbyte": "2"}
	restCases := []struct {
		name       string
		macaroon   string
		wantStatus int
		wantCode   codes.Code
	}{
		{"no macaroon", "", http.StatusUnauthorized, codes.Unauthenticated},
		{"readonly macaroon", alice.ReadOnlyMacaroonPath(), http.StatusForbidden, codes.PermissionDenied},
	}
	for _, tc := range restCases {
		code, resp, err := alice.REST(http.MethodPost, "/v1/transactions", body, tc.macaroon)
		check(t, err)
		var e struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(resp, &e)
		if code != tc.wantStatus || codes.Code(e.Code) != tc.wantCode {
			t.Errorf("REST POST /v1/transactions with %s: HTTP %d %s, want %d with code %d",
				tc.name, code, resp, tc.wantStatus, tc.wantCode)
		}
	}
	code, resp, err := alice.REST(http.MethodGet, "/v1/getinfo", nil, alice.ReadOnlyMacaroonPath())
	check(t, err)
	var info struct {
		IdentityPubkey string `json:"identity_pubkey"`
	}
	if err := json.Unmarshal(resp, &info); code != http.StatusOK || err != nil ||
		info.IdentityPubkey != alice.PubKey() {
		t.Errorf("REST GET /v1/getinfo with the readonly macaroon: HTTP %d %s", code, resp)
	}
	code, resp, err = alice.REST(http.MethodGet, "/v1/getinfo", nil, "")
	check(t, err)
	if code != http.StatusUnauthorized {
		t.Errorf("REST GET /v1/getinfo with no macaroon: HTTP %d %s, want 401", code, resp)
	}

	// Nothing moved: same balance, same transactions, empty mempool.
	balAfter, err := alice.Balance()
	check(t, err)
	txsAfter, err := alice.RPC.GetTransactions(ctx, &lnrpc.GetTransactionsRequest{EndHeight: -1})
	check(t, err)
	inMempool, err := nw.MempoolSize()
	check(t, err)
	if balAfter.TotalBalance != balBefore.TotalBalance ||
		len(txsAfter.Transactions) != len(txsBefore.Transactions) || inMempool != 0 {
		t.Fatalf("refused sends moved coins: balance %d -> %d, %d -> %d transactions, %d in mempool",
			balBefore.TotalBalance, balAfter.TotalBalance,
			len(txsBefore.Transactions), len(txsAfter.Transactions), inMempool)
	}

	// The refused request was valid: with the admin macaroon it pays.
	code, resp, err = alice.REST(http.MethodPost, "/v1/transactions", body, alice.AdminMacaroonPath())
	check(t, err)
	var sent struct {
		Txid string `json:"txid"`
	}
	if err := json.Unmarshal(resp, &sent); code != http.StatusOK || err != nil || sent.Txid == "" {
		t.Fatalf("REST POST /v1/transactions with the admin macaroon: HTTP %d %s", code, resp)
	}
	tx, err := nw.WaitTx(sent.Txid)
	check(t, err)
	minerScript, err := txscript.PayToAddrScript(nw.Btcd().MinerAddress())
	check(t, err)
	paid := false
	for _, out := range tx.Tx.TxOut {
		paid = paid || (bytes.Equal(out.PkScript, minerScript) && out.Value == send.Amount)
	}
	if !paid {
		t.Errorf("admin send %s does not pay %d sat to %s", sent.Txid, send.Amount, dest)
	}
}

// TestMacaroonCaveats: first-party caveats lncli adds are enforced
// (time-before, ipaddr), an unknown caveat is refused, and a tampered
// macaroon is refused; over gRPC and REST, and through xlncli's
// --macaroonip.
func TestMacaroonCaveats(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	raw, err := os.ReadFile(alice.AdminMacaroonPath())
	check(t, err)

	// withCaveats writes the admin macaroon with extra caveats to a file.
	withCaveats := func(name string, caveats ...string) string {
		t.Helper()
		mac := &macaroon.Macaroon{}
		check(t, mac.UnmarshalBinary(raw))
		for _, c := range caveats {
			check(t, mac.AddFirstPartyCaveat([]byte(c)))
		}
		b, err := mac.MarshalBinary()
		check(t, err)
		path := filepath.Join(t.TempDir(), name)
		check(t, os.WriteFile(path, b, 0o600))
		return path
	}
	tampered := append([]byte(nil), raw...)
	tampered[len(tampered)-1] ^= 1 // the signature's last byte
	tamperedPath := filepath.Join(t.TempDir(), "tampered.macaroon")
	check(t, os.WriteFile(tamperedPath, tampered, 0o600))

	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano)
	past := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339Nano)
	tests := []struct {
		name string
		path string
		ok   bool
	}{
		{"time-before in the future", withCaveats("future", "time-before "+future), true},
		{"ipaddr of the client", withCaveats("ip-ok", "ipaddr 127.0.0.1"), true},
		{"time-before in the past", withCaveats("past", "time-before "+past), false},
		{"ipaddr of another host", withCaveats("ip-other", "ipaddr 10.9.8.7"), false},
		{"unknown caveat", withCaveats("unknown", "frobnicate yes"), false},
		{"tampered signature", tamperedPath, false},
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, tc := range tests {
		conn, err := alice.Conn(tc.path)
		check(t, err)
		_, err = lnrpc.NewLightningClient(conn).GetInfo(ctx, &lnrpc.GetInfoRequest{})
		if tc.ok && err != nil {
			t.Errorf("gRPC GetInfo with %s: %v", tc.name, err)
		}
		if c := status.Code(err); !tc.ok && c != codes.Unauthenticated && c != codes.PermissionDenied {
			t.Errorf("gRPC GetInfo with %s: %v, want Unauthenticated or PermissionDenied", tc.name, err)
		}
		code, body, err := alice.REST(http.MethodGet, "/v1/getinfo", nil, tc.path)
		check(t, err)
		if tc.ok != (code == http.StatusOK) || (!tc.ok && code != http.StatusUnauthorized && code != http.StatusForbidden) {
			t.Errorf("REST GET /v1/getinfo with %s: HTTP %d %s", tc.name, code, body)
		}
	}

	// xlncli adds ipaddr with --macaroonip.
	_, err = alice.CLI(append(alice.CLIArgs(), "--macaroonip=127.0.0.1", "getinfo")...)
	check(t, err)
	if _, err := alice.CLI(append(alice.CLIArgs(), "--macaroonip=10.9.8.7", "getinfo")...); err == nil {
		t.Error("xlncli --macaroonip=10.9.8.7 getinfo succeeded from 127.0.0.1")
	}
}
