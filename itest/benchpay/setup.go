package main

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/btcsuite/btcd/btcutil"

	"lnd.xprv/internal/regtest"
)

// chain is what the set-up needs of the regtest chain.
type chain struct {
	btcd *regtest.Btcd
}

// trio is one implementation's three nodes.
type trio struct {
	impl              string
	alice, bob, carol *restNode
}

func (n *trio) nodes() []*restNode { return []*restNode{n.alice, n.bob, n.carol} }

// poll calls f until it returns nil, ctx ends or timeout passes.
func poll(ctx context.Context, timeout time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %v: %w", timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

type getInfo struct {
	IdentityPubkey string `json:"identity_pubkey"`
	BlockHeight    int64  `json:"block_height"`
	SyncedToChain  bool   `json:"synced_to_chain"`
}

// waitSynced waits until the node is at height and synced; it records
// the node's identity key.
func waitSynced(ctx context.Context, n *restNode, height int32) error {
	return poll(ctx, 2*time.Minute, func() error {
		var info getInfo
		if err := n.do(ctx, "GET", "/v1/getinfo", nil, &info); err != nil {
			return err
		}
		n.pubKey = info.IdentityPubkey
		if info.BlockHeight < int64(height) || !info.SyncedToChain {
			return fmt.Errorf("%s at height %d (synced %v), want %d", n.name,
				info.BlockHeight, info.SyncedToChain, height)
		}
		return nil
	})
}

// mine mines blocks and waits until every node has them.
func (c *chain) mine(ctx context.Context, blocks int, nodes ...*restNode) error {
	if _, err := c.btcd.Generate(blocks); err != nil {
		return err
	}
	_, height := c.btcd.BestBlock()
	for _, n := range nodes {
		if err := waitSynced(ctx, n, height); err != nil {
			return err
		}
	}
	return nil
}

// fund pays amt from the miner to a new address of n.
func (c *chain) fund(ctx context.Context, n *restNode, amt btcutil.Amount) error {
	var addr struct {
		Address string `json:"address"`
	}
	if err := n.do(ctx, "GET", "/v1/newaddress?type=WITNESS_PUBKEY_HASH", nil, &addr); err != nil {
		return err
	}
	a, err := btcutil.DecodeAddress(addr.Address, regtest.Params)
	if err != nil {
		return fmt.Errorf("%s gave address %q: %w", n.name, addr.Address, err)
	}
	_, err = c.btcd.SendToAddress(a, amt)
	return err
}

// connect has a connect to b.
func connect(ctx context.Context, a, b *restNode) error {
	err := a.do(ctx, "POST", "/v1/peers", map[string]any{
		"addr": map[string]string{"pubkey": b.pubKey, "host": b.p2p}}, nil)
	if err != nil {
		return err
	}
	return poll(ctx, time.Minute, func() error {
		var peers struct {
			Peers []struct {
				PubKey string `json:"pub_key"`
			} `json:"peers"`
		}
		if err := a.do(ctx, "GET", "/v1/peers", nil, &peers); err != nil {
			return err
		}
		for _, p := range peers.Peers {
			if p.PubKey == b.pubKey {
				return nil
			}
		}
		return fmt.Errorf("%s not connected to %s", a.name, b.name)
	})
}

// openChannel has a open a channel of amt to b (OpenChannelSync).
func openChannel(ctx context.Context, a, b *restNode, amt btcutil.Amount,
	private bool) error {

	key, err := hex.DecodeString(b.pubKey)
	if err != nil {
		return err
	}
	return a.do(ctx, "POST", "/v1/channels", map[string]any{
		"node_pubkey":          base64.StdEncoding.EncodeToString(key),
		"local_funding_amount": strconv.FormatInt(int64(amt), 10),
		"private":              private,
	}, nil)
}

// waitActive waits until n has want active channels.
func waitActive(ctx context.Context, n *restNode, want int) error {
	return poll(ctx, 2*time.Minute, func() error {
		var list struct {
			Channels []struct {
				Active bool `json:"active"`
			} `json:"channels"`
		}
		if err := n.do(ctx, "GET", "/v1/channels", nil, &list); err != nil {
			return err
		}
		active := 0
		for _, c := range list.Channels {
			if c.Active {
				active++
			}
		}
		if active != want {
			return fmt.Errorf("%s has %d active channels of %d, want %d",
				n.name, active, len(list.Channels), want)
		}
		return nil
	})
}

// build funds alice and bob, connects alice to bob and bob to carol,
// opens alice→bob and bob→carol, and waits until both are active. bob's
// channel to carol is private: carol's invoices carry it as a route
// hint, so that the two-hop shape needs no gossip (whose timing differs
// between implementations).
func (c *chain) build(ctx context.Context, n *trio, chanAmt btcutil.Amount,
	logf func(string, ...any)) error {

	_, height := c.btcd.BestBlock()
	for _, node := range n.nodes() {
		if err := waitSynced(ctx, node, height); err != nil {
			return err
		}
	}
	for _, node := range []*restNode{n.alice, n.bob} {
		if err := c.fund(ctx, node, 2*chanAmt); err != nil {
			return err
		}
	}
	if err := c.mine(ctx, 6, n.nodes()...); err != nil {
		return err
	}
	if err := connect(ctx, n.alice, n.bob); err != nil {
		return err
	}
	if err := connect(ctx, n.bob, n.carol); err != nil {
		return err
	}
	// The wallets may need a moment to count the new coins.
	for i, pair := range [][2]*restNode{{n.alice, n.bob}, {n.bob, n.carol}} {
		err := poll(ctx, time.Minute, func() error {
			return openChannel(ctx, pair[0], pair[1], chanAmt, i == 1)
		})
		if err != nil {
			return err
		}
	}
	// Six blocks: deep enough to announce alice's channel.
	if err := c.mine(ctx, 6, n.nodes()...); err != nil {
		return err
	}
	for node, want := range map[*restNode]int{n.alice: 1, n.bob: 2, n.carol: 1} {
		if err := waitActive(ctx, node, want); err != nil {
			return err
		}
	}
	logf("%s: channels active", n.impl)
	return nil
}
