package regtest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

func testScript(t *testing.T) []byte {
	t.Helper()
	key, err := btcec.NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	addr, err := btcutil.NewAddressWitnessPubKeyHash(
		btcutil.Hash160(key.PubKey().SerializeCompressed()), Params)
	if err != nil {
		t.Fatal(err)
	}
	script, err := txscript.PayToAddrScript(addr)
	if err != nil {
		t.Fatal(err)
	}
	return script
}

func TestMineAndSend(t *testing.T) {
	b := StartBtcd(t)

	// The harness starts with segwit and taproot active.
	info, err := b.Client().GetBlockChainInfo()
	if err != nil {
		t.Fatal(err)
	}
	if !active(info, "segwit") || !active(info, "taproot") {
		t.Fatalf("soft forks not active at height %d", info.Blocks)
	}
	_, h0 := b.BestBlock()
	hashes := b.Mine(3)
	best, h := b.BestBlock()
	if h != h0+3 || best != hashes[2] {
		t.Fatalf("tip %v at %d, want %v at %d", best, h, hashes[2], h0+3)
	}

	// The first payment needs mature coins: the harness mines them.
	script := testScript(t)
	const amt = btcutil.Amount(1_2345_6789)
	tx, err := b.SendTo(script, amt)
	if err != nil {
		t.Fatalf("SendTo: %v", err)
	}
	// Two payments in a row: the second spends the first's change.
	addr, err := btcutil.NewAddressWitnessPubKeyHash(script[2:], Params)
	if err != nil {
		t.Fatal(err)
	}
	tx2, err := b.SendToAddress(addr, amt)
	if err != nil {
		t.Fatalf("second SendTo: %v", err)
	}
	mined := b.Mine(1)
	block, err := b.Client().GetBlock(&mined[0])
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, btx := range block.Transactions {
		if btx.TxHash() == tx.TxHash() || btx.TxHash() == tx2.TxHash() {
			found++
		}
	}
	if found != 2 {
		t.Fatalf("block holds %d of the 2 payments", found)
	}
	for _, ptx := range []*wireTx{{tx.TxHash(), tx.TxOut}, {tx2.TxHash(), tx2.TxOut}} {
		var vout = -1
		for i, out := range ptx.outs {
			if bytes.Equal(out.PkScript, script) && out.Value == int64(amt) {
				vout = i
			}
		}
		if vout < 0 {
			t.Fatalf("tx %v does not pay %v to the script", ptx.hash, amt)
		}
		res, err := b.Client().GetTxOut(&ptx.hash, uint32(vout), false)
		if err != nil || res == nil || res.Confirmations != 1 {
			t.Fatalf("gettxout %v:%d = %+v, %v", ptx.hash, vout, res, err)
		}
	}
}

func TestRestartKeepsChain(t *testing.T) {
	b := StartBtcd(t)
	hashes := b.Mine(5)
	_, h0 := b.BestBlock()

	// Client talks to the public RPC port and stays valid across restarts.
	ext := b.Client()
	if _, err := ext.GetBlockCount(); err != nil {
		t.Fatalf("client: %v", err)
	}

	if err := b.Restart(); err != nil {
		t.Fatalf("restart: %v", err)
	}
	best, h := b.BestBlock()
	if h != h0 || best != hashes[4] {
		t.Fatalf("after restart tip %v at %d, want %v at %d", best, h, hashes[4], h0)
	}
	got, err := ext.GetBestBlockHash()
	if err != nil || *got != hashes[4] {
		t.Fatalf("external client after restart: %v, %v", got, err)
	}
	b.Mine(1)
	if err := b.WaitForHeight(h0+1, 10*time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestInvalidateAndReconsider(t *testing.T) {
	b := StartBtcd(t)
	_, h0 := b.BestBlock()
	hashes := b.Mine(4)
	if err := b.InvalidateBlock(hashes[2]); err != nil {
		t.Fatal(err)
	}
	if best, h := b.BestBlock(); h != h0+2 || best != hashes[1] {
		t.Fatalf("after invalidate tip %v at %d, want %v at %d", best, h, hashes[1], h0+2)
	}
	if err := b.ReconsiderBlock(hashes[2]); err != nil {
		t.Fatal(err)
	}
	if best, h := b.BestBlock(); h != h0+4 || best != hashes[3] {
		t.Fatalf("after reconsider tip %v at %d, want %v at %d", best, h, hashes[3], h0+4)
	}
}

func TestTwoNodesReorg(t *testing.T) {
	a := StartBtcd(t)
	b := StartBtcd(t)
	a.Mine(2)
	long := b.Mine(5)
	_, hb := b.BestBlock()
	if err := a.ConnectNode(b); err != nil {
		t.Fatal(err)
	}
	if err := a.WaitForHeight(hb, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if best, _ := a.BestBlock(); best != long[4] {
		t.Fatalf("a's tip %v, want b's %v", best, long[4])
	}
}

func TestMissingBinary(t *testing.T) {
	_, err := Start(Config{BinDir: t.TempDir()})
	if err == nil || !errorsIs(err, ErrNoBinary) {
		t.Fatalf("Start with no binary: %v, want ErrNoBinary", err)
	}
}

type wireTx struct {
	hash chainhash.Hash
	outs []*wire.TxOut
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// fakeTB records cleanups and logs, and claims the test failed or not.
type fakeTB struct {
	*testing.T
	failed   bool
	cleanups []func()
	logs     []string
}

func (f *fakeTB) Cleanup(fn func())       { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) Failed() bool            { return f.failed }
func (f *fakeTB) Logf(s string, a ...any) { f.logs = append(f.logs, fmt.Sprintf(s, a...)) }
func (f *fakeTB) runCleanups() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

func TestCleanupKeepsLogsOnFailure(t *testing.T) {
	for _, failed := range []bool{false, true} {
		tb := &fakeTB{T: t, failed: failed}
		b := StartBtcd(tb)
		dir := b.Dir()
		b.Mine(1)
		tb.runCleanups()

		if c, err := net.Dial("tcp", b.RPCHost()); err == nil {
			c.Close()
			t.Fatal("RPC port still open after cleanup")
		}
		if _, err := b.Generate(1); !errors.Is(err, ErrStopped) {
			t.Fatalf("generate after cleanup: %v, want ErrStopped", err)
		}
		_, statErr := os.Stat(filepath.Join(dir, "btcd.out"))
		if failed {
			if statErr != nil {
				t.Fatalf("failed test: logs not kept: %v", statErr)
			}
			if len(tb.logs) != 1 || !strings.Contains(tb.logs[0], dir) {
				t.Fatalf("failed test: log lines %q do not name %s", tb.logs, dir)
			}
			os.RemoveAll(dir)
		} else if !os.IsNotExist(statErr) {
			t.Fatalf("passed test: dir %s not removed (%v)", dir, statErr)
		}
	}
}

func TestSendToErrors(t *testing.T) {
	b := StartBtcd(t)
	script := testScript(t)
	if _, err := b.SendTo(script, 0); err == nil {
		t.Fatal("zero amount accepted")
	}
	if _, err := b.SendTo(script, btcutil.MaxSatoshi); !errors.Is(err, ErrInsufficientFunds) {
		t.Fatalf("paying 21M BTC: %v, want ErrInsufficientFunds", err)
	}
	if _, err := b.SendToAddress(b.MinerAddress(), 1000); err != nil {
		t.Fatalf("regtest address: %v", err)
	}
}
