//go:build lnclicompat

package itest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"lnd.xprv/itest/harness"
)

// startLndBeside starts the lnd named by $LND on the network's btcd and
// returns two ways to run $LNCLI: against that lnd, and against xlnd node
// x. lnd is killed when the test ends; its output is in <net dir>/lnd.out.
func startLndBeside(t *testing.T, nw *harness.Network, x *harness.Node) (lndCLI,
	xlndCLI func(args ...string) ([]byte, error)) {

	t.Helper()
	lndBin, lncliBin := os.Getenv("LND"), os.Getenv("LNCLI")
	if lndBin == "" || lncliBin == "" {
		t.Fatal("set LND and LNCLI to lnd and lncli built from lnd's source")
	}
	btcd := nw.Btcd()
	lndDir := filepath.Join(nw.Dir(), "lnd")
	rpcAddr := freeAddr(t)
	cmd := exec.Command(lndBin, "--lnddir="+lndDir, "--bitcoin.regtest", "--bitcoin.node=btcd",
		"--btcd.rpchost="+btcd.RPCHost(), "--btcd.rpcuser="+btcd.RPCUser(), "--btcd.rpcpass="+btcd.RPCPass(),
		"--btcd.rpccert="+btcd.RPCCertPath(), "--noseedbackup", "--rpclisten="+rpcAddr, "--norest",
		"--listen="+freeAddr(t), "--debuglevel=info")
	logf, err := os.Create(filepath.Join(nw.Dir(), "lnd.out"))
	check(t, err)
	cmd.Stdout, cmd.Stderr = logf, logf
	check(t, cmd.Start())
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
	})
	lndCLI = func(args ...string) ([]byte, error) {
		full := append([]string{"--lnddir=" + lndDir, "--network=regtest", "--rpcserver=" + rpcAddr}, args...)
		return exec.CommandContext(t.Context(), lncliBin, full...).CombinedOutput()
	}
	xlndCLI = func(args ...string) ([]byte, error) {
		full := append([]string{"--rpcserver=" + x.RPCAddr(), "--tlscertpath=" + x.TLSCertPath(),
			"--macaroonpath=" + x.AdminMacaroonPath()}, args...)
		return exec.CommandContext(t.Context(), lncliBin, full...).CombinedOutput()
	}
	return lndCLI, xlndCLI
}
