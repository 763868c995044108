package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"lnd.xprv/chain"
	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwire"
	"lnd.xprv/routing"
	"lnd.xprv/server"
)

// zombieInterval is how often channels are checked for staleness (lnd
// checks hourly).
const zombieInterval = time.Hour

// gossipSystem wires the channel graph, gossip validation and gossip sync
// to the chain backend and the server: blocks prune spent channels, peers
// coming and going start and stop syncing, peers' gossip messages go to
// the syncer.
type gossipSystem struct {
	db      *channeldb.DB
	graph   *routing.ChannelGraph
	gossip  *routing.Gossiper
	syncer  *routing.Syncer
	backend *chain.BtcdBackend
	log     *slog.Logger

	quit chan struct{}
	wg   sync.WaitGroup
}

// openGossip fills the graph cache from the channel database.
func openGossip(cfg *config, db *channeldb.DB, backend *chain.BtcdBackend,
	send func([33]byte, ...lnwire.Message) error, log *slog.Logger) (*gossipSystem, error) {

	graph, err := routing.OpenChannelGraph(db)
	if err != nil {
		return nil, err
	}
	chainHash := *cfg.network.Params.GenesisHash
	g := &gossipSystem{db: db, graph: graph, backend: backend, log: log, quit: make(chan struct{})}
	g.gossip = routing.NewGossiper(routing.GossiperConfig{
		ChainHash: chainHash, Graph: graph, Chain: backend, Log: log,
		AliasBase: func(alias lnwire.ShortChannelID) (lnwire.ShortChannelID, bool) {
			return aliasBase(db, alias, log)
		},
	})
	g.syncer = routing.NewSyncer(routing.SyncerConfig{
		ChainHash: chainHash, Graph: graph, Gossiper: g.gossip, Send: send,
		TrickleDelay: time.Duration(cfg.TrickleDelay) * time.Millisecond, Log: log,
	})
	log.Info("Channel graph loaded", "nodes", graph.Cache().NumNodes(), "channels", graph.Cache().NumChannels())
	return g, nil
}

// start catches the graph up with the chain, then follows blocks, peers
// and the zombie clock.
func (g *gossipSystem) start(ctx context.Context, srv *server.Server) error {
	epochs, err := g.backend.RegisterBlockEpochs()
	if err != nil {
		return fmt.Errorf("block epochs: %w", err)
	}
	if err := g.catchUp(ctx); err != nil {
		epochs.Cancel()
		return err
	}
	// Peers that connected during the catch-up are reported too.
	peers, err := srv.FollowPeers()
	if err != nil {
		epochs.Cancel()
		return err
	}
	if err := g.syncer.Start(); err != nil {
		epochs.Cancel()
		peers.Cancel()
		return err
	}
	g.wg.Add(2)
	go g.blockLoop(epochs)
	go g.peerLoop(srv, peers)
	return nil
}

// stop ends the loops; the database is closed by its opener, after the
// server whose peers feed the syncer has stopped.
func (g *gossipSystem) stop() {
	close(g.quit)
	g.wg.Wait()
	g.syncer.Stop()
}

// handle queues a peer's gossip message for the syncer; ok is false for
// messages that are not gossip.
func (g *gossipSystem) handle(from [33]byte, msg lnwire.Message) (ok bool) {
	switch msg.(type) {
	case *lnwire.ChannelAnnouncement, *lnwire.ChannelUpdate, *lnwire.NodeAnnouncement,
		*lnwire.QueryChannelRange, *lnwire.ReplyChannelRange, *lnwire.QueryShortChanIDs,
		*lnwire.ReplyShortChanIDsEnd, *lnwire.GossipTimestampRange:
		g.syncer.Enqueue(from, msg)
		return true
	}
	return false
}

// catchUp prunes the blocks mined since the last prune; a new graph
// starts at the current tip.
func (g *gossipSystem) catchUp(ctx context.Context) error {
	_, best, err := g.backend.BestBlock(ctx)
	if err != nil {
		return fmt.Errorf("best block: %w", err)
	}
	var tip channeldb.PruneTip
	var ok bool
	err = g.db.View(func(tx kvdb.RTx) error {
		var err error
		tip, ok, err = channeldb.FetchPruneTip(tx)
		return err
	})
	if err != nil {
		return err
	}
	if !ok {
		tip.Height = best
		hash, err := g.backend.BlockHash(ctx, best)
		if err != nil {
			return err
		}
		return g.graph.RemoveChannels(nil, &channeldb.PruneTip{Height: best, Hash: hash})
	}
	for h := tip.Height + 1; h <= best; h++ {
		if err := g.pruneHeight(ctx, h); err != nil {
			return err
		}
	}
	if _, err := g.gossip.PruneZombies(); err != nil {
		return err
	}
	return nil
}

func (g *gossipSystem) pruneHeight(ctx context.Context, h int32) error {
	hash, err := g.backend.BlockHash(ctx, h)
	if err != nil {
		return fmt.Errorf("block %d: %w", h, err)
	}
	block, err := g.backend.Block(ctx, hash)
	if err != nil {
		return fmt.Errorf("block %d: %w", h, err)
	}
	_, err = g.gossip.PruneBlock(block, h)
	return err
}

func (g *gossipSystem) blockLoop(epochs *chain.BlockEpochs) {
	defer g.wg.Done()
	defer epochs.Cancel()
	zombies := time.NewTicker(zombieInterval)
	defer zombies.Stop()
	for {
		select {
		case ev, ok := <-epochs.Events:
			if !ok {
				return
			}
			if ev.Disconnected {
				// The prune tip steps back so that a restart
				// re-reads the replacing blocks; the new best
				// chain's blocks follow as connected events.
				tip := channeldb.PruneTip{Height: ev.Height - 1}
				if ev.Header != nil {
					tip.Hash = ev.Header.PrevBlock
				}
				if err := g.graph.RemoveChannels(nil, &tip); err != nil {
					g.log.Error("Prune tip not moved back", "height", ev.Height, "err", err)
				}
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			if err := g.pruneHeight(ctx, ev.Height); err != nil && !errors.Is(err, chain.ErrBackendShutdown) {
				g.log.Error("Graph pruning failed", "height", ev.Height, "err", err)
			}
			cancel()
		case <-zombies.C:
			if _, err := g.gossip.PruneZombies(); err != nil {
				g.log.Error("Zombie pruning failed", "err", err)
			}
		case <-g.quit:
			return
		}
	}
}

func (g *gossipSystem) peerLoop(srv *server.Server, sub *server.PeerEventSubscription) {
	defer g.wg.Done()
	defer sub.Cancel()
	for {
		select {
		case ev, ok := <-sub.Events():
			if !ok {
				return
			}
			switch ev.Type {
			case server.PeerOnline:
				queries := false
				if p := srv.FindPeer(ev.PubKey); p != nil && p.RemoteFeatures() != nil {
					queries = p.RemoteFeatures().HasFeature(lnwire.GossipQueriesOptional)
				}
				g.syncer.PeerOnline(ev.PubKey, queries)
			case server.PeerOffline:
				g.syncer.PeerOffline(ev.PubKey)
				g.gossip.ForgetPeer(ev.PubKey)
			}
		case <-g.quit:
			return
		}
	}
}

// aliasBase finds the open channel we gave the peer the SCID alias
// alias for: its real scid, once it has one.
func aliasBase(db *channeldb.DB, alias lnwire.ShortChannelID, log *slog.Logger) (lnwire.ShortChannelID, bool) {
	heads, err := db.ListChannelHeads()
	if err != nil {
		log.Warn("Channels not listed for an alias", "alias", alias, "err", err)
		return lnwire.ShortChannelID{}, false
	}
	for _, h := range heads {
		if h.ShortChannelID.ToUint64() == 0 {
			continue
		}
		for _, a := range h.Aliases {
			if a == alias {
				return h.ShortChannelID, true
			}
		}
	}
	return lnwire.ShortChannelID{}, false
}
