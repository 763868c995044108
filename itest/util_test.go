package itest

import (
	"testing"

	"lnd.xprv/itest/harness"
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
