package rpc

import (
	"bytes"
	"context"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"lnd.xprv/chain"
	"lnd.xprv/rpc/lnrpc/chainrpc"
)

// maxNumConfs is the deepest confirmation a client may wait for, lnd's
// limit.
const maxNumConfs = 1000

// msgNotifierStopped ends a stream whose registration the backend closed.
const msgNotifierStopped = "chain notifier stopped: node shutting down"

// chainNotifierService implements chainrpc.ChainNotifierServer. Each stream
// holds one registration with the chain backend and cancels it when the
// stream ends, whoever ends it.
type chainNotifierService struct {
	chainrpc.UnimplementedChainNotifierServer
	s *Server
}

func (c *chainNotifierService) notifier() (ChainNotifier, error) {
	b := c.s.backend.Load()
	if b == nil {
		return nil, status.Error(codes.Unavailable, msgRPCStarting)
	}
	if b.Notifier == nil {
		return nil, status.Error(codes.Unimplemented, "ChainNotifier is not served by this node")
	}
	return b.Notifier, nil
}

// hash32 parses a 32-byte hash in internal byte order that must not be
// zero.
func hash32(field string, b []byte) (chainhash.Hash, error) {
	var h chainhash.Hash
	if len(b) != chainhash.HashSize {
		return h, invalidf("%s must be 32 bytes, got %d", field, len(b))
	}
	copy(h[:], b)
	if h == (chainhash.Hash{}) {
		return h, invalidf("%s is zero: script-only requests are not supported by "+
			"this node's full-node backend", field)
	}
	return h, nil
}

func (c *chainNotifierService) RegisterConfirmationsNtfn(req *chainrpc.ConfRequest,
	stream chainrpc.ChainNotifier_RegisterConfirmationsNtfnServer) error {

	n, err := c.notifier()
	if err != nil {
		return err
	}
	txid, err := hash32("txid", req.Txid)
	if err != nil {
		return err
	}
	if len(req.Script) == 0 {
		return invalidf("script is required")
	}
	if req.NumConfs == 0 || req.NumConfs > maxNumConfs {
		return invalidf("num_confs must be between 1 and %d", maxNumConfs)
	}
	reg, err := n.RegisterConfirmations(txid, req.Script, req.NumConfs, int32(min(req.HeightHint, 1<<31-1)))
	if err != nil {
		return c.s.toStatus(err)
	}
	defer reg.Cancel()
	ctx := stream.Context()
	updates := reg.Updates
	for {
		var ev *chainrpc.ConfEvent
		select {
		case conf, ok := <-reg.Confirmed:
			if !ok {
				return status.Error(codes.Unavailable, msgNotifierStopped)
			}
			details, err := c.confDetails(ctx, n, conf, req.IncludeBlock)
			if err != nil {
				return c.s.toStatus(err)
			}
			ev = &chainrpc.ConfEvent{Event: &chainrpc.ConfEvent_Conf{Conf: details}}
		case _, ok := <-reg.Reorged:
			if !ok {
				return status.Error(codes.Unavailable, msgNotifierStopped)
			}
			ev = &chainrpc.ConfEvent{Event: &chainrpc.ConfEvent_Reorg{Reorg: &chainrpc.Reorg{}}}
		case _, ok := <-updates:
			// Counts below the requested depth are not part of lnd's
			// stream; drained so that they do not pile up.
			if !ok {
				updates = nil
			}
			continue
		case <-ctx.Done():
			return c.s.toStatus(ctx.Err())
		}
		if err := stream.Send(ev); err != nil {
			return err
		}
	}
}

func (c *chainNotifierService) confDetails(ctx context.Context, n ChainNotifier,
	conf *chain.TxConfirmation, includeBlock bool) (*chainrpc.ConfDetails, error) {

	rawTx, err := serializeTx(conf.Tx)
	if err != nil {
		return nil, err
	}
	d := &chainrpc.ConfDetails{
		RawTx:       rawTx,
		BlockHash:   conf.BlockHash[:],
		BlockHeight: uint32(conf.BlockHeight),
		TxIndex:     conf.TxIndex,
	}
	if includeBlock {
		blk := conf.Block
		if blk == nil {
			if blk, err = n.Block(ctx, conf.BlockHash); err != nil {
				return nil, err
			}
		}
		var buf bytes.Buffer
		if err := blk.Serialize(&buf); err != nil {
			return nil, err
		}
		d.RawBlock = buf.Bytes()
	}
	return d, nil
}

func (c *chainNotifierService) RegisterSpendNtfn(req *chainrpc.SpendRequest,
	stream chainrpc.ChainNotifier_RegisterSpendNtfnServer) error {

	n, err := c.notifier()
	if err != nil {
		return err
	}
	if req.Outpoint == nil {
		return invalidf("outpoint is required: script-only requests are not supported " +
			"by this node's full-node backend")
	}
	h, err := hash32("outpoint hash", req.Outpoint.Hash)
	if err != nil {
		return err
	}
	op := wire.OutPoint{Hash: h, Index: req.Outpoint.Index}
	reg, err := n.RegisterSpend(op, req.Script, int32(min(req.HeightHint, 1<<31-1)))
	if err != nil {
		return c.s.toStatus(err)
	}
	defer reg.Cancel()
	ctx := stream.Context()
	for {
		var ev *chainrpc.SpendEvent
		select {
		case d, ok := <-reg.Spend:
			if !ok {
				return status.Error(codes.Unavailable, msgNotifierStopped)
			}
			raw, err := serializeTx(d.SpendingTx)
			if err != nil {
				return c.s.toStatus(err)
			}
			ev = &chainrpc.SpendEvent{Event: &chainrpc.SpendEvent_Spend{Spend: &chainrpc.SpendDetails{
				SpendingOutpoint: &chainrpc.Outpoint{
					Hash: d.SpentOutPoint.Hash[:], Index: d.SpentOutPoint.Index},
				RawSpendingTx:      raw,
				SpendingTxHash:     d.SpenderTxHash[:],
				SpendingInputIndex: d.SpenderInputIndex,
				SpendingHeight:     uint32(d.SpendingHeight),
			}}}
		case _, ok := <-reg.Reorged:
			if !ok {
				return status.Error(codes.Unavailable, msgNotifierStopped)
			}
			ev = &chainrpc.SpendEvent{Event: &chainrpc.SpendEvent_Reorg{Reorg: &chainrpc.Reorg{}}}
		case <-ctx.Done():
			return c.s.toStatus(ctx.Err())
		}
		if err := stream.Send(ev); err != nil {
			return err
		}
	}
}

// RegisterBlockEpochNtfn sends the blocks after the client's best block
// (the request; without one, the tip alone), then each block connected to
// the best chain. Disconnected blocks are not sent: the client sees the
// height go down and takes the blocks above as stale, as with lnd.
func (c *chainNotifierService) RegisterBlockEpochNtfn(req *chainrpc.BlockEpoch,
	stream chainrpc.ChainNotifier_RegisterBlockEpochNtfnServer) error {

	n, err := c.notifier()
	if err != nil {
		return err
	}
	if len(req.Hash) != 0 && len(req.Hash) != chainhash.HashSize {
		return invalidf("hash must be empty or 32 bytes, got %d", len(req.Hash))
	}
	// Register before reading the tip, so that no block falls between.
	reg, err := n.RegisterBlockEpochs()
	if err != nil {
		return c.s.toStatus(err)
	}
	defer reg.Cancel()
	ctx := stream.Context()
	sent, err := c.sendBacklog(ctx, n, req, stream)
	if err != nil {
		return err
	}
	reorged := false
	for {
		select {
		case ev, ok := <-reg.Events:
			if !ok {
				return status.Error(codes.Unavailable, msgNotifierStopped)
			}
			if ev.Disconnected {
				reorged = true
				continue
			}
			if !reorged && ev.Height <= sent {
				continue // already sent with the backlog
			}
			out := &chainrpc.BlockEpoch{Hash: ev.Hash[:], Height: uint32(ev.Height)}
			if err := stream.Send(out); err != nil {
				return err
			}
		case <-ctx.Done():
			return c.s.toStatus(ctx.Err())
		}
	}
}

// sendBacklog sends the blocks above the client's best block up to the
// tip, or the tip alone, and returns the height sent last.
func (c *chainNotifierService) sendBacklog(ctx context.Context, n ChainNotifier,
	req *chainrpc.BlockEpoch, stream chainrpc.ChainNotifier_RegisterBlockEpochNtfnServer) (int32, error) {

	tipHash, tip, err := n.BestBlock(ctx)
	if err != nil {
		return 0, c.s.toStatus(err)
	}
	from := tip
	if len(req.Hash) != 0 && int64(req.Height) < int64(tip) {
		from = int32(req.Height) + 1
	}
	for h := from; h <= tip; h++ {
		hash := tipHash
		if h != tip {
			if hash, err = n.BlockHash(ctx, h); err != nil {
				return 0, c.s.toStatus(err)
			}
		}
		if err := stream.Send(&chainrpc.BlockEpoch{Hash: hash[:], Height: uint32(h)}); err != nil {
			return 0, err
		}
	}
	return tip, nil
}
