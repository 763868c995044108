package chain

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/btcsuite/btcd/btcjson"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/rpcclient"
	"github.com/btcsuite/btcd/wire"
)

func hexDecode(s string) ([]byte, error) { return hex.DecodeString(s) }

// confReg is one RegisterConfirmations.
type confReg struct {
	txid     chainhash.Hash
	pkScript []byte // matched instead of txid when txid is zero
	numConfs uint32
	hint     int32
	scanned  bool // the chain up to the tip was searched

	conf       *TxConfirmation // where it is in the best chain, or nil
	lastUpdate uint32          // last count sent on Updates
	deepest    uint32          // most confirmations seen for conf
	dispatched bool            // Confirmed sent for the current conf

	confirmed *pipe[*TxConfirmation]
	updates   *pipe[uint32]
	reorged   *pipe[int32]
}

func (r *confReg) stop() {
	r.confirmed.stop()
	r.updates.stop()
	r.reorged.stop()
}

// match returns the index of the registration's transaction in block.
func (r *confReg) match(block *indexedBlock) (int, bool) {
	if r.txid != (chainhash.Hash{}) {
		i, ok := block.byTxid[r.txid]
		return i, ok
	}
	for i, tx := range block.block.Transactions {
		for _, out := range tx.TxOut {
			if bytes.Equal(out.PkScript, r.pkScript) {
				return i, true
			}
		}
	}
	return 0, false
}

// spendReg is one RegisterSpend.
type spendReg struct {
	outpoint wire.OutPoint
	hint     int32
	scanned  bool         // the chain up to the tip was searched
	spend    *SpendDetail // the spend in the best chain, or nil
	spendAt  chainhash.Hash

	spent   *pipe[*SpendDetail]
	reorged *pipe[struct{}]
}

func (r *spendReg) stop() {
	r.spent.stop()
	r.reorged.stop()
}

func (r *spendReg) match(block *indexedBlock, height int32) *SpendDetail {
	ref, ok := block.spends[r.outpoint]
	if !ok {
		return nil
	}
	tx := block.block.Transactions[ref.tx]
	return &SpendDetail{
		SpentOutPoint:     r.outpoint,
		SpenderTxHash:     block.txids[ref.tx],
		SpendingTx:        tx,
		SpenderInputIndex: uint32(ref.in),
		SpendingHeight:    height,
	}
}

// indexedBlock is a block with its transactions hashed and its inputs
// indexed once, however many registrations look at it.
type indexedBlock struct {
	block  *wire.MsgBlock
	txids  []chainhash.Hash
	byTxid map[chainhash.Hash]int
	spends map[wire.OutPoint]inputRef
}

type inputRef struct{ tx, in int }

func indexBlock(blk *wire.MsgBlock) *indexedBlock {
	ib := &indexedBlock{
		block:  blk,
		txids:  make([]chainhash.Hash, len(blk.Transactions)),
		byTxid: make(map[chainhash.Hash]int, len(blk.Transactions)),
		spends: make(map[wire.OutPoint]inputRef),
	}
	for i, tx := range blk.Transactions {
		ib.txids[i] = tx.TxHash()
		ib.byTxid[ib.txids[i]] = i
		if i == 0 {
			continue // a coinbase spends nothing
		}
		for j, in := range tx.TxIn {
			ib.spends[in.PreviousOutPoint] = inputRef{i, j}
		}
	}
	return ib
}

// blockCache keeps the last few blocks fetched, since every registration
// scan and every connected block may ask for the same ones.
type blockCache struct {
	hashes [8]chainhash.Hash
	blocks [8]*indexedBlock
	next   int
}

func (c *blockCache) get(h chainhash.Hash) *indexedBlock {
	for i, b := range c.blocks {
		if b != nil && c.hashes[i] == h {
			return b
		}
	}
	return nil
}

func (c *blockCache) put(h chainhash.Hash, b *indexedBlock) {
	c.hashes[c.next], c.blocks[c.next] = h, b
	c.next = (c.next + 1) % len(c.blocks)
}

// fetchBlock returns a block, from the cache if it is there. Callers hold
// b.mu.
func (b *BtcdBackend) fetchBlock(c *rpcclient.Client, h chainhash.Hash) (*indexedBlock, error) {
	if blk := b.blocks.get(h); blk != nil {
		return blk, nil
	}
	blk, err := c.GetBlock(&h)
	if err != nil {
		return nil, blockErr(h, err)
	}
	if blk.BlockHash() != h {
		return nil, fmt.Errorf("btcd: asked for block %v, got %v", h, blk.BlockHash())
	}
	ib := indexBlock(blk)
	b.blocks.put(h, ib)
	return ib, nil
}

// getHeader fetches a header and checks it is the one asked for.
func getHeader(c *rpcclient.Client, hash chainhash.Hash) (*wire.BlockHeader, error) {
	hdr, err := c.GetBlockHeader(&hash)
	if err != nil {
		return nil, fmt.Errorf("btcd: header %v: %w", hash, err)
	}
	if got := hdr.BlockHash(); got != hash {
		return nil, fmt.Errorf("btcd: asked for header %v, got %v", hash, got)
	}
	return hdr, nil
}

// loadChain fills the header window with the tip and up to initialHeaders
// blocks below it.
func (b *BtcdBackend) loadChain(c *rpcclient.Client) error {
	hash, height, err := c.GetBestBlock()
	if err != nil {
		return fmt.Errorf("btcd: best block: %w", err)
	}
	var rev []header
	for i := 0; i <= initialHeaders && height >= 0; i++ {
		hdr, err := getHeader(c, *hash)
		if err != nil {
			return err
		}
		rev = append(rev, header{height: height, hash: *hash, header: *hdr})
		prev := hdr.PrevBlock
		hash, height = &prev, height-1
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.headers = b.headers[:0]
	for i := len(rev) - 1; i >= 0; i-- {
		b.headers = append(b.headers, rev[i])
	}
	return nil
}

// tip is the backend's best block. Callers hold b.mu.
func (b *BtcdBackend) tip() header { return b.headers[len(b.headers)-1] }

// headerAt returns the window's header at height. Callers hold b.mu.
func (b *BtcdBackend) headerAt(height int32) (header, bool) {
	if len(b.headers) == 0 {
		return header{}, false
	}
	i := int(height - b.headers[0].height)
	if i < 0 || i >= len(b.headers) {
		return header{}, false
	}
	return b.headers[i], true
}

// hashAt returns the best-chain hash at height in the backend's view: from
// the window, or from btcd below it (deep enough not to reorg).
func (b *BtcdBackend) hashAt(c *rpcclient.Client, height int32) (chainhash.Hash, error) {
	if h, ok := b.headerAt(height); ok {
		return h.hash, nil
	}
	h, err := c.GetBlockHash(int64(height))
	if err != nil {
		return chainhash.Hash{}, fmt.Errorf("btcd: block hash at %d: %w", height, err)
	}
	return *h, nil
}

// chainLoop reconciles the backend's view with btcd's whenever told to, on
// a timer, and soon again after a failure.
func (b *BtcdBackend) chainLoop() {
	defer b.wg.Done()
	timer := time.NewTimer(b.cfg.PollInterval)
	defer timer.Stop()
	for {
		select {
		case <-b.kick:
		case <-timer.C:
		case <-b.quit:
			return
		}
		next := b.cfg.PollInterval
		if err := b.sync(); err != nil {
			if !errors.Is(err, ErrNotConnected) && !errors.Is(err, ErrBackendShutdown) {
				b.log.Warn("chain sync failed; retrying", "err", err)
			}
			next = 500 * time.Millisecond
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(next)
	}
}

// sync brings the backend's view to btcd's best chain: it walks back from
// btcd's tip to the first block it holds, reports its own blocks above that
// fork point as disconnected, then the new ones as connected.
func (b *BtcdBackend) sync() error {
	c, err := b.rpc()
	if err != nil {
		return err
	}
	tipHash, tipHeight, err := c.GetBestBlock()
	if err != nil {
		return fmt.Errorf("btcd: best block: %w", err)
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	b.sweep()
	if len(b.headers) == 0 {
		// Not reached (a deep reorg leaves its base header): should it
		// be, start again from btcd's tip.
		hdr, err := getHeader(c, *tipHash)
		if err != nil {
			return err
		}
		return b.connect(c, header{height: tipHeight, hash: *tipHash, header: *hdr})
	}
	if err := b.scanPending(c); err != nil {
		return err
	}
	if b.tip().hash == *tipHash {
		return nil
	}

	// Walk back by parent hash: headers never change, so the branch is
	// consistent even if btcd moves on meanwhile.
	var fresh []header // descending
	var base *header   // set when the fork is below the kept headers
	hash, height := *tipHash, tipHeight
	fork := int32(-1)
	for {
		if h, ok := b.headerAt(height); ok && h.hash == hash {
			fork = height
			break
		}
		if height < b.headers[0].height {
			// The fork point is below what we kept: all we can do is
			// take btcd's block here as the common ancestor.
			b.log.Error("reorg deeper than the kept headers; continuing from btcd's chain",
				"depth_at_least", b.tip().height-height, "kept", len(b.headers))
			hdr, err := getHeader(c, hash)
			if err != nil {
				return err
			}
			base = &header{height: height, hash: hash, header: *hdr}
			fork = height
			break
		}
		hdr, err := getHeader(c, hash)
		if err != nil {
			return err
		}
		fresh = append(fresh, header{height: height, hash: hash, header: *hdr})
		hash, height = hdr.PrevBlock, height-1
	}

	for len(b.headers) > 0 && b.tip().height > fork {
		b.disconnect()
	}
	if base != nil {
		// Clients saw the chain up to here already (it is below
		// everything disconnected), so no event.
		b.headers = append(b.headers[:0], *base)
	}
	for i := len(fresh) - 1; i >= 0; i-- {
		if err := b.connect(c, fresh[i]); err != nil {
			return err
		}
	}
	return nil
}

// disconnect removes the tip and tells the clients; a confirmation learns
// how deep it was (the most confirmations it had). Callers hold b.mu.
func (b *BtcdBackend) disconnect() {
	h := b.tip()
	b.headers = b.headers[:len(b.headers)-1]
	b.log.Debug("block disconnected", "height", h.height, "hash", h.hash)

	hdr := h.header
	for _, p := range b.epochs {
		p.push(BlockEvent{Height: h.height, Hash: h.hash, Header: &hdr, Disconnected: true})
	}
	for _, r := range b.confs {
		if r.conf == nil || r.conf.BlockHash != h.hash {
			continue
		}
		r.reorged.push(int32(r.deepest))
		r.conf, r.lastUpdate, r.dispatched, r.deepest = nil, 0, false, 0
	}
	for _, r := range b.spends {
		if r.spend == nil || r.spendAt != h.hash {
			continue
		}
		r.reorged.push(struct{}{})
		r.spend = nil
	}
}

// connect appends h as the new tip and tells the clients. Callers hold b.mu.
func (b *BtcdBackend) connect(c *rpcclient.Client, h header) error {
	if len(b.headers) > 0 && h.header.PrevBlock != b.tip().hash {
		return fmt.Errorf("btcd: block %v at %d does not extend %v", h.hash, h.height, b.tip().hash)
	}
	var block *indexedBlock
	if b.watching() {
		var err error
		if block, err = b.fetchBlock(c, h.hash); err != nil {
			return err
		}
	}

	b.headers = append(b.headers, h)
	// Keep at least MaxReorgDepth headers; trim in batches so a block
	// costs no copy of the window.
	if len(b.headers) >= 2*b.cfg.MaxReorgDepth {
		b.headers = append(b.headers[:0:0], b.headers[len(b.headers)-b.cfg.MaxReorgDepth:]...)
	}
	b.log.Debug("block connected", "height", h.height, "hash", h.hash)

	hdr := h.header
	for _, p := range b.epochs {
		p.push(BlockEvent{Height: h.height, Hash: h.hash, Header: &hdr})
	}
	for _, r := range b.confs {
		if r.scanned && r.conf == nil && block != nil {
			if i, ok := r.match(block); ok {
				r.conf = confirmation(block, h, i)
			}
		}
		b.notifyConf(r)
	}
	for _, r := range b.spends {
		if r.scanned && r.spend == nil && block != nil {
			if d := r.match(block, h.height); d != nil {
				r.spend, r.spendAt = d, h.hash
				r.spent.push(d)
			}
		}
	}
	return nil
}

// watching reports whether a registration waits for something in the next
// block. Callers hold b.mu.
func (b *BtcdBackend) watching() bool {
	for _, r := range b.confs {
		if r.scanned && r.conf == nil {
			return true
		}
	}
	for _, r := range b.spends {
		if r.scanned && r.spend == nil {
			return true
		}
	}
	return false
}

func confirmation(block *indexedBlock, h header, i int) *TxConfirmation {
	return &TxConfirmation{
		Txid:        block.txids[i],
		BlockHash:   h.hash,
		BlockHeight: h.height,
		TxIndex:     uint32(i),
		Tx:          block.block.Transactions[i],
		Block:       block.block,
	}
}

// notifyConf sends the confirmation count and, at the requested depth,
// the confirmation. Callers hold b.mu.
func (b *BtcdBackend) notifyConf(r *confReg) {
	if r.conf == nil {
		return
	}
	confs := uint32(b.tip().height - r.conf.BlockHeight + 1)
	r.deepest = max(r.deepest, confs)
	if n := min(confs, r.numConfs); n > r.lastUpdate {
		r.lastUpdate = n
		r.updates.push(n)
	}
	if confs >= r.numConfs && !r.dispatched {
		r.dispatched = true
		c := *r.conf
		r.confirmed.push(&c)
	}
}

// Registration kinds, for cancel.
const (
	regEpochs = iota
	regConf
	regSpend
)

type regKey struct {
	kind int
	id   uint64
}

// cancel closes a registration's channels at once and has the notifier
// forget it: now if mu is free, else at its next pass (a stopped queue
// ignores what is pushed meanwhile). It never waits for the notifier.
func (b *BtcdBackend) cancel(k regKey, stop func()) {
	stop()
	if b.mu.TryLock() {
		b.forget(k)
		b.mu.Unlock()
		return
	}
	b.cancelMu.Lock()
	b.cancelled = append(b.cancelled, k)
	b.cancelMu.Unlock()
}

// forget drops a registration. Callers hold b.mu.
func (b *BtcdBackend) forget(k regKey) {
	switch k.kind {
	case regEpochs:
		delete(b.epochs, k.id)
	case regConf:
		delete(b.confs, k.id)
	case regSpend:
		delete(b.spends, k.id)
	}
}

// sweep forgets the registrations cancelled while mu was busy. Callers
// hold b.mu.
func (b *BtcdBackend) sweep() {
	b.cancelMu.Lock()
	keys := b.cancelled
	b.cancelled = nil
	b.cancelMu.Unlock()
	for _, k := range keys {
		b.forget(k)
	}
}

// RegisterBlockEpochs implements Notifier.
func (b *BtcdBackend) RegisterBlockEpochs() (*BlockEpochs, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stopped.Load() {
		return nil, ErrBackendShutdown
	}
	b.sweep()
	id := b.nextID
	b.nextID++
	p := newPipe[BlockEvent]()
	b.epochs[id] = p
	return &BlockEpochs{
		Events: p.out,
		Cancel: func() { b.cancel(regKey{regEpochs, id}, p.stop) },
	}, nil
}

// RegisterConfirmations implements Notifier. numConfs must be at least 1.
// A transaction already in the chain is found with btcd's txindex if it
// has one, else by scanning the blocks from heightHint to the tip.
func (b *BtcdBackend) RegisterConfirmations(txid chainhash.Hash, pkScript []byte,
	numConfs uint32, heightHint int32) (*ConfirmationEvent, error) {

	if numConfs == 0 {
		return nil, errors.New("chain: numConfs must be at least 1")
	}
	if txid == (chainhash.Hash{}) && len(pkScript) == 0 {
		return nil, errors.New("chain: need a txid or a pkScript")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stopped.Load() {
		return nil, ErrBackendShutdown
	}
	b.sweep()
	r := &confReg{
		txid:      txid,
		pkScript:  append([]byte(nil), pkScript...),
		numConfs:  numConfs,
		hint:      heightHint,
		confirmed: newPipe[*TxConfirmation](),
		updates:   newPipe[uint32](),
		reorged:   newPipe[int32](),
	}
	if err := b.tryScan(func(c *rpcclient.Client) error { return b.scanConf(c, r) }); err != nil {
		r.stop()
		return nil, err
	}

	id := b.nextID
	b.nextID++
	b.confs[id] = r
	return &ConfirmationEvent{
		Confirmed: r.confirmed.out,
		Updates:   r.updates.out,
		Reorged:   r.reorged.out,
		Cancel:    func() { b.cancel(regKey{regConf, id}, r.stop) },
	}, nil
}

// tryScan runs a registration's search of the chain now if btcd is
// reachable. If it is not, the registration is kept unscanned and the chain
// loop searches once the connection is back, so registering never fails
// for a btcd restart. Callers hold b.mu.
func (b *BtcdBackend) tryScan(scan func(*rpcclient.Client) error) error {
	c, err := b.rpc()
	if err == nil {
		err = scan(c)
	}
	if err != nil && isConnErr(err) {
		b.log.Debug("btcd unreachable; registration searched on reconnect", "err", err)
		return nil
	}
	return err
}

// isConnErr reports whether err says the connection to btcd is gone.
func isConnErr(err error) bool {
	return errors.Is(err, ErrNotConnected) ||
		errors.Is(err, rpcclient.ErrClientShutdown) ||
		errors.Is(err, rpcclient.ErrClientDisconnect) ||
		errors.Is(err, rpcclient.ErrClientNotConnected)
}

// scanPending searches the chain for registrations made while btcd was
// unreachable. A connection error stops the sync (it is retried); another
// error leaves that registration for the next sync without holding up the
// others. Callers hold b.mu.
func (b *BtcdBackend) scanPending(c *rpcclient.Client) error {
	check := func(err error) error {
		if err == nil || isConnErr(err) {
			return err
		}
		b.log.Warn("search for a registration failed; retrying at the next block", "err", err)
		return nil
	}
	for _, r := range b.confs {
		if !r.scanned {
			if err := check(b.scanConf(c, r)); err != nil {
				return err
			}
		}
	}
	for _, r := range b.spends {
		if !r.scanned {
			if err := check(b.scanSpend(c, r)); err != nil {
				return err
			}
		}
	}
	return nil
}

// scanConf finds r's transaction if it is already in the best chain and
// sends what is due. Callers hold b.mu.
func (b *BtcdBackend) scanConf(c *rpcclient.Client, r *confReg) error {
	conf, err := b.findConfirmed(c, r, r.hint)
	if err != nil {
		return err
	}
	r.conf, r.scanned = conf, true
	b.notifyConf(r)
	return nil
}

// scanSpend finds a spend of r's outpoint already in the best chain and
// sends it. Callers hold b.mu.
func (b *BtcdBackend) scanSpend(c *rpcclient.Client, r *spendReg) error {
	// Unspent in btcd's chain (which is the backend's or ahead of it)
	// means nothing to look for.
	out, err := c.GetTxOut(&r.outpoint.Hash, r.outpoint.Index, false)
	if err != nil {
		if code, _, ok := rpcCode(err); !ok || code != btcjson.ErrRPCNoTxInfo {
			return fmt.Errorf("btcd: gettxout %v: %w", r.outpoint, err)
		}
	}
	if out == nil {
		_, err := scanResult(b, c, r.hint, func(blk *indexedBlock, h header) bool {
			if d := r.match(blk, h.height); d != nil {
				r.spend, r.spendAt = d, h.hash
				return true
			}
			return false
		}, func() struct{} { return struct{}{} })
		if err != nil {
			return err
		}
	}
	r.scanned = true
	if r.spend != nil {
		r.spent.push(r.spend)
	}
	return nil
}

// scanSpends does scanSpend for many registrations at once: btcd is
// asked whether each outpoint is unspent in one pipelined round of
// gettxout calls, and the blocks from the lowest hint of those that are
// not are fetched once for all of them. Callers hold b.mu.
func (b *BtcdBackend) scanSpends(c *rpcclient.Client, regs []*spendReg) error {
	futures := make([]rpcclient.FutureGetTxOutResult, len(regs))
	for i, r := range regs {
		futures[i] = c.GetTxOutAsync(&r.outpoint.Hash, r.outpoint.Index, false)
	}
	var spent []*spendReg
	var err error
	for i, f := range futures {
		// Every answer is read, whatever came before.
		out, e := f.Receive()
		if e != nil {
			if code, _, ok := rpcCode(e); (!ok || code != btcjson.ErrRPCNoTxInfo) && err == nil {
				err = fmt.Errorf("btcd: gettxout %v: %w", regs[i].outpoint, e)
			}
		}
		if out == nil {
			spent = append(spent, regs[i])
		}
	}
	if err != nil {
		return err
	}
	if len(spent) > 0 {
		hint := spent[0].hint
		for _, r := range spent {
			r.spend = nil
			hint = min(hint, r.hint)
		}
		left := len(spent)
		_, err := scanResult(b, c, hint, func(blk *indexedBlock, h header) bool {
			for _, r := range spent {
				if r.spend != nil || h.height < max(r.hint, 1) {
					continue
				}
				if d := r.match(blk, h.height); d != nil {
					r.spend, r.spendAt = d, h.hash
					left--
				}
			}
			return left == 0
		}, func() struct{} { return struct{}{} })
		if err != nil {
			return err
		}
	}
	for _, r := range regs {
		r.scanned = true
		if r.spend != nil {
			r.spent.push(r.spend)
		}
	}
	return nil
}

// findConfirmed looks for r's transaction in the backend's best chain.
// Callers hold b.mu.
func (b *BtcdBackend) findConfirmed(c *rpcclient.Client, r *confReg, heightHint int32) (*TxConfirmation, error) {
	if r.txid != (chainhash.Hash{}) && b.txIndex.Load() != txIndexOff {
		conf, known, err := b.lookupTx(c, r)
		if err != nil {
			return nil, err
		}
		if known {
			return conf, nil
		}
	}
	return b.scan(c, heightHint, func(blk *indexedBlock, h header) bool {
		if i, ok := r.match(blk); ok {
			r.conf = confirmation(blk, h, i)
			return true
		}
		return false
	}, func() *TxConfirmation { return r.conf })
}

// lookupTx asks btcd's txindex where the transaction is. known is false
// when btcd has no txindex (the caller scans instead).
func (b *BtcdBackend) lookupTx(c *rpcclient.Client, r *confReg) (conf *TxConfirmation, known bool, err error) {
	res, err := c.GetRawTransactionVerbose(&r.txid)
	if err != nil {
		code, msg, ok := rpcCode(err)
		if ok && code == btcjson.ErrRPCNoTxInfo && strings.Contains(msg, "txindex") {
			b.log.Info("btcd has no --txindex; finding transactions by scanning blocks")
			b.txIndex.Store(txIndexOff)
			return nil, false, nil
		}
		if ok && code == btcjson.ErrRPCNoTxInfo {
			b.txIndex.Store(txIndexOn)
			return nil, true, nil // not in the chain nor the mempool
		}
		return nil, false, fmt.Errorf("btcd: getrawtransaction %v: %w", r.txid, err)
	}
	b.txIndex.Store(txIndexOn)
	if res.BlockHash == "" {
		return nil, true, nil // in the mempool
	}
	parsed, err := parseHash(res.BlockHash)
	if err != nil {
		return nil, false, fmt.Errorf("btcd: bad block hash: %w", err)
	}
	hash := &parsed
	v, err := c.GetBlockHeaderVerbose(hash)
	if err != nil {
		return nil, false, blockErr(*hash, err)
	}
	if v.Confirmations < 0 || v.Height > b.tip().height {
		// Off btcd's best chain, or beyond the backend's view: the chain
		// loop will see it when it connects the block.
		return nil, true, nil
	}
	ours, err := b.hashAt(c, v.Height)
	if err != nil {
		return nil, false, err
	}
	if ours != *hash {
		return nil, true, nil
	}
	blk, err := b.fetchBlock(c, *hash)
	if err != nil {
		return nil, false, err
	}
	hdr, _ := b.headerAt(v.Height)
	hdr.height, hdr.hash = v.Height, *hash
	if i, ok := r.match(blk); ok {
		return confirmation(blk, hdr, i), true, nil
	}
	return nil, false, fmt.Errorf("btcd: tx %v not in block %v it is indexed in", r.txid, hash)
}

// scan walks the backend's best chain from heightHint to its tip, calling
// found on each block until it returns true, and returns result().
// Callers hold b.mu.
func scanResult[T any](b *BtcdBackend, c *rpcclient.Client, heightHint int32,
	found func(*indexedBlock, header) bool, result func() T) (T, error) {

	var zero T
	start := max(heightHint, 1)
	for height := start; height <= b.tip().height; height++ {
		hash, err := b.hashAt(c, height)
		if err != nil {
			return zero, err
		}
		blk, err := b.fetchBlock(c, hash)
		if err != nil {
			return zero, err
		}
		if found(blk, header{height: height, hash: hash, header: blk.block.Header}) {
			break
		}
	}
	return result(), nil
}

func (b *BtcdBackend) scan(c *rpcclient.Client, heightHint int32,
	found func(*indexedBlock, header) bool, result func() *TxConfirmation) (*TxConfirmation, error) {
	return scanResult(b, c, heightHint, found, result)
}

// RegisterSpends implements SpendBatcher: RegisterSpend for each of
// reqs, with one search of the chain for all of them (scanSpends). If
// that search fails other than by the connection, each is registered on
// its own, so that one outpoint btcd refuses does not fail the others:
// the events of those that failed are nil, and err joins their errors.
func (b *BtcdBackend) RegisterSpends(reqs []SpendRequest) ([]*SpendEvent, error) {
	if len(reqs) == 0 {
		return nil, nil
	}
	b.mu.Lock()
	if b.stopped.Load() {
		b.mu.Unlock()
		return nil, ErrBackendShutdown
	}
	b.sweep()
	regs := make([]*spendReg, len(reqs))
	for i, q := range reqs {
		regs[i] = &spendReg{outpoint: q.OutPoint, hint: q.HeightHint,
			spent: newPipe[*SpendDetail](), reorged: newPipe[struct{}]()}
	}
	if err := b.tryScan(func(c *rpcclient.Client) error { return b.scanSpends(c, regs) }); err != nil {
		b.mu.Unlock()
		for _, r := range regs {
			r.stop()
		}
		b.log.Warn("Batched spend registration failed; registering one by one",
			"outpoints", len(reqs), "err", err)
		evs := make([]*SpendEvent, len(reqs))
		var errs []error
		for i, q := range reqs {
			ev, err := b.RegisterSpend(q.OutPoint, q.PkScript, q.HeightHint)
			if err != nil {
				errs = append(errs, fmt.Errorf("%v: %w", q.OutPoint, err))
				continue
			}
			evs[i] = ev
		}
		return evs, errors.Join(errs...)
	}
	defer b.mu.Unlock()
	evs := make([]*SpendEvent, len(regs))
	for i, r := range regs {
		id := b.nextID
		b.nextID++
		b.spends[id] = r
		evs[i] = &SpendEvent{
			Spend:   r.spent.out,
			Reorged: r.reorged.out,
			Cancel:  func() { b.cancel(regKey{regSpend, id}, r.stop) },
		}
	}
	return evs, nil
}

// RegisterSpend implements Notifier: it reports spends in blocks only. A
// spend already in the chain is found by scanning the blocks from
// heightHint to the tip, unless btcd says the output is still unspent.
func (b *BtcdBackend) RegisterSpend(outpoint wire.OutPoint, pkScript []byte,
	heightHint int32) (*SpendEvent, error) {

	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stopped.Load() {
		return nil, ErrBackendShutdown
	}
	b.sweep()
	r := &spendReg{
		outpoint: outpoint,
		hint:     heightHint,
		spent:    newPipe[*SpendDetail](),
		reorged:  newPipe[struct{}](),
	}
	if err := b.tryScan(func(c *rpcclient.Client) error { return b.scanSpend(c, r) }); err != nil {
		r.stop()
		return nil, err
	}

	id := b.nextID
	b.nextID++
	b.spends[id] = r
	return &SpendEvent{
		Spend:   r.spent.out,
		Reorged: r.reorged.out,
		Cancel:  func() { b.cancel(regKey{regSpend, id}, r.stop) },
	}, nil
}
