package chain

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/btcsuite/btcd/btcjson"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/rpcclient"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// Defaults for BtcdConfig.
const (
	// DefaultFallbackFeeRate is used when btcd has no estimate: 25
	// sat/vbyte, enough to confirm within a few blocks on most days of
	// mainnet, and harmless on regtest where fees are play money.
	DefaultFallbackFeeRate SatPerKWeight = 25 * 1000 / 4

	// DefaultMaxReorgDepth is how many recent headers the backend keeps to
	// find the fork point of a reorg (two weeks of blocks).
	DefaultMaxReorgDepth = 2016

	// DefaultPollInterval is how often the backend asks btcd for its tip
	// even without a notification, a safety net for a lost notification.
	DefaultPollInterval = 30 * time.Second

	// DefaultMaxReconnectInterval caps the wait between reconnect attempts.
	DefaultMaxReconnectInterval = 5 * time.Second

	// maxEstimateFeeBlocks is the deepest target btcd's estimatefee takes.
	maxEstimateFeeBlocks = 25

	// initialHeaders is how many headers below the tip Start loads, so
	// that a reorg soon after start finds its fork point in memory.
	initialHeaders = 100
)

// ErrNotConnected: btcd is unreachable right now; the backend keeps trying
// to reconnect.
var ErrNotConnected = errors.New("btcd: not connected")

// BtcdConfig configures a BtcdBackend.
type BtcdConfig struct {
	// Host is btcd's RPC host:port.
	Host string
	// User and Pass are btcd's RPC credentials.
	User, Pass string
	// Cert is btcd's RPC TLS certificate (PEM). Required: the backend
	// never talks to btcd in clear text.
	Cert []byte

	// ChainParams is the network btcd runs.
	ChainParams *chaincfg.Params

	// Logger receives the backend's logs; nil discards them.
	Logger *slog.Logger

	// FallbackFeeRate is returned when btcd has no fee estimate; zero
	// means DefaultFallbackFeeRate. Never below the relay fee.
	FallbackFeeRate SatPerKWeight

	// MaxReorgDepth is how many recent headers are kept to resolve
	// reorgs; zero means DefaultMaxReorgDepth. A deeper reorg is logged
	// as an error and followed, but the blocks disconnected below the
	// kept headers are not reported.
	MaxReorgDepth int

	// PollInterval: zero means DefaultPollInterval.
	PollInterval time.Duration

	// MaxReconnectInterval: zero means DefaultMaxReconnectInterval.
	MaxReconnectInterval time.Duration
}

// header is one block of the backend's view of the best chain.
type header struct {
	height int32
	hash   chainhash.Hash
	header wire.BlockHeader
}

// txIndex states.
const (
	txIndexUnknown int32 = iota
	txIndexOn
	txIndexOff
)

// BtcdBackend is a Backend over btcd's websocket RPC.
//
// It keeps its own view of the best chain (recent headers) and, whenever
// btcd says a block was connected or disconnected, when the connection
// comes back, or on a timer, it reconciles that view with btcd's best chain:
// it finds the fork point and reports disconnected blocks (highest first)
// then connected ones. Restarts, reorgs and missed notifications all reduce
// to that one path.
//
// Transactions are found in blocks the backend fetches itself, so it needs
// no index in btcd; with btcd's --txindex, registering for an old
// transaction is a lookup instead of a scan from the height hint.
// Registering while btcd is unreachable succeeds: the search of the chain
// then runs as soon as the connection is back.
type BtcdBackend struct {
	cfg BtcdConfig
	log *slog.Logger

	started atomic.Bool
	stopped atomic.Bool
	quit    chan struct{}
	wg      sync.WaitGroup

	connMu sync.Mutex
	client *rpcclient.Client // nil while disconnected

	kick chan struct{} // capacity 1: "btcd's chain may have changed"

	relayFee atomic.Int64 // SatPerKWeight
	txIndex  atomic.Int32

	// mu guards the chain view and the registrations.
	mu      sync.Mutex
	headers []header // ascending by height; the last is the tip
	nextID  uint64
	epochs  map[uint64]*pipe[BlockEvent]
	confs   map[uint64]*confReg
	spends  map[uint64]*spendReg
	blocks  blockCache

	// cancelMu guards cancelled: registrations cancelled while mu was
	// busy, for the notifier to forget. Cancel never waits on mu.
	cancelMu  sync.Mutex
	cancelled []regKey

	filterMu    sync.Mutex
	filterAddrs map[string]btcutil.Address
	filterOps   map[wire.OutPoint]struct{}
	mempool     *pipe[*wire.MsgTx]
}

// A compile-time check that BtcdBackend is a Backend.
var _ Backend = (*BtcdBackend)(nil)

// NewBtcdBackend checks the configuration; Start connects.
func NewBtcdBackend(cfg BtcdConfig) (*BtcdBackend, error) {
	if cfg.Host == "" {
		return nil, errors.New("btcd: no RPC host")
	}
	if len(cfg.Cert) == 0 {
		return nil, errors.New("btcd: no RPC TLS certificate")
	}
	if cfg.ChainParams == nil {
		return nil, errors.New("btcd: no chain parameters")
	}
	if cfg.FallbackFeeRate == 0 {
		cfg.FallbackFeeRate = DefaultFallbackFeeRate
	}
	if cfg.MaxReorgDepth <= 0 {
		cfg.MaxReorgDepth = DefaultMaxReorgDepth
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.MaxReconnectInterval <= 0 {
		cfg.MaxReconnectInterval = DefaultMaxReconnectInterval
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &BtcdBackend{
		cfg:         cfg,
		log:         log,
		quit:        make(chan struct{}),
		kick:        make(chan struct{}, 1),
		epochs:      make(map[uint64]*pipe[BlockEvent]),
		confs:       make(map[uint64]*confReg),
		spends:      make(map[uint64]*spendReg),
		filterAddrs: make(map[string]btcutil.Address),
		filterOps:   make(map[wire.OutPoint]struct{}),
		mempool:     newPipe[*wire.MsgTx](),
	}
	b.relayFee.Store(int64(FeePerKwFloor))
	return b, nil
}

// Start connects to btcd, loads the recent chain and subscribes to its
// notifications. btcd must be reachable; a backend that failed to start is
// stopped and cannot be started again.
func (b *BtcdBackend) Start() error {
	if !b.started.CompareAndSwap(false, true) {
		return errors.New("btcd: backend already started")
	}
	c, err := b.dial()
	if err != nil {
		_ = b.Stop()
		return err
	}
	err = b.loadChain(c)
	if err == nil {
		err = b.subscribe(c)
	}
	if err != nil {
		c.Shutdown()
		c.WaitForShutdown()
		_ = b.Stop()
		return err
	}
	b.setClient(c)
	b.wg.Add(2)
	go b.superviseConn(c)
	go b.chainLoop()
	b.kickSync()
	return nil
}

// Stop disconnects, ends every registration (closing its channels) and
// waits for every goroutine. Safe to call more than once.
func (b *BtcdBackend) Stop() error {
	if !b.stopped.CompareAndSwap(false, true) {
		return nil
	}
	close(b.quit)
	b.wg.Wait()

	b.mu.Lock()
	for id, p := range b.epochs {
		p.stop()
		delete(b.epochs, id)
	}
	for id, r := range b.confs {
		r.stop()
		delete(b.confs, id)
	}
	for id, r := range b.spends {
		r.stop()
		delete(b.spends, id)
	}
	b.mu.Unlock()
	b.mempool.stop()
	return nil
}

func (b *BtcdBackend) dial() (*rpcclient.Client, error) {
	// Notifications only say "the chain changed": sync asks btcd what
	// the best chain is, so a lost or duplicated one does no harm.
	h := &rpcclient.NotificationHandlers{
		OnFilteredBlockConnected: func(int32, *wire.BlockHeader, []*btcutil.Tx) {
			b.kickSync()
		},
		OnFilteredBlockDisconnected: func(int32, *wire.BlockHeader) {
			b.kickSync()
		},
		OnRelevantTxAccepted: b.onRelevantTx,
	}
	c, err := rpcclient.New(&rpcclient.ConnConfig{
		Host:                 b.cfg.Host,
		Endpoint:             "ws",
		User:                 b.cfg.User,
		Pass:                 b.cfg.Pass,
		Certificates:         b.cfg.Cert,
		Params:               b.cfg.ChainParams.Name,
		DisableAutoReconnect: true, // superviseConn reconnects faster
	}, h)
	if err != nil {
		return nil, fmt.Errorf("btcd: connect %s: %w", b.cfg.Host, err)
	}
	return c, nil
}

// subscribe registers block notifications and the mempool filter on a new
// connection and refreshes the relay fee.
func (b *BtcdBackend) subscribe(c *rpcclient.Client) error {
	if err := c.NotifyBlocks(); err != nil {
		return fmt.Errorf("btcd: notifyblocks: %w", err)
	}
	b.filterMu.Lock()
	addrs := make([]btcutil.Address, 0, len(b.filterAddrs))
	for _, a := range b.filterAddrs {
		addrs = append(addrs, a)
	}
	ops := make([]wire.OutPoint, 0, len(b.filterOps))
	for op := range b.filterOps {
		ops = append(ops, op)
	}
	b.filterMu.Unlock()
	if len(addrs) > 0 || len(ops) > 0 {
		if err := c.LoadTxFilter(true, addrs, ops); err != nil {
			return fmt.Errorf("btcd: loadtxfilter: %w", err)
		}
	}
	info, err := c.GetInfo()
	if err != nil {
		return fmt.Errorf("btcd: getinfo: %w", err)
	}
	// relayfee is BTC per 1000 vbytes.
	if fee, err := btcutil.NewAmount(info.RelayFee); err == nil {
		kw := max(SatPerKWeight(fee/4), FeePerKwFloor)
		b.relayFee.Store(int64(kw))
	}
	return nil
}

// superviseConn waits for the connection to drop, then reconnects with a
// growing backoff, re-subscribes and has the chain loop catch up.
func (b *BtcdBackend) superviseConn(c *rpcclient.Client) {
	defer b.wg.Done()
	for {
		down := make(chan struct{})
		go func(c *rpcclient.Client) {
			c.WaitForShutdown()
			close(down)
		}(c)
		select {
		case <-down:
		case <-b.quit:
			b.setClient(nil)
			c.Shutdown()
			<-down
			return
		}
		b.setClient(nil)
		b.log.Warn("lost connection to btcd; reconnecting", "host", b.cfg.Host)

		backoff := 100 * time.Millisecond
		for {
			select {
			case <-time.After(backoff):
			case <-b.quit:
				return
			}
			backoff = min(2*backoff, b.cfg.MaxReconnectInterval)
			next, err := b.dial()
			if err != nil {
				b.log.Debug("reconnect failed", "err", err)
				continue
			}
			if err := b.subscribe(next); err != nil {
				b.log.Debug("resubscribe failed", "err", err)
				next.Shutdown()
				next.WaitForShutdown()
				continue
			}
			c = next
			break
		}
		b.setClient(c)
		b.log.Info("reconnected to btcd", "host", b.cfg.Host)
		b.kickSync()
	}
}

func (b *BtcdBackend) setClient(c *rpcclient.Client) {
	b.connMu.Lock()
	b.client = c
	b.connMu.Unlock()
}

// rpc returns the live client.
func (b *BtcdBackend) rpc() (*rpcclient.Client, error) {
	if b.stopped.Load() {
		return nil, ErrBackendShutdown
	}
	b.connMu.Lock()
	defer b.connMu.Unlock()
	if b.client == nil {
		return nil, ErrNotConnected
	}
	return b.client, nil
}

func (b *BtcdBackend) kickSync() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// call runs an RPC, giving up when ctx is done or the backend stops (the
// RPC itself ends when its answer comes or the client shuts down).
func call[T any](ctx context.Context, b *BtcdBackend,
	f func(c *rpcclient.Client) (T, error)) (T, error) {

	var zero T
	c, err := b.rpc()
	if err != nil {
		return zero, err
	}
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f(c)
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		return zero, ctx.Err()
	case <-b.quit:
		return zero, ErrBackendShutdown
	}
}

// rpcCode returns the btcd RPC error code in err, if any.
func rpcCode(err error) (btcjson.RPCErrorCode, string, bool) {
	var rerr *btcjson.RPCError
	if errors.As(err, &rerr) {
		return rerr.Code, rerr.Message, true
	}
	return 0, "", false
}

// BestBlock implements Source with btcd's current tip.
func (b *BtcdBackend) BestBlock(ctx context.Context) (chainhash.Hash, int32, error) {
	type tip struct {
		hash   chainhash.Hash
		height int32
	}
	t, err := call(ctx, b, func(c *rpcclient.Client) (tip, error) {
		h, height, err := c.GetBestBlock()
		if err != nil {
			return tip{}, err
		}
		return tip{*h, height}, nil
	})
	if err != nil {
		return chainhash.Hash{}, 0, fmt.Errorf("btcd: best block: %w", err)
	}
	return t.hash, t.height, nil
}

// BlockHash implements Source.
func (b *BtcdBackend) BlockHash(ctx context.Context, height int32) (chainhash.Hash, error) {
	if height < 0 {
		return chainhash.Hash{}, ErrBlockNotFound
	}
	h, err := call(ctx, b, func(c *rpcclient.Client) (*chainhash.Hash, error) {
		return c.GetBlockHash(int64(height))
	})
	if err != nil {
		if code, _, ok := rpcCode(err); ok && code == btcjson.ErrRPCOutOfRange {
			return chainhash.Hash{}, fmt.Errorf("height %d: %w", height, ErrBlockNotFound)
		}
		return chainhash.Hash{}, fmt.Errorf("btcd: block hash at %d: %w", height, err)
	}
	return *h, nil
}

// Block implements Source.
func (b *BtcdBackend) Block(ctx context.Context, hash chainhash.Hash) (*wire.MsgBlock, error) {
	blk, err := call(ctx, b, func(c *rpcclient.Client) (*wire.MsgBlock, error) {
		return c.GetBlock(&hash)
	})
	if err != nil {
		return nil, blockErr(hash, err)
	}
	if blk.BlockHash() != hash {
		return nil, fmt.Errorf("btcd: asked for block %v, got %v", hash, blk.BlockHash())
	}
	return blk, nil
}

func blockErr(hash chainhash.Hash, err error) error {
	if code, _, ok := rpcCode(err); ok && code == btcjson.ErrRPCBlockNotFound {
		return fmt.Errorf("block %v: %w", hash, ErrBlockNotFound)
	}
	return fmt.Errorf("btcd: block %v: %w", hash, err)
}

// BlockHeader implements Source.
func (b *BtcdBackend) BlockHeader(ctx context.Context, hash chainhash.Hash) (*wire.BlockHeader, int32, error) {
	v, err := call(ctx, b, func(c *rpcclient.Client) (*btcjson.GetBlockHeaderVerboseResult, error) {
		return c.GetBlockHeaderVerbose(&hash)
	})
	if err != nil {
		return nil, 0, blockErr(hash, err)
	}
	hdr, err := headerFromVerbose(v)
	if err != nil {
		return nil, 0, err
	}
	if hdr.BlockHash() != hash {
		return nil, 0, fmt.Errorf("btcd: header for %v hashes to %v", hash, hdr.BlockHash())
	}
	return hdr, v.Height, nil
}

func headerFromVerbose(v *btcjson.GetBlockHeaderVerboseResult) (*wire.BlockHeader, error) {
	var hdr wire.BlockHeader
	hdr.Version = v.Version
	if v.PreviousHash != "" {
		prev, err := parseHash(v.PreviousHash)
		if err != nil {
			return nil, fmt.Errorf("btcd: bad previous hash: %w", err)
		}
		hdr.PrevBlock = prev
	}
	root, err := parseHash(v.MerkleRoot)
	if err != nil {
		return nil, fmt.Errorf("btcd: bad merkle root: %w", err)
	}
	hdr.MerkleRoot = root
	hdr.Timestamp = time.Unix(v.Time, 0)
	bits, err := strconv.ParseUint(v.Bits, 16, 32)
	if err != nil {
		return nil, fmt.Errorf("btcd: bad bits %q: %w", v.Bits, err)
	}
	hdr.Bits = uint32(bits)
	if v.Nonce > math.MaxUint32 {
		return nil, fmt.Errorf("btcd: nonce %d out of range", v.Nonce)
	}
	hdr.Nonce = uint32(v.Nonce)
	return &hdr, nil
}

// parseHash parses a hash in btcd's byte-reversed hex, all 64 digits of it.
func parseHash(s string) (chainhash.Hash, error) {
	if len(s) != 2*chainhash.HashSize {
		return chainhash.Hash{}, fmt.Errorf("hash %q: want %d hex digits", s, 2*chainhash.HashSize)
	}
	h, err := chainhash.NewHashFromStr(s)
	if err != nil {
		return chainhash.Hash{}, err
	}
	return *h, nil
}

// RawTx implements Source.
func (b *BtcdBackend) RawTx(ctx context.Context, txid chainhash.Hash) (*wire.MsgTx, error) {
	tx, err := call(ctx, b, func(c *rpcclient.Client) (*btcutil.Tx, error) {
		return c.GetRawTransaction(&txid)
	})
	if err != nil {
		if code, _, ok := rpcCode(err); ok && code == btcjson.ErrRPCNoTxInfo {
			return nil, fmt.Errorf("tx %v: %w", txid, ErrTxNotFound)
		}
		return nil, fmt.Errorf("btcd: tx %v: %w", txid, err)
	}
	return tx.MsgTx(), nil
}

// UnspentOutput implements Source. With includeMempool, an output created
// by a mempool transaction counts and one spent by a mempool transaction
// does not.
func (b *BtcdBackend) UnspentOutput(ctx context.Context, op wire.OutPoint,
	includeMempool bool) (*wire.TxOut, error) {

	res, err := call(ctx, b, func(c *rpcclient.Client) (*btcjson.GetTxOutResult, error) {
		return c.GetTxOut(&op.Hash, op.Index, includeMempool)
	})
	if err != nil {
		if code, _, ok := rpcCode(err); ok && code == btcjson.ErrRPCNoTxInfo {
			return nil, nil
		}
		return nil, fmt.Errorf("btcd: gettxout %v: %w", op, err)
	}
	if res == nil {
		return nil, nil
	}
	script, err := hexDecode(res.ScriptPubKey.Hex)
	if err != nil {
		return nil, fmt.Errorf("btcd: gettxout %v script: %w", op, err)
	}
	amt, err := btcutil.NewAmount(res.Value)
	if err != nil {
		return nil, fmt.Errorf("btcd: gettxout %v value: %w", op, err)
	}
	if includeMempool {
		spends, err := call(ctx, b, func(c *rpcclient.Client) ([]*btcjson.GetTxSpendingPrevOutResult, error) {
			return c.GetTxSpendingPrevOut([]wire.OutPoint{op})
		})
		if err != nil {
			return nil, fmt.Errorf("btcd: gettxspendingprevout %v: %w", op, err)
		}
		for _, s := range spends {
			if s.SpendingTxid != "" {
				return nil, nil
			}
		}
	}
	return wire.NewTxOut(int64(amt), script), nil
}

// Broadcast implements Broadcaster.
func (b *BtcdBackend) Broadcast(ctx context.Context, tx *wire.MsgTx) error {
	txid := tx.TxHash()
	_, err := call(ctx, b, func(c *rpcclient.Client) (*chainhash.Hash, error) {
		return c.SendRawTransaction(tx, false)
	})
	if err == nil {
		return nil
	}
	return mapBroadcastErr(txid, err)
}

// mapBroadcastErr turns btcd's refusal into ErrTxAlreadyKnown or a
// *RejectError; other errors (connection) pass through wrapped.
func mapBroadcastErr(txid chainhash.Hash, err error) error {
	code, msg, ok := rpcCode(err)
	if !ok {
		return fmt.Errorf("btcd: broadcast %v: %w", txid, err)
	}
	lower := strings.ToLower(msg)
	switch {
	case code == btcjson.ErrRPCTxAlreadyInChain,
		strings.Contains(lower, "already have transaction"),
		strings.Contains(lower, "transaction already exists"),
		strings.Contains(lower, "txn-already"):
		return fmt.Errorf("tx %v: %w", txid, ErrTxAlreadyKnown)
	case code == btcjson.ErrRPCTxError, code == btcjson.ErrRPCTxRejected,
		code == btcjson.ErrRPCDeserialization, code == btcjson.ErrRPCVerify:
		return &RejectError{Txid: txid, Reason: strings.TrimPrefix(msg, "TX rejected: ")}
	}
	return fmt.Errorf("btcd: broadcast %v: %w", txid, err)
}

// EstimateFeePerKW implements FeeEstimator with btcd's estimatefee, falling
// back to the configured rate when btcd has no estimate, never below the
// relay fee.
func (b *BtcdBackend) EstimateFeePerKW(ctx context.Context, confTarget uint32) (SatPerKWeight, error) {
	target := int64(min(max(confTarget, 1), maxEstimateFeeBlocks))
	btcPerKB, err := call(ctx, b, func(c *rpcclient.Client) (float64, error) {
		return c.EstimateFee(target)
	})
	floor := b.RelayFeePerKW()
	rate := max(b.cfg.FallbackFeeRate, floor)
	_, _, answered := rpcCode(err)
	switch {
	case err != nil && !answered:
		// Not connected, shutting down, cancelled.
		return 0, fmt.Errorf("btcd: estimatefee: %w", err)
	case err != nil:
		// btcd answers with an error until it has seen enough blocks.
		b.log.Debug("no fee estimate from btcd; using fallback",
			"target", confTarget, "err", err, "rate", rate)
		return rate, nil
	case btcPerKB <= 0:
		return rate, nil
	}
	perKB, err := btcutil.NewAmount(btcPerKB)
	if err != nil {
		return rate, nil
	}
	return max(SatPerKWeight(perKB/4), floor), nil
}

// RelayFeePerKW implements FeeEstimator: btcd's relay fee, at least
// FeePerKwFloor.
func (b *BtcdBackend) RelayFeePerKW() SatPerKWeight {
	return SatPerKWeight(b.relayFee.Load())
}

// WatchMempool implements MempoolWatcher with btcd's loadtxfilter. Scripts
// that encode no address (bare multisig, OP_RETURN) cannot be watched.
func (b *BtcdBackend) WatchMempool(pkScripts [][]byte, outpoints []wire.OutPoint) error {
	var addrs []btcutil.Address
	for _, s := range pkScripts {
		_, as, _, err := txscript.ExtractPkScriptAddrs(s, b.cfg.ChainParams)
		if err != nil || len(as) == 0 {
			return fmt.Errorf("btcd: cannot watch script %x: no address", s)
		}
		addrs = append(addrs, as...)
	}
	b.filterMu.Lock()
	for _, a := range addrs {
		b.filterAddrs[a.EncodeAddress()] = a
	}
	for _, op := range outpoints {
		b.filterOps[op] = struct{}{}
	}
	b.filterMu.Unlock()

	// A reconnect in between reloads the whole filter, so this call may
	// fail without losing anything.
	c, err := b.rpc()
	if err != nil {
		if errors.Is(err, ErrNotConnected) {
			return nil
		}
		return err
	}
	if err := c.LoadTxFilter(false, addrs, outpoints); err != nil {
		b.log.Warn("loadtxfilter failed; will reload on reconnect", "err", err)
	}
	return nil
}

// RelevantTxs implements MempoolWatcher. Every call returns the same
// channel: the backend has one mempool stream.
func (b *BtcdBackend) RelevantTxs() <-chan *wire.MsgTx { return b.mempool.out }

func (b *BtcdBackend) onRelevantTx(raw []byte) {
	var tx wire.MsgTx
	if err := tx.Deserialize(bytes.NewReader(raw)); err != nil {
		b.log.Warn("undecodable relevanttxaccepted", "err", err)
		return
	}
	b.mempool.push(&tx)
}
