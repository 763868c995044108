package harness

import (
	"context"
	"fmt"
	"time"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/internal/regtest"
	"lnd.xprv/rpc/lnrpc"
)

// callTimeout bounds a single RPC inside a wait loop.
const callTimeout = 10 * time.Second

// NewAddress asks the node for a new address of the given type and decodes
// it for regtest.
func (n *Node) NewAddress(ctx context.Context, t lnrpc.AddressType) (btcutil.Address, error) {
	resp, err := n.RPC.NewAddress(ctx, &lnrpc.NewAddressRequest{Type: t})
	if err != nil {
		return nil, fmt.Errorf("harness: %s: NewAddress: %w", n.Name(), err)
	}
	addr, err := btcutil.DecodeAddress(resp.Address, regtest.Params)
	if err != nil {
		return nil, fmt.Errorf("harness: %s: NewAddress gave %q: %w", n.Name(), resp.Address, err)
	}
	if !addr.IsForNet(regtest.Params) {
		return nil, fmt.Errorf("harness: %s: address %s is not for regtest", n.Name(), resp.Address)
	}
	return addr, nil
}

// Info calls GetInfo.
func (n *Node) Info() (*lnrpc.GetInfoResponse, error) {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	info, err := n.RPC.GetInfo(ctx, &lnrpc.GetInfoRequest{})
	if err != nil {
		return nil, fmt.Errorf("harness: %s: GetInfo: %w", n.Name(), err)
	}
	return info, nil
}

// Balance calls WalletBalance.
func (n *Node) Balance() (*lnrpc.WalletBalanceResponse, error) {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	bal, err := n.RPC.WalletBalance(ctx, &lnrpc.WalletBalanceRequest{})
	if err != nil {
		return nil, fmt.Errorf("harness: %s: WalletBalance: %w", n.Name(), err)
	}
	return bal, nil
}

// WaitHeight waits until the node reports at least height and
// synced_to_chain.
func (n *Node) WaitHeight(height int32) error {
	err := WaitFor(func() error {
		info, err := n.Info()
		if err != nil {
			return err
		}
		if int32(info.BlockHeight) < height || !info.SyncedToChain {
			return fmt.Errorf("at height %d (synced %v), want %d",
				info.BlockHeight, info.SyncedToChain, height)
		}
		return nil
	}, SyncTimeout)
	if err != nil {
		return fmt.Errorf("harness: %s: %w", n.Name(), err)
	}
	return nil
}

// WaitConfirmedBalance waits until the node's confirmed balance is want.
func (n *Node) WaitConfirmedBalance(want int64) error {
	return n.WaitBalance(func(b *lnrpc.WalletBalanceResponse) error {
		if b.ConfirmedBalance != want {
			return fmt.Errorf("confirmed balance %d (unconfirmed %d), want %d",
				b.ConfirmedBalance, b.UnconfirmedBalance, want)
		}
		return nil
	})
}

// WaitBalance waits until check accepts the node's WalletBalance.
func (n *Node) WaitBalance(check func(*lnrpc.WalletBalanceResponse) error) error {
	err := WaitFor(func() error {
		bal, err := n.Balance()
		if err != nil {
			return err
		}
		return check(bal)
	}, SyncTimeout)
	if err != nil {
		return fmt.Errorf("harness: %s: %w", n.Name(), err)
	}
	return nil
}

// Peer returns the node's ListPeers entry for pubKey, or nil.
func (n *Node) Peer(pubKey string) (*lnrpc.Peer, error) {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	resp, err := n.RPC.ListPeers(ctx, &lnrpc.ListPeersRequest{})
	if err != nil {
		return nil, fmt.Errorf("harness: %s: ListPeers: %w", n.Name(), err)
	}
	for _, p := range resp.Peers {
		if p.PubKey == pubKey {
			return p, nil
		}
	}
	return nil, nil
}

// WaitPeer waits until the node lists pubKey as a peer and returns the
// entry.
func (n *Node) WaitPeer(pubKey string) error {
	err := WaitFor(func() error {
		p, err := n.Peer(pubKey)
		if err != nil {
			return err
		}
		if p == nil {
			return fmt.Errorf("no peer %s", pubKey)
		}
		return nil
	}, SyncTimeout)
	if err != nil {
		return fmt.Errorf("harness: %s: %w", n.Name(), err)
	}
	return nil
}

// WaitNoPeer waits until the node no longer lists pubKey.
func (n *Node) WaitNoPeer(pubKey string) error {
	err := WaitFor(func() error {
		p, err := n.Peer(pubKey)
		if err != nil {
			return err
		}
		if p != nil {
			return fmt.Errorf("still connected to %s", pubKey)
		}
		return nil
	}, SyncTimeout)
	if err != nil {
		return fmt.Errorf("harness: %s: %w", n.Name(), err)
	}
	return nil
}

// ChainTx is a transaction as btcd sees it, with what it pays.
type ChainTx struct {
	Tx    *wire.MsgTx
	Fee   int64 // inputs minus outputs, in satoshis
	VSize int64 // virtual size, vbytes
}

// FeeRate is the fee per vbyte.
func (c *ChainTx) FeeRate() float64 { return float64(c.Fee) / float64(c.VSize) }

// WaitTx waits until btcd knows the transaction (mempool or chain) and
// returns it with its fee, computed from the outputs it spends.
func (n *Network) WaitTx(txid string) (*ChainTx, error) {
	hash, err := chainhash.NewHashFromStr(txid)
	if err != nil {
		return nil, fmt.Errorf("harness: txid %q: %w", txid, err)
	}
	c := n.btcd.Client()
	var tx *btcutil.Tx
	err = WaitFor(func() error {
		tx, err = c.GetRawTransaction(hash)
		return err
	}, SyncTimeout)
	if err != nil {
		return nil, fmt.Errorf("harness: tx %s: %w", txid, err)
	}
	msg := tx.MsgTx()
	var in, out int64
	for _, txIn := range msg.TxIn {
		prev, err := c.GetRawTransaction(&txIn.PreviousOutPoint.Hash)
		if err != nil {
			return nil, fmt.Errorf("harness: input %v of %s: %w", txIn.PreviousOutPoint, txid, err)
		}
		outs := prev.MsgTx().TxOut
		if int(txIn.PreviousOutPoint.Index) >= len(outs) {
			return nil, fmt.Errorf("harness: input %v of %s: no such output", txIn.PreviousOutPoint, txid)
		}
		in += outs[txIn.PreviousOutPoint.Index].Value
	}
	for _, txOut := range msg.TxOut {
		out += txOut.Value
	}
	weight := blockchain.GetTransactionWeight(tx)
	return &ChainTx{
		Tx:    msg,
		Fee:   in - out,
		VSize: (weight + blockchain.WitnessScaleFactor - 1) / blockchain.WitnessScaleFactor,
	}, nil
}

// MempoolSize is the number of transactions in btcd's mempool.
func (n *Network) MempoolSize() (int, error) {
	txs, err := n.btcd.Client().GetRawMempool()
	if err != nil {
		return 0, fmt.Errorf("harness: mempool: %w", err)
	}
	return len(txs), nil
}
