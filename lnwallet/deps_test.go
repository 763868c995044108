package lnwallet

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoRPCClientDependency checks the layering rule that the channel
// state machine does not depend on a chain backend: nothing under
// lnwallet may pull in btcd's RPC client (or the chain package that wraps
// it).
func TestNoRPCClientDependency(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not in PATH: cannot list dependencies")
	}
	out, err := exec.Command(goBin, "list", "-deps", ".", "./shachain",
		"./chainfee").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps returned only %d packages", len(deps))
	}
	for _, d := range deps {
		if strings.Contains(d, "rpcclient") || d == "lnd.xprv/chain" {
			t.Errorf("lnwallet depends on %s", d)
		}
	}
}
