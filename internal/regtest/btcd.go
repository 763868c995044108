package regtest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcjson"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/rpcclient"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// Params are the chain parameters every harness node runs with.
var Params = &chaincfg.RegressionNetParams

// Errors callers branch on.
var (
	// ErrNoBinary: btcd is not built where the harness looks for it.
	ErrNoBinary = errors.New("binary not found (run make build)")

	// ErrStopped: the node is not running.
	ErrStopped = errors.New("btcd is not running")
)

// Defaults.
const (
	// DefaultStartTimeout bounds how long Start waits for the RPC server.
	DefaultStartTimeout = 60 * time.Second

	// DefaultStopTimeout bounds a graceful shutdown before the process is
	// killed.
	DefaultStopTimeout = 20 * time.Second

	// CoinbaseMaturity is the number of confirmations a coinbase output
	// needs before it can be spent (regtest uses mainnet's 100).
	CoinbaseMaturity = 100
)

// Config describes a btcd to start. The zero value is usable.
type Config struct {
	// BinDir holds the btcd binary; empty means $XLND_BIN_DIR, else
	// <module root>/bin.
	BinDir string

	// Dir is the node's directory (data, logs, cert). Empty means a fresh
	// temporary directory that Close removes.
	Dir string

	// NoTxIndex starts btcd without --txindex, to test code that must
	// work without it.
	NoTxIndex bool

	// DebugLevel is btcd's --debuglevel; empty means "info".
	DebugLevel string

	// ExtraArgs are appended to btcd's command line.
	ExtraArgs []string

	// FeeRate is what SendTo pays, in sat/vbyte; zero means 10.
	FeeRate btcutil.Amount
}

// Option changes a Config.
type Option func(*Config)

// WithoutTxIndex starts btcd without --txindex.
func WithoutTxIndex() Option { return func(c *Config) { c.NoTxIndex = true } }

// WithArgs appends arguments to btcd's command line.
func WithArgs(args ...string) Option {
	return func(c *Config) { c.ExtraArgs = append(c.ExtraArgs, args...) }
}

// WithDebugLevel sets btcd's --debuglevel.
func WithDebugLevel(level string) Option {
	return func(c *Config) { c.DebugLevel = level }
}

// Btcd is one btcd process on regtest, and the miner wallet that spends its
// coinbase outputs.
type Btcd struct {
	cfg     Config
	bin     string
	dir     string
	ownDir  bool
	rpcAddr string    // btcd's own RPC port, used by the harness
	proxy   *rpcProxy // the RPC port clients see (RPCHost)
	p2pAddr string
	user    string
	pass    string

	minerKey    *btcec.PrivateKey
	minerAddr   btcutil.Address
	minerScript []byte

	tb testing.TB // set by StartBtcd; Mine reports errors through it

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd exits
	logOut *os.File
	client *rpcclient.Client // the harness's own, on btcd's real port
	ext    *rpcclient.Client // Client(), through the proxy
	closed bool              // Stop was called

	wallet wallet
}

// StartBtcd starts a btcd for the test and stops it (removing its directory
// unless the test failed) at cleanup. It fails the test if btcd cannot
// start, in particular if it is not built.
//
// Under -short (make unit: no processes) the test is skipped.
func StartBtcd(t testing.TB, opts ...Option) *Btcd {
	t.Helper()
	if testing.Short() {
		t.Skip("starts btcd: not run with -short")
	}
	var cfg Config
	for _, o := range opts {
		o(&cfg)
	}
	b, err := Start(cfg)
	if err != nil {
		t.Fatalf("regtest: %v", err)
	}
	b.tb = t
	t.Cleanup(func() {
		if err := b.Stop(); err != nil {
			t.Errorf("regtest: stop btcd: %v", err)
		}
		if t.Failed() {
			t.Logf("regtest: btcd logs kept in %s", b.dir)
			return
		}
		if b.ownDir {
			if err := os.RemoveAll(b.dir); err != nil {
				t.Errorf("regtest: remove %s: %v", b.dir, err)
			}
		}
	})
	return b
}

// Start starts a btcd and waits until its RPC server answers. Call Close
// (or Stop) when done.
func Start(cfg Config) (*Btcd, error) {
	bin, err := findBinary(cfg.BinDir, "btcd")
	if err != nil {
		return nil, err
	}
	if cfg.FeeRate == 0 {
		cfg.FeeRate = 10
	}
	b := &Btcd{cfg: cfg, bin: bin, dir: cfg.Dir}
	if b.dir == "" {
		b.dir, err = os.MkdirTemp("", "xlnd-btcd-")
		if err != nil {
			return nil, fmt.Errorf("regtest: temp dir: %w", err)
		}
		b.ownDir = true
	} else if err := os.MkdirAll(b.dir, 0o700); err != nil {
		return nil, fmt.Errorf("regtest: %w", err)
	}

	b.user = "user-" + randHex(4)
	b.pass = randHex(16)
	b.minerKey, err = btcec.NewPrivateKey()
	if err != nil {
		return nil, err
	}
	b.minerAddr, err = btcutil.NewAddressWitnessPubKeyHash(
		btcutil.Hash160(b.minerKey.PubKey().SerializeCompressed()), Params)
	if err != nil {
		return nil, err
	}
	b.minerScript, err = txscript.PayToAddrScript(b.minerAddr)
	if err != nil {
		return nil, err
	}
	b.wallet.init()

	b.proxy, err = newRPCProxy()
	if err != nil {
		return nil, fmt.Errorf("regtest: rpc proxy: %w", err)
	}
	if err := b.start(false); err != nil {
		b.proxy.close()
		if b.ownDir {
			// Keep the logs of a node that never came up.
			err = fmt.Errorf("%w (logs in %s)", err, b.dir)
		}
		return nil, err
	}
	if err := b.activateSoftForks(); err != nil {
		b.Stop()
		return nil, err
	}
	b.proxy.up(b.rpcAddr)
	return b, nil
}

// activateSoftForks mines until segwit and taproot are active: their BIP 9
// deployments start at genesis on regtest and need three 144-block windows.
func (b *Btcd) activateSoftForks() error {
	c, err := b.rpc()
	if err != nil {
		return err
	}
	window := int32(Params.MinerConfirmationWindow)
	for i := 0; i < 5; i++ {
		info, err := c.GetBlockChainInfo()
		if err != nil {
			return fmt.Errorf("regtest: getblockchaininfo: %w", err)
		}
		if active(info, "segwit") && active(info, "taproot") {
			return nil
		}
		// Mine to the last block of the current window.
		n := window - (info.Blocks+1)%window
		if _, err := b.Generate(int(n)); err != nil {
			return err
		}
	}
	return errors.New("regtest: segwit/taproot did not activate")
}

func active(info *btcjson.GetBlockChainInfoResult, fork string) bool {
	if info.UnifiedSoftForks != nil {
		if f, ok := info.UnifiedSoftForks.SoftForks[fork]; ok &&
			f.BIP9SoftForkDescription != nil {
			return f.BIP9SoftForkDescription.Status == "active"
		}
	}
	if info.SoftForks != nil {
		if f, ok := info.SoftForks.Bip9SoftForks[fork]; ok {
			return f.Status == "active"
		}
	}
	return false
}

var errExited = errors.New("btcd exited")

// args is btcd's command line.
func (b *Btcd) args() []string {
	level := b.cfg.DebugLevel
	if level == "" {
		level = "info"
	}
	args := []string{
		"--regtest",
		"--datadir=" + filepath.Join(b.dir, "data"),
		"--logdir=" + filepath.Join(b.dir, "logs"),
		"--listen=" + b.p2pAddr,
		"--rpclisten=" + b.rpcAddr,
		"--rpcuser=" + b.user,
		"--rpcpass=" + b.pass,
		"--rpccert=" + b.RPCCertPath(),
		"--rpckey=" + filepath.Join(b.dir, "rpc.key"),
		"--miningaddr=" + b.minerAddr.EncodeAddress(),
		"--debuglevel=" + level,
		"--nobanning",
		"--nostalldetect",
		"--maxorphantx=0",
	}
	if !b.cfg.NoTxIndex {
		args = append(args, "--txindex")
	}
	return append(args, b.cfg.ExtraArgs...)
}

// start launches the process on fresh loopback ports (keeping the P2P port
// if keepP2P) and waits for its RPC server. Ports are picked by binding and
// releasing them, so another process may grab one first: then btcd exits
// and start retries with new ones.
func (b *Btcd) start(keepP2P bool) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if !keepP2P || attempt > 0 {
			if b.p2pAddr, err = freeAddr(); err != nil {
				return err
			}
		}
		if b.rpcAddr, err = freeAddr(); err != nil {
			return err
		}
		err = b.startOnce()
		if !errors.Is(err, errExited) {
			return err
		}
	}
	return err
}

func (b *Btcd) startOnce() error {
	out, err := os.OpenFile(filepath.Join(b.dir, "btcd.out"),
		os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("regtest: %w", err)
	}
	cmd := exec.Command(b.bin, b.args()...)
	cmd.Stdout = out
	cmd.Stderr = out
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("regtest: start btcd: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()

	b.mu.Lock()
	b.cmd, b.exited, b.logOut = cmd, exited, out
	b.mu.Unlock()

	if err := b.waitRPC(exited); err != nil {
		_ = b.stopProcess()
		return err
	}
	return nil
}

// waitRPC polls the RPC server until it answers or the process exits.
func (b *Btcd) waitRPC(exited <-chan struct{}) error {
	deadline := time.Now().Add(DefaultStartTimeout)
	var lastErr error
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("%w before its RPC server answered: %s",
				errExited, b.logTail())
		default:
		}
		if _, err := os.Stat(b.RPCCertPath()); err == nil {
			c, err := b.newClient()
			if err == nil {
				_, err = c.GetBlockCount()
				if err == nil {
					b.mu.Lock()
					b.client = c
					b.mu.Unlock()
					return nil
				}
				c.Shutdown()
			}
			lastErr = err
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("regtest: btcd RPC did not answer within %v: %v",
		DefaultStartTimeout, lastErr)
}

func (b *Btcd) logTail() string {
	data, _ := os.ReadFile(filepath.Join(b.dir, "btcd.out"))
	if len(data) > 2000 {
		data = data[len(data)-2000:]
	}
	return string(bytes.TrimSpace(data))
}

// newClient is an HTTP POST client: it needs no reconnect across restarts.
func (b *Btcd) newClient() (*rpcclient.Client, error) {
	cert, err := os.ReadFile(b.RPCCertPath())
	if err != nil {
		return nil, err
	}
	return rpcclient.New(&rpcclient.ConnConfig{
		Host:         b.rpcAddr,
		User:         b.user,
		Pass:         b.pass,
		Certificates: cert,
		HTTPPostMode: true,
	}, nil)
}

// Stop stops btcd gracefully (killing it after DefaultStopTimeout) and
// closes its RPC port. The directory stays until Close. Safe to call more
// than once.
func (b *Btcd) Stop() error {
	b.mu.Lock()
	b.closed = true
	ext := b.ext
	b.ext = nil
	b.mu.Unlock()
	if ext != nil {
		ext.Shutdown()
	}
	b.proxy.close()
	return b.stopProcess()
}

func (b *Btcd) stopProcess() error {
	b.mu.Lock()
	cmd, exited, out, client := b.cmd, b.exited, b.logOut, b.client
	b.cmd, b.exited, b.logOut, b.client = nil, nil, nil, nil
	b.mu.Unlock()
	if client != nil {
		client.Shutdown()
	}
	if cmd == nil {
		return nil
	}
	defer out.Close()

	var err error
	select {
	case <-exited:
		err = fmt.Errorf("regtest: btcd had exited: %s", cmd.ProcessState)
	default:
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(DefaultStopTimeout):
			_ = cmd.Process.Kill()
			<-exited
			err = errors.New("regtest: btcd did not stop in time; killed")
		}
	}
	return err
}

// Close stops btcd and removes its directory if the harness created it.
func (b *Btcd) Close() error {
	err := b.Stop()
	if b.ownDir {
		if rmErr := os.RemoveAll(b.dir); err == nil {
			err = rmErr
		}
	}
	return err
}

// Restart stops btcd and starts it again with the same directory, P2P port,
// RPC address and credentials. btcd wipes a regtest chain when it starts, so
// the harness feeds it its blocks back before clients can reach it again:
// they see a node that went away and came back with its chain (and, as
// btcd keeps no mempool on disk, an empty mempool).
func (b *Btcd) Restart() error {
	blocks, err := b.chainBlocks()
	if err != nil {
		return fmt.Errorf("regtest: save chain before restart: %w", err)
	}
	b.proxy.down()
	if err := b.stopProcess(); err != nil {
		return err
	}
	if err := b.start(true); err != nil {
		return err
	}
	c, err := b.rpc()
	if err != nil {
		return err
	}
	for _, blk := range blocks {
		if err := c.SubmitBlock(btcutil.NewBlock(blk), nil); err != nil {
			return fmt.Errorf("regtest: reload block %v: %w", blk.BlockHash(), err)
		}
	}
	if len(blocks) > 0 {
		want := blocks[len(blocks)-1].BlockHash()
		if best, _, err := c.GetBestBlock(); err != nil || *best != want {
			return fmt.Errorf("regtest: chain not restored: tip %v, want %v (%v)",
				best, want, err)
		}
	}
	b.proxy.up(b.rpcAddr)
	return nil
}

// chainBlocks returns the best chain's blocks above genesis, in order.
func (b *Btcd) chainBlocks() ([]*wire.MsgBlock, error) {
	c, err := b.rpc()
	if err != nil {
		return nil, err
	}
	_, tip, err := c.GetBestBlock()
	if err != nil {
		return nil, err
	}
	blocks := make([]*wire.MsgBlock, 0, tip)
	for h := int32(1); h <= tip; h++ {
		hash, err := c.GetBlockHash(int64(h))
		if err != nil {
			return nil, err
		}
		blk, err := c.GetBlock(hash)
		if err != nil {
			return nil, err
		}
		blocks = append(blocks, blk)
	}
	return blocks, nil
}

// Dir is the node's directory (data, logs, RPC cert).
func (b *Btcd) Dir() string { return b.dir }

// RPCHost is the RPC server's host:port.
func (b *Btcd) RPCHost() string { return b.proxy.addr() }

// RPCUser is the RPC user name.
func (b *Btcd) RPCUser() string { return b.user }

// RPCPass is the RPC password.
func (b *Btcd) RPCPass() string { return b.pass }

// RPCCertPath is the path of the RPC server's TLS certificate.
func (b *Btcd) RPCCertPath() string { return filepath.Join(b.dir, "rpc.cert") }

// RPCCert is the RPC server's TLS certificate (PEM).
func (b *Btcd) RPCCert() []byte {
	cert, err := os.ReadFile(b.RPCCertPath())
	if err != nil {
		b.fatalf("read RPC cert: %v", err)
	}
	return cert
}

// P2PAddr is the peer-to-peer listening host:port.
func (b *Btcd) P2PAddr() string { return b.p2pAddr }

// MinerAddress is the address coinbase outputs pay to.
func (b *Btcd) MinerAddress() btcutil.Address { return b.minerAddr }

// Client is an RPC client (HTTP POST mode) on the public RPC port. It stays
// valid across Restart (calls fail while btcd is down) and is shut down by
// Stop.
func (b *Btcd) Client() *rpcclient.Client {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		b.fatalf("%v", ErrStopped)
	}
	if b.ext == nil {
		cert, err := os.ReadFile(b.RPCCertPath())
		if err == nil {
			b.ext, err = rpcclient.New(&rpcclient.ConnConfig{
				Host:         b.proxy.addr(),
				User:         b.user,
				Pass:         b.pass,
				Certificates: cert,
				HTTPPostMode: true,
			}, nil)
		}
		if err != nil {
			b.fatalf("client: %v", err)
		}
	}
	return b.ext
}

func (b *Btcd) rpc() (*rpcclient.Client, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.client == nil {
		return nil, ErrStopped
	}
	return b.client, nil
}

// Generate mines n blocks to the miner key and returns their hashes.
func (b *Btcd) Generate(n int) ([]chainhash.Hash, error) {
	c, err := b.rpc()
	if err != nil {
		return nil, err
	}
	if n <= 0 {
		return nil, nil
	}
	hashes, err := c.Generate(uint32(n))
	if err != nil {
		return nil, fmt.Errorf("regtest: generate %d: %w", n, err)
	}
	out := make([]chainhash.Hash, len(hashes))
	for i, h := range hashes {
		out[i] = *h
	}
	if len(out) != n {
		return out, fmt.Errorf("regtest: generate %d returned %d blocks", n, len(out))
	}
	// generate returns once the blocks are processed; check they are the
	// tip rather than trust it.
	best, _, err := c.GetBestBlock()
	if err != nil {
		return out, err
	}
	if *best != out[n-1] {
		return out, fmt.Errorf("regtest: mined %v but tip is %v", out[n-1], best)
	}
	return out, nil
}

// Mine mines n blocks and returns their hashes; they are the tip on return.
// It fails the test on error (outside a test it panics: use Generate).
func (b *Btcd) Mine(n int) []chainhash.Hash {
	hashes, err := b.Generate(n)
	if err != nil {
		b.fatalf("%v", err)
	}
	return hashes
}

// BestBlock returns the tip's hash and height (zero values if the node is
// unreachable, failing the test when run from StartBtcd).
func (b *Btcd) BestBlock() (chainhash.Hash, int32) {
	c, err := b.rpc()
	if err != nil {
		b.fatalf("%v", err)
		return chainhash.Hash{}, 0
	}
	h, height, err := c.GetBestBlock()
	if err != nil {
		b.fatalf("best block: %v", err)
		return chainhash.Hash{}, 0
	}
	return *h, height
}

// WaitForHeight waits until the tip is at least height h.
func (b *Btcd) WaitForHeight(h int32, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := b.rpc()
		if err != nil {
			return err
		}
		_, height, err := c.GetBestBlock()
		if err == nil && height >= h {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("regtest: height %d not reached in %v (at %d, err %v)",
				h, timeout, height, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// InvalidateBlock marks a block invalid, disconnecting it and its
// descendants; their transactions go back to the mempool.
func (b *Btcd) InvalidateBlock(h chainhash.Hash) error {
	c, err := b.rpc()
	if err != nil {
		return err
	}
	return c.InvalidateBlock(&h)
}

// ReconsiderBlock undoes InvalidateBlock.
func (b *Btcd) ReconsiderBlock(h chainhash.Hash) error {
	c, err := b.rpc()
	if err != nil {
		return err
	}
	return c.ReconsiderBlock(&h)
}

// ConnectNode makes b connect to other over P2P and waits until the peer is
// up. The two then sync to the chain with the most work.
func (b *Btcd) ConnectNode(other *Btcd) error {
	c, err := b.rpc()
	if err != nil {
		return err
	}
	if err := c.AddNode(other.P2PAddr(), rpcclient.ANAdd); err != nil {
		return fmt.Errorf("regtest: addnode %s: %w", other.P2PAddr(), err)
	}
	deadline := time.Now().Add(DefaultStartTimeout)
	for time.Now().Before(deadline) {
		peers, err := c.GetPeerInfo()
		if err == nil {
			for _, p := range peers {
				if p.Addr == other.P2PAddr() && p.Version != 0 {
					return nil
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("regtest: no connection to %s", other.P2PAddr())
}

// DisconnectNode drops the connection ConnectNode made, so the two nodes
// can mine competing chains.
func (b *Btcd) DisconnectNode(other *Btcd) error {
	c, err := b.rpc()
	if err != nil {
		return err
	}
	if err := c.AddNode(other.P2PAddr(), rpcclient.ANRemove); err != nil {
		return fmt.Errorf("regtest: addnode remove %s: %w", other.P2PAddr(), err)
	}
	deadline := time.Now().Add(DefaultStartTimeout)
	for time.Now().Before(deadline) {
		peers, err := c.GetPeerInfo()
		if err == nil {
			connected := false
			for _, p := range peers {
				connected = connected || p.Addr == other.P2PAddr()
			}
			if !connected {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("regtest: still connected to %s", other.P2PAddr())
}

func (b *Btcd) fatalf(format string, args ...any) {
	if b.tb != nil {
		b.tb.Helper()
		b.tb.Fatalf("regtest: "+format, args...)
	}
	panic(fmt.Sprintf("regtest: "+format, args...))
}

// findBinary locates name in dir, $XLND_BIN_DIR or <module root>/bin.
func findBinary(dir, name string) (string, error) {
	d, err := BinDir(dir, name)
	if err != nil {
		return "", err
	}
	return filepath.Join(d, name), nil
}

// BinDir returns the directory holding every named binary: dir if given,
// else $XLND_BIN_DIR (set by the Makefile), else <module root>/bin. It
// builds nothing: a missing binary is ErrNoBinary.
func BinDir(dir string, names ...string) (string, error) {
	if dir == "" {
		dir = os.Getenv("XLND_BIN_DIR")
	}
	if dir == "" {
		root, err := ModuleRoot()
		if err != nil {
			return "", fmt.Errorf("%w: %v", ErrNoBinary, err)
		}
		dir = filepath.Join(root, "bin")
	}
	for _, name := range names {
		path := filepath.Join(dir, name)
		if fi, err := os.Stat(path); err != nil || fi.IsDir() {
			return "", fmt.Errorf("%w: no %s", ErrNoBinary, path)
		}
	}
	return dir, nil
}

// ModuleRoot is the directory of the go.mod above the working directory.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("regtest: free port: %w", err)
	}
	defer l.Close()
	return net.JoinHostPort("127.0.0.1",
		strconv.Itoa(l.Addr().(*net.TCPAddr).Port)), nil
}

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)
}
