package harness

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/internal/regtest"
	"lnd.xprv/rpc/lnrpc"
)

// ErrNoBinary: a binary the harness needs is not built.
var ErrNoBinary = regtest.ErrNoBinary

// Timeouts. The machine running the tests may be loaded (CI, other jobs):
// they bound a hang, they are not performance goals.
const (
	// StartTimeout bounds how long a node takes to answer over gRPC and
	// reach the state it is started for.
	StartTimeout = 90 * time.Second

	// StopTimeout bounds a graceful shutdown (StopDaemon, then SIGTERM)
	// before the process is killed.
	StopTimeout = 30 * time.Second

	// SyncTimeout bounds waits for nodes to see blocks, balances and peers.
	SyncTimeout = 60 * time.Second

	// LogTailLines is how many lines of each node's log a failed test
	// prints.
	LogTailLines = 60
)

// Config describes a Network. The zero value is usable.
type Config struct {
	// Dir holds everything the network writes (btcd and one directory per
	// node). Empty means a fresh temporary directory.
	Dir string

	// BinDir holds xlnd, xlncli and btcd. Empty means $XLND_BIN_DIR, else
	// <module root>/bin.
	BinDir string

	// DebugLevel is every node's --debuglevel; empty means "debug".
	DebugLevel string

	// Logf reports progress (nil: silent).
	Logf func(format string, args ...any)
}

// Network is one btcd on regtest and the xlnd nodes using it.
type Network struct {
	cfg    Config
	dir    string
	binDir string
	btcd   *regtest.Btcd

	mu     sync.Mutex
	nodes  []*Node
	closed bool
}

// New starts a network for a test: a btcd on regtest in a directory of its
// own. At cleanup every process is stopped; the directory is removed if the
// test passed and kept, with its path and every node's log tail written to
// the test output, if it failed. It fails the test if btcd cannot start.
//
// Under -short (make unit: no processes) the test is skipped.
func New(t testing.TB) *Network {
	t.Helper()
	if testing.Short() {
		t.Skip("itest: starts btcd and xlnd processes; not run with -short")
	}
	dir, err := os.MkdirTemp("", "xlnd-itest-"+sanitize(t.Name())+"-")
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	n, err := NewNetwork(Config{Dir: dir, Logf: t.Logf})
	if err != nil {
		if errors.Is(err, ErrNoBinary) {
			os.RemoveAll(dir) // nothing ran
		} else {
			t.Logf("harness: files kept in %s", dir)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Stop(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			for _, node := range n.Nodes() {
				t.Logf("harness: last %d lines of %s's output %s (log file %s):\n%s",
					LogTailLines, node.Name(), node.OutputPath(), node.LogPath(),
					node.LogTail(LogTailLines))
			}
			t.Logf("harness: test failed; every file is kept in %s", n.Dir())
			return
		}
		if err := os.RemoveAll(n.Dir()); err != nil {
			t.Errorf("harness: remove %s: %v", n.Dir(), err)
		}
	})
	return n
}

// NewNetwork starts a btcd on regtest (segwit and taproot active). Close it
// when done.
func NewNetwork(cfg Config) (*Network, error) {
	binDir, err := regtest.BinDir(cfg.BinDir, "xlnd", "xlncli", "btcd")
	if err != nil {
		return nil, err
	}
	if cfg.DebugLevel == "" {
		cfg.DebugLevel = "debug"
	}
	n := &Network{cfg: cfg, dir: cfg.Dir, binDir: binDir}
	if n.dir == "" {
		if n.dir, err = os.MkdirTemp("", "xlnd-itest-"); err != nil {
			return nil, fmt.Errorf("harness: %w", err)
		}
	} else if err := os.MkdirAll(n.dir, 0o700); err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	n.logf("starting btcd in %s", filepath.Join(n.dir, "btcd"))
	n.btcd, err = regtest.Start(regtest.Config{
		BinDir: binDir,
		Dir:    filepath.Join(n.dir, "btcd"),
	})
	if err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	return n, nil
}

func (n *Network) logf(format string, args ...any) {
	if n.cfg.Logf != nil {
		n.cfg.Logf("harness: "+format, args...)
	}
}

// Dir is the directory holding btcd's and every node's files.
func (n *Network) Dir() string { return n.dir }

// BinDir is where the xlnd, xlncli and btcd binaries are.
func (n *Network) BinDir() string { return n.binDir }

// Btcd is the chain backend.
func (n *Network) Btcd() *regtest.Btcd { return n.btcd }

// Nodes lists the nodes in the order they were added.
func (n *Network) Nodes() []*Node {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]*Node(nil), n.nodes...)
}

// NewNode adds a node with a wallet that has no password (--noseedbackup),
// starts it and waits until its server is active. extraArgs are appended to
// xlnd's command line.
func (n *Network) NewNode(name string, extraArgs ...string) (*Node, error) {
	node, err := n.AddNode(NodeConfig{Name: name, ExtraArgs: extraArgs})
	if err != nil {
		return nil, err
	}
	if err := node.Start(); err != nil {
		return nil, err
	}
	return node, nil
}

// AddNode adds a node without starting it: its directory and ports are
// fixed from now on.
func (n *Network) AddNode(cfg NodeConfig) (*Node, error) {
	if cfg.Name == "" || sanitize(cfg.Name) != cfg.Name {
		return nil, fmt.Errorf("harness: node name %q: use letters, digits, - and _", cfg.Name)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, errors.New("harness: network is stopped")
	}
	for _, other := range n.nodes {
		if other.cfg.Name == cfg.Name {
			return nil, fmt.Errorf("harness: node %q exists", cfg.Name)
		}
	}
	node, err := newNode(n, cfg)
	if err != nil {
		return nil, err
	}
	n.nodes = append(n.nodes, node)
	return node, nil
}

// Stop stops every node (StopDaemon, then signals) and btcd. It reports
// nodes that did not exit cleanly. Safe to call more than once.
func (n *Network) Stop() error {
	return errors.Join(n.StopNodes(), n.StopBtcd())
}

// StopNodes stops every node (see Node.Stop) and lets no new one start.
func (n *Network) StopNodes() error {
	n.mu.Lock()
	n.closed = true
	nodes := append([]*Node(nil), n.nodes...)
	n.mu.Unlock()

	// Nodes stop in parallel: each may need its full deadline.
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, node := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = node.Stop()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// StopBtcd stops btcd. Safe to call more than once.
func (n *Network) StopBtcd() error {
	if err := n.btcd.Stop(); err != nil {
		return fmt.Errorf("harness: stop btcd: %w", err)
	}
	return nil
}

// Close stops everything and removes the directory.
func (n *Network) Close() error {
	err := n.Stop()
	if rmErr := os.RemoveAll(n.dir); rmErr != nil {
		err = errors.Join(err, rmErr)
	}
	return err
}

// Mine mines blocks and waits until every running node with an active
// server has synced to the new tip.
func (n *Network) Mine(blocks int) ([]chainhash.Hash, error) {
	hashes, err := n.btcd.Generate(blocks)
	if err != nil {
		return hashes, err
	}
	return hashes, n.WaitSynced()
}

// WaitSynced waits until every node serving RPCs (SERVER_ACTIVE) reports btcd's tip and
// synced_to_chain.
func (n *Network) WaitSynced() error {
	height, err := n.TipHeight()
	if err != nil {
		return err
	}
	for _, node := range n.Nodes() {
		if !node.Running() || !node.Serving() {
			continue
		}
		if err := node.WaitHeight(height); err != nil {
			return err
		}
	}
	return nil
}

// TipHeight is the height of btcd's best block.
func (n *Network) TipHeight() (int32, error) {
	_, height, err := n.btcd.Client().GetBestBlock()
	if err != nil {
		return 0, fmt.Errorf("harness: btcd best block: %w", err)
	}
	return height, nil
}

// Fund pays amt from the miner to a new p2wkh address of node, confirms it
// with six blocks and waits until node's confirmed balance has grown by amt.
func (n *Network) Fund(node *Node, amt btcutil.Amount) error {
	ctx, cancel := context.WithTimeout(context.Background(), SyncTimeout)
	defer cancel()
	before, err := node.RPC.WalletBalance(ctx, &lnrpc.WalletBalanceRequest{})
	if err != nil {
		return fmt.Errorf("harness: %s: balance: %w", node.Name(), err)
	}
	addr, err := node.NewAddress(ctx, lnrpc.AddressType_WITNESS_PUBKEY_HASH)
	if err != nil {
		return err
	}
	if _, err := n.btcd.SendToAddress(addr, amt); err != nil {
		return fmt.Errorf("harness: fund %s: %w", node.Name(), err)
	}
	if _, err := n.Mine(6); err != nil {
		return err
	}
	want := before.ConfirmedBalance + int64(amt)
	return node.WaitConfirmedBalance(want)
}

// ConnectNodes has a connect to b (perm: keep reconnecting) and waits until
// each lists the other.
func (n *Network) ConnectNodes(a, b *Node, perm bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), SyncTimeout)
	defer cancel()
	_, err := a.RPC.ConnectPeer(ctx, &lnrpc.ConnectPeerRequest{
		Addr: &lnrpc.LightningAddress{Pubkey: b.PubKey(), Host: b.P2PAddr()},
		Perm: perm,
	})
	if err != nil {
		return fmt.Errorf("harness: connect %s to %s: %w", a.Name(), b.Name(), err)
	}
	if err := a.WaitPeer(b.PubKey()); err != nil {
		return err
	}
	return b.WaitPeer(a.PubKey())
}

// handedOut holds every port the harness gave a node in this process.
// Ports are shared by the whole machine, and tests running in parallel
// each have their own Network, so this one registry is process-wide.
var handedOut = struct {
	sync.Mutex
	ports map[string]bool
}{ports: make(map[string]bool)}

// Ports handed to nodes are drawn below Linux's default ephemeral range
// (32768-60999): a port the kernel chose for a listener is also one it
// gives outgoing connections, which took a stopped node's port before it
// restarted ("address already in use").
const (
	portLow  = 20000
	portHigh = 32768
)

// freePort is a loopback host:port that is free now and that the harness
// never gave a node before (the kernel offers a released port again soon).
func (n *Network) freePort() (string, error) {
	for range 1000 {
		port := portLow + rand.IntN(portHigh-portLow)
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue // in use
		}
		addr := l.Addr().String()
		l.Close()
		handedOut.Lock()
		taken := handedOut.ports[addr]
		handedOut.ports[addr] = true
		handedOut.Unlock()
		if !taken {
			return addr, nil
		}
	}
	return "", errors.New("harness: no free port")
}

// sanitize keeps a name usable in a path.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9',
			r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
}

// ModuleRoot is the directory of the go.mod above the working directory.
func ModuleRoot() (string, error) { return regtest.ModuleRoot() }
