package itest

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/invoicesrpc"
)

// cheaterDir is where the breachtest build of xlnd takes its orders.
func cheaterDir(n *harness.Node) string { return filepath.Join(n.DataDir(), "breachtest") }

// saveCommitment has the cheater write its current commitment and
// returns it.
func saveCommitment(t *testing.T, n *harness.Node, point string) *wire.MsgTx {
	t.Helper()
	dir := cheaterDir(n)
	before := map[string]bool{}
	files, _ := filepath.Glob(filepath.Join(dir, "*.hex"))
	for _, f := range files {
		before[f] = true
	}
	check(t, os.WriteFile(filepath.Join(dir, "save"), nil, 0o600))
	var found *wire.MsgTx
	check(t, harness.WaitFor(func() error {
		files, _ := filepath.Glob(filepath.Join(dir, "*.hex"))
		for _, f := range files {
			if before[f] {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			raw, err := hex.DecodeString(strings.TrimSpace(string(b)))
			if err != nil {
				return err
			}
			tx := new(wire.MsgTx)
			if err := tx.Deserialize(bytes.NewReader(raw)); err != nil {
				return err
			}
			if tx.TxIn[0].PreviousOutPoint == parseOutPoint(t, point) {
				found = tx
				return nil
			}
		}
		return fmt.Errorf("%s saved no commitment of %s", n.Name(), point)
	}, harness.SyncTimeout))
	return found
}

// sendHeld has the cheater pay a hold invoice of its peer, and waits
// until the peer holds the HTLC.
func sendHeld(t *testing.T, cheater, peer *harness.Node, inv invoicesrpc.InvoicesClient,
	point string, amt int64) [32]byte {

	t.Helper()
	var pre [32]byte
	_, err := rand.Read(pre[:])
	check(t, err)
	hash := sha256.Sum256(pre[:])
	ctx := t.Context()
	_, err = inv.AddHoldInvoice(ctx, &invoicesrpc.AddHoldInvoiceRequest{Hash: hash[:], Value: amt, CltvExpiry: 80})
	check(t, err)
	got, err := peer.RPC.LookupInvoice(ctx, &lnrpc.PaymentHash{RHash: hash[:]})
	check(t, err)
	info, err := cheater.Info()
	check(t, err)
	req, err := json.Marshal(map[string]any{"chan_point": point, "amt_msat": amt * 1000,
		"payment_hash": hex.EncodeToString(hash[:]), "payment_addr": hex.EncodeToString(got.PaymentAddr),
		"expiry": info.BlockHeight + 100})
	check(t, err)
	check(t, os.WriteFile(filepath.Join(cheaterDir(cheater), "send"), req, 0o600))
	check(t, harness.WaitFor(func() error {
		i, err := peer.RPC.LookupInvoice(ctx, &lnrpc.PaymentHash{RHash: hash[:]})
		if err != nil {
			return err
		}
		if i.State != lnrpc.Invoice_ACCEPTED {
			return fmt.Errorf("invoice %v", i.State)
		}
		return nil
	}, harness.SyncTimeout))
	return pre
}

// waitRemoteBalance waits until n's commitment of point gives its peer
// want.
func waitRemoteBalance(t *testing.T, n *harness.Node, point string, want int64) {
	t.Helper()
	check(t, harness.WaitFor(func() error {
		c := waitActive(t, n, point)
		if c.RemoteBalance != want {
			return fmt.Errorf("%s: remote balance %d, want %d", n.Name(), c.RemoteBalance, want)
		}
		return nil
	}, harness.SyncTimeout))
}

// TestBreach: mallory (the breachtest build) keeps an old commitment of
// her channel with alice, the channel moves on (a payment settles), and
// she broadcasts the revoked commitment, without and with an HTLC in
// flight. Alice's justice transaction takes every output but the
// anchors, and her wallet gains all of it less the justice fee; the
// channel ends closed as a breach.
func TestBreach(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	mallory, err := nw.AddNode(harness.NodeConfig{Name: "mallory", Binary: "xlnd-breach"})
	if err != nil {
		t.Fatal(err)
	}
	if err := mallory.Start(); err != nil {
		t.Fatalf("start the breachtest build (make build makes bin/xlnd-breach): %v", err)
	}
	check(t, nw.Fund(mallory, 5_000_000))
	check(t, nw.ConnectNodes(mallory, alice, false))
	conn, err := alice.Conn(alice.AdminMacaroonPath())
	check(t, err)
	inv := invoicesrpc.NewInvoicesClient(conn)

	for _, withHTLC := range []bool{false, true} {
		t.Run(fmt.Sprintf("htlc=%v", withHTLC), func(t *testing.T) {
			point, _, ac := openActiveBoth(t, nw, mallory, alice, lnrpc.CommitmentType_ANCHORS)
			var revoked *wire.MsgTx
			if !withHTLC {
				revoked = saveCommitment(t, mallory, point)
			}
			pre := sendHeld(t, mallory, alice, inv, point, 200_000)
			if withHTLC {
				revoked = saveCommitment(t, mallory, point)
			}
			// The channel moves on: alice settles, revoking the
			// saved state.
			_, err := inv.SettleInvoice(t.Context(), &invoicesrpc.SettleInvoiceMsg{Preimage: pre[:]})
			check(t, err)
			waitRemoteBalance(t, mallory, point, chanPush+200_000)
			waitRemoteBalance(t, alice, point, ac.RemoteBalance-200_000)
			wantOuts := 3 // to_local, to_remote, and the HTLC
			if !withHTLC {
				wantOuts = 2
			}
			var taken int64
			for _, o := range revoked.TxOut {
				if o.Value != 330 {
					taken += o.Value
				}
			}
			if n := len(revoked.TxOut) - 2; n != wantOuts {
				t.Fatalf("revoked commitment has %d outputs besides the anchors", n)
			}
			aliceBefore := confirmedBalance(t, alice)
			events := subscribeEvents(t, alice)

			// Mallory cheats.
			_, err = nw.Btcd().Client().SendRawTransaction(revoked, true)
			check(t, err)
			_, err = nw.Mine(1)
			check(t, err)
			var main wire.OutPoint
			for i, o := range revoked.TxOut {
				if o.Value != 330 {
					main = wire.OutPoint{Hash: revoked.TxHash(), Index: uint32(i)}
				}
			}
			justice := waitSpender(t, nw, main)
			if len(justice.Tx.TxIn) != wantOuts {
				t.Fatalf("justice tx spends %d outputs, want %d", len(justice.Tx.TxIn), wantOuts)
			}
			for _, in := range justice.Tx.TxIn {
				if in.PreviousOutPoint.Hash != revoked.TxHash() ||
					revoked.TxOut[in.PreviousOutPoint.Index].Value == 330 {
					t.Fatalf("justice tx spends %v", in.PreviousOutPoint)
				}
			}
			// lnd's events: inactive, closed as a breach once the
			// revoked commitment confirms, fully resolved once the
			// justice transaction does.
			events.expect(point, lnrpc.ChannelEventUpdate_INACTIVE_CHANNEL)
			sum := events.expect(point, lnrpc.ChannelEventUpdate_CLOSED_CHANNEL).GetClosedChannel()
			if sum.CloseType != lnrpc.ChannelCloseSummary_BREACH_CLOSE ||
				sum.ClosingTxHash != revoked.TxHash().String() {
				t.Fatalf("closed channel event %v", sum)
			}
			_, err = nw.Mine(1)
			check(t, err)
			events.expect(point, lnrpc.ChannelEventUpdate_FULLY_RESOLVED_CHANNEL)
			waitResolved(t, alice, point)
			if got := confirmedBalance(t, alice) - aliceBefore; got != taken-justice.Fee {
				t.Fatalf("alice gained %d, want %d less a fee of %d", got, taken, justice.Fee)
			}
		})
	}
}
