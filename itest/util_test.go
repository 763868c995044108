package itest

import (
	"encoding/hex"
	"fmt"
	"testing"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
)

// startNode adds a node with no wallet password, starts it, and fails the
// test if it does not come up.
func startNode(t *testing.T, nw *harness.Network, name string, args ...string) *harness.Node {
	t.Helper()
	node, err := nw.NewNode(name, args...)
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	return node
}

// check fails the test on err.
func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// waitPaymentStatus waits until node lists its payment of hash with
// status want, and returns it.
func waitPaymentStatus(t *testing.T, node *harness.Node, hash [32]byte,
	want lnrpc.Payment_PaymentStatus) *lnrpc.Payment {

	t.Helper()
	var found *lnrpc.Payment
	check(t, harness.WaitFor(func() error {
		resp, err := node.RPC.ListPayments(t.Context(), &lnrpc.ListPaymentsRequest{IncludeIncomplete: true})
		if err != nil {
			return err
		}
		for _, p := range resp.Payments {
			if p.PaymentHash == hex.EncodeToString(hash[:]) {
				if p.Status != want {
					return fmt.Errorf("%s's payment %x is %v, want %v", node.Name(), hash, p.Status, want)
				}
				found = p
				return nil
			}
		}
		return fmt.Errorf("%s has no payment %x", node.Name(), hash)
	}, harness.SyncTimeout))
	return found
}
