package main

import (
	"context"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"

	"lnd.xprv/rpc"
	"lnd.xprv/wallet"
)

// nodeSigner signs messages with the node key, which stays in the wallet.
type nodeSigner struct {
	w *wallet.Wallet
}

var _ rpc.NodeSigner = (*nodeSigner)(nil)

func (n *nodeSigner) SignCompact(_ context.Context, digest [32]byte) ([]byte, error) {
	key, err := n.w.NodeKey()
	if err != nil {
		return nil, err
	}
	return n.w.SignDigestCompact(key.KeyLocator, digest)
}

// KnownNode: the node knows itself. It keeps no channel graph yet, so no
// other node counts as known (lnd answers the same for a node outside its
// graph).
func (n *nodeSigner) KnownNode(_ context.Context, pub *btcec.PublicKey) (bool, error) {
	key, err := n.w.NodeKey()
	if err != nil {
		return false, err
	}
	return key.PubKey.IsEqual(pub), nil
}

// recovery reports the rescan of a wallet restored at this start. Such a
// wallet scans from the genesis block, so progress is the share of the
// chain scanned.
type recovery struct {
	d *daemon
}

func (r *recovery) RecoveryInfo(ctx context.Context) (*rpc.RecoveryInfo, error) {
	if !r.d.loader.restoredNow() {
		return &rpc.RecoveryInfo{}, nil
	}
	height, _, err := r.d.wallet.SyncedTo()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, bestBlockTimeout)
	defer cancel()
	_, best, err := r.d.chain.BestBlock(ctx)
	if err != nil {
		return nil, fmt.Errorf("best block: %w", err)
	}
	progress := 1.0
	if height < best {
		progress = float64(max(height, 0)) / float64(best)
	}
	return &rpc.RecoveryInfo{Recovering: true, Progress: progress}, nil
}
