//go:build lnclicompat

// Opt-in check that lnd's own lncli reads xlnd's ListChannels with an
// HTLC held on each channel:
//
//	LNCLI=/work/lnd-bin/lncli go test -tags lnclicompat -run TestLncliListChannels ./itest/

package itest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/invoicesrpc"
	"lnd.xprv/rpc/lnrpc/routerrpc"
)

func TestLncliListChannels(t *testing.T) {
	bin := os.Getenv("LNCLI")
	if bin == "" {
		t.Fatal("set LNCLI to an lncli binary built from lnd's source")
	}
	l := newLine(t)
	ctx := t.Context()
	inv := invoicesClient(t, l.carol)
	pre := sha256.Sum256([]byte("lncli listchannels"))
	hash := sha256.Sum256(pre[:])
	hold, err := inv.AddHoldInvoice(ctx, &invoicesrpc.AddHoldInvoiceRequest{Hash: hash[:], Value: 700})
	check(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = pay(t, l.alice, &routerrpc.SendPaymentRequest{PaymentRequest: hold.PaymentRequest,
			RouteHints: l.hint()})
	}()
	waitInvoiceState(t, l.carol, hash[:], lnrpc.Invoice_ACCEPTED)

	type htlc struct {
		Incoming bool   `json:"incoming"`
		Amount   string `json:"amount"`
		HashLock string `json:"hash_lock"`
		Expiry   uint32 `json:"expiration_height"`
		Index    string `json:"htlc_index"`
		FwdChan  string `json:"forwarding_channel"`
		FwdIndex string `json:"forwarding_htlc_index"`
		LockedIn bool   `json:"locked_in"`
	}
	var resp struct {
		Channels []struct {
			Point     string `json:"channel_point"`
			Unsettled string `json:"unsettled_balance"`
			HTLCs     []htlc `json:"pending_htlcs"`
			Lifetime  string `json:"lifetime"`
			Uptime    string `json:"uptime"`
			PeerAlias string `json:"peer_alias"`
		} `json:"channels"`
	}
	check(t, harness.WaitFor(func() error {
		out, err := exec.CommandContext(ctx, bin, "--rpcserver", l.bob.RPCAddr(),
			"--tlscertpath", l.bob.TLSCertPath(), "--macaroonpath", l.bob.AdminMacaroonPath(),
			"listchannels").CombinedOutput()
		if err != nil {
			return fmt.Errorf("lncli listchannels: %v: %s", err, out)
		}
		if err := json.Unmarshal(out, &resp); err != nil {
			return fmt.Errorf("lncli listchannels: %v: %s", err, out)
		}
		for _, c := range resp.Channels {
			if len(c.HTLCs) != 1 || !c.HTLCs[0].LockedIn {
				return fmt.Errorf("channel %s: HTLCs %+v", c.Point, c.HTLCs)
			}
		}
		return nil
	}, harness.SyncTimeout))
	if len(resp.Channels) != 2 {
		t.Fatalf("bob lists %d channels", len(resp.Channels))
	}
	// lncli prints bytes in hex.
	hashHex := hex.EncodeToString(hash[:])
	for _, c := range resp.Channels {
		h := c.HTLCs[0]
		in := c.Point == l.ab.ChannelPoint
		other := l.ab.ChanId
		if in {
			other = l.bc.ChanId
		}
		if h.Incoming != in || h.HashLock != hashHex || h.Amount != c.Unsettled ||
			h.FwdChan != strconv.FormatUint(other, 10) || h.Index != "0" || h.FwdIndex != "0" ||
			h.Expiry == 0 || c.Lifetime == "" || c.Uptime == "" {

			t.Errorf("bob's channel %s as lncli reads it: %+v, unsettled %s", c.Point, h, c.Unsettled)
		}
	}
	_, err = inv.CancelInvoice(ctx, &invoicesrpc.CancelInvoiceMsg{PaymentHash: hash[:]})
	check(t, err)
	<-done
}
