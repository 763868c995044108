package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/lightningnetwork/lnd/tor"
	clientv3 "go.etcd.io/etcd/client/v3"

	"lnd.xprv/brontide"
	"lnd.xprv/chain"
	"lnd.xprv/channeldb"
	"lnd.xprv/cluster"
	"lnd.xprv/contractcourt"
	"lnd.xprv/funding"
	"lnd.xprv/htlcswitch"
	"lnd.xprv/internal/logging"
	"lnd.xprv/invoices"
	"lnd.xprv/invoices/bolt11"
	"lnd.xprv/lnwire"
	"lnd.xprv/peer"
	"lnd.xprv/routing"
	"lnd.xprv/rpc"
	"lnd.xprv/server"
	"lnd.xprv/wallet"
)

// version is xlnd's own version; GetInfo reports it after an lnd-like one.
const version = "0.1.0"

// devPassword seals the wallet and macaroon root key of a --noseedbackup
// node. It protects nothing, as in lnd; such a node is for tests only.
var devPassword = []byte("hello")

func run(args []string) error {
	cfg, err := loadConfig(args)
	if err != nil {
		return err
	}
	if cfg.ShowVersion {
		fmt.Println("xlnd version", version, "("+rpc.DefaultVersion+")")
		return nil
	}
	logs, closer, err := setupLogging(cfg)
	if err != nil {
		return err
	}
	defer closer.Close()

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()

	d := &daemon{cfg: cfg, logs: logs, log: logs.Logger("XLND"), stopReq: make(chan struct{}),
		failed: make(chan error, 1)}
	err = d.run(ctx)
	if err != nil {
		d.log.Error("xlnd stopped with an error", "err", err)
	} else {
		d.log.Info("xlnd stopped")
	}
	return err
}

// daemon holds the running subsystems; it is the wiring and nothing more.
type daemon struct {
	cfg  *config
	logs *logging.Manager
	log  *slog.Logger

	chain  *chain.BtcdBackend
	loader *walletLoader
	rpc    *rpc.Server
	wallet *wallet.Wallet
	srv    *server.Server
	graph  *routing.ChannelGraph
	syncer *routing.Syncer

	chanDB  *channeldb.DB
	funding *funding.Manager
	sw      *htlcswitch.Switch
	links   *htlcswitch.Links
	court   *contractcourt.Court
	closer  *closer
	events  *chanEvents

	// announcing publishes our own node and channels.
	announcing *announcing

	// onionAddrs are the onion services published for the peer port.
	onionAddrs []string

	stopReq  chan struct{}
	stopOnce sync.Once

	// identity is the node's public key once derived (IdentityKey).
	identity atomic.Pointer[btcec.PublicKey]

	// etcdCli is the etcd client with --db.backend=etcd; leader is the
	// won election with --cluster.enable-leader-election.
	etcdCli *clientv3.Client
	leader  *cluster.Leader
	// failed carries the error that stops a running node (etcd or the
	// leadership lost).
	failed   chan error
	failOnce sync.Once
}

// requestStop is the StopDaemon RPC: it returns at once.
func (d *daemon) requestStop() {
	d.stopOnce.Do(func() { close(d.stopReq) })
}

// run starts the subsystems in order, waits for a signal or StopDaemon, and
// stops them in reverse order.
func (d *daemon) run(ctx context.Context) error {
	cfg := d.cfg
	d.log.Info("xlnd starting", "version", version, "network", cfg.network.Name,
		"datadir", cfg.DataDir)

	if err := os.MkdirAll(cfg.chainDir(), 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	stopProfiler, err := startProfiler(cfg, d.log)
	if err != nil {
		return err
	}
	defer stopProfiler()
	if err := d.connectEtcd(ctx); err != nil {
		return err
	}
	if d.etcdCli != nil {
		defer d.etcdCli.Close()
	}

	btcdCert, err := os.ReadFile(cfg.Btcd.RPCCert)
	if err != nil {
		return fmt.Errorf("--btcd.rpccert: %w", err)
	}
	d.chain, err = chain.NewBtcdBackend(chain.BtcdConfig{
		Host:        cfg.Btcd.RPCHost,
		User:        cfg.Btcd.RPCUser,
		Pass:        cfg.Btcd.RPCPass,
		Cert:        btcdCert,
		ChainParams: cfg.network.Params,
		Logger:      d.logs.Logger("CHAIN"),
	})
	if err != nil {
		return fmt.Errorf("chain backend: %w", err)
	}

	d.loader = &walletLoader{cfg: wallet.Config{
		DBPath: filepath.Join(cfg.chainDir(), "wallet.db"),
		Net:    cfg.network.Params,
		Chain:  d.chain,
		Logger: d.logs.Logger("WLLT"),
	}}
	defer d.loader.close()
	election := cfg.Cluster.EnableLeaderElection
	if d.etcdCli != nil && !election {
		d.loader.cfg.DB = d.etcdDB("wallet")
	}

	// The RPC server comes first: the wallet is created or unlocked
	// through it.
	d.rpc, err = rpc.New(rpc.Config{
		Network:         cfg.network,
		TLSCertPath:     cfg.TLSCertPath,
		TLSKeyPath:      cfg.TLSKeyPath,
		TLSExtraIPs:     cfg.TLSExtraIPs,
		TLSExtraDomains: cfg.TLSExtraDomains,
		RPCListen:       cfg.RPCListeners,
		RESTListen:      cfg.RESTListeners,
		MacaroonDir:     cfg.chainDir(),
		Loader:          d.loader,
		Logger:          d.logs.Logger("RPCS"),
		WaitToStart:     election,
	})
	if err != nil {
		return err
	}
	if err := d.rpc.Start(ctx); err != nil {
		return err
	}
	defer d.rpc.Stop()

	if election {
		if ok, err := d.lead(ctx); !ok {
			return err
		}
		defer d.resign()
		d.loader.cfg.DB = d.etcdDB("wallet")
		if err := d.rpc.Proceed(ctx); err != nil {
			return err
		}
	}
	if d.etcdCli != nil {
		quit := make(chan struct{})
		defer close(quit)
		go d.watchEtcd(quit)
	}

	if err := d.unlockAtStart(ctx); err != nil {
		return err
	}
	select {
	case <-d.rpc.Unlocked():
	case <-ctx.Done():
		return nil
	}
	d.wallet = d.loader.opened()
	if d.wallet == nil {
		return errors.New("wallet unlocked but not open")
	}
	releaseStartupMemory(d.log)

	if err := d.chain.Start(); err != nil {
		return fmt.Errorf("chain backend at %s: %w", cfg.Btcd.RPCHost, err)
	}
	defer d.chain.Stop()

	if err := d.wallet.Start(); err != nil {
		return fmt.Errorf("wallet: %w", err)
	}
	// The wallet stops before the chain backend it follows (the loader's
	// close stops it again, harmlessly).
	defer d.wallet.Stop()

	nodeKey, err := d.wallet.NodeKeyECDH()
	if err != nil {
		return fmt.Errorf("node key: %w", err)
	}

	dial := brontide.DialFunc(net.DialTimeout)
	if cfg.Tor.Active {
		proxy := &tor.ProxyNet{SOCKS: cfg.Tor.SOCKS, StreamIsolation: cfg.Tor.StreamIsolation}
		dial = proxy.Dial
		if cfg.Tor.V3 {
			stopTor, err := d.startOnionService()
			if err != nil {
				return err
			}
			defer stopTor()
		}
	}

	// One channel database for every store of the node (lnd's layout:
	// <datadir>/data/graph/<network>/channel.db); bbolt allows one
	// opener per file.
	chanDB, err := d.openChannelDB()
	if err != nil {
		return err
	}
	defer chanDB.Close()

	registry, err := d.startInvoices(chanDB)
	if err != nil {
		return err
	}
	defer registry.Stop()

	gossip, err := openGossip(cfg, chanDB, d.chain, func(pub [33]byte, msgs ...lnwire.Message) error {
		return d.srv.SendToPeer(pub, msgs...)
	}, d.logs.Logger("GOSP"))
	if err != nil {
		return fmt.Errorf("channel graph: %w", err)
	}
	d.graph, d.syncer = gossip.graph, gossip.syncer
	d.chanDB = chanDB
	mc, err := newMissionControl(chanDB, nodeKey.PubKey().SerializeCompressed(),
		d.cfg.Routerrpc.MCFlushInterval, d.logs.Logger("CRTR"))
	if err != nil {
		return err
	}
	// Stopped before the channel database closes: Stop saves what the
	// last reports changed.
	if err := mc.Start(); err != nil {
		return err
	}
	defer func() {
		if err := mc.Stop(); err != nil {
			d.log.Error("Mission control not saved at shutdown", "err", err)
		}
	}()
	peerLog := d.logs.Logger("PEER")
	d.announcing = d.newAnnouncing(gossip, [33]byte(nodeKey.PubKey().SerializeCompressed()))

	// The funding manager reaches peers through the server (d.srv, set
	// below, before anything runs); the server starts it once its query
	// loop runs and before it accepts peers.
	d.funding, err = d.newFundingManager(d.chanDB)
	if err != nil {
		return err
	}
	// Links exist before any peer connects, so that the first
	// channel_reestablish of a peer finds its channel's link; they stop
	// before the channel database closes, and the close watches first.
	d.sw = d.newSwitch(nodeKey, registry)
	d.links = d.sw.Links()
	defer d.links.Stop()
	d.events = newChanEvents(d.logs.Logger("CHCL"))
	d.closer = newCloser(d, d.events)
	defer d.closer.stop()
	if err := d.startLinks(); err != nil {
		return err
	}
	d.court = d.newCourt(registry)
	route := peerMessages(d.funding, d.links, d.pendingWith, func(p msgPeer, msg lnwire.Message) {
		if !d.announcing.handle(p, msg) && !gossip.handle(p.PubKey(), msg) {
			peerLog.Debug("No handler for message; dropped", "peer",
				fmt.Sprintf("%x", p.PubKey()), "type", msg.MsgType())
		}
	}, d.logs.Logger("FNDG"))
	d.srv, err = server.New(server.Config{
		NodeKey:       nodeKey,
		ChainHash:     *cfg.network.Params.GenesisHash,
		Features:      initFeatures(cfg),
		Required:      requiredFeatures,
		ListenAddrs:   cfg.Listeners,
		MaxInbound:    cfg.MaxInbound,
		Dial:          dial,
		Logger:        d.logs.Logger("SRVR"),
		PeerLogger:    peerLog,
		Subsystems:    []server.Subsystem{d.funding, d.sw, d.court},
		OnPeerMessage: func(p *peer.Peer, msg lnwire.Message) { route(p, msg) },
	})
	if err != nil {
		return err
	}
	if err := d.srv.Start(); err != nil {
		if errors.Is(err, server.ErrListen) {
			return fmt.Errorf("--listen: %w", err)
		}
		return err
	}
	defer d.srv.Stop()
	if err := gossip.start(ctx, d.srv); err != nil {
		return fmt.Errorf("gossip: %w", err)
	}
	defer gossip.stop()
	if err := d.announcing.start(gossip); err != nil {
		return err
	}
	defer d.announcing.stop()

	// Payments resume once the switch runs (it knows which attempts
	// left before), and stop before it.
	payDone := make(chan struct{})
	defer close(payDone)
	payments := d.newPaymentRouter(routing.Vertex(nodeKey.PubKey().SerializeCompressed()), mc, payDone)
	if err := payments.Start(); err != nil {
		return err
	}
	defer payments.Stop()

	// The server accepts peers since Start: a peer that reconnected
	// meanwhile is reported too, or the links of channels it does not
	// reestablish itself (open on our side, still pending on its side
	// after our crash) would never send their channel_reestablish.
	peerEvents, err := d.srv.FollowPeers()
	if err != nil {
		return err
	}
	defer peerEvents.Cancel()
	go followPeers(peerEvents, d.funding, d.srv, d.links, d.announcing)
	if err := d.closer.resume(); err != nil {
		return err
	}
	activityDone := make(chan struct{})
	defer close(activityDone)
	go d.events.followActivity(d.links, activityDone)
	if err := d.reconnectLinkNodes(); err != nil {
		return err
	}

	backend := &rpc.Backend{
		Info:      d,
		Chain:     d,
		Peers:     &peersBackend{srv: d.srv, cfg: cfg},
		Wallet:    &walletBackend{w: d.wallet, maturity: int32(cfg.network.Params.CoinbaseMaturity)},
		WalletKit: walletKit{Wallet: d.wallet, fees: d.chain},
		Notifier:  d.chain,
		Channels:  &channelsBackend{d: d},
		Contracts: &contractsBackend{d: d},
		Closer:    d.closer,
		Stop:      d.requestStop,
		Graph:     gossip.graph,
		Router:    routing.NewFinder(gossip.graph.Cache(), routing.DefaultPathFindingConfig()),

		Logs:     d.logs,
		Recovery: &recovery{d: d},
		Signer:   &nodeSigner{w: d.wallet},
		Invoices: registry,

		MissionControl: mc,
		Payments:       payments,

		Forwarding: &forwardingBackend{d: d},
	}
	if err := d.rpc.Activate(backend); err != nil {
		return err
	}
	d.rpc.SetServerActive()
	defer d.startBreachHook()()
	d.log.Info("xlnd is active", "identity", fmt.Sprintf("%x",
		nodeKey.PubKey().SerializeCompressed()))

	select {
	case <-ctx.Done():
		d.log.Info("Signal received, shutting down")
	case <-d.stopReq:
		d.log.Info("StopDaemon requested, shutting down")
	case err := <-d.failed:
		d.log.Error("Shutting down", "err", err)
		return err
	}
	return nil
}

// newMissionControl builds mission control over the results stored in
// the channel database, with lnd's default estimator and bound.
func newMissionControl(db *channeldb.DB, self []byte, flush time.Duration, log *slog.Logger) (*routing.MissionControl, error) {
	var v routing.Vertex
	copy(v[:], self)
	mc, err := routing.NewMissionControl(routing.MissionControlConfig{
		Self:          v,
		Apriori:       routing.DefaultAprioriConfig(),
		Store:         routing.NewDBStore(db, routing.DefaultMaxPairResults),
		FlushInterval: flush,
		Log:           log,
	})
	if err != nil {
		return nil, fmt.Errorf("mission control: %w", err)
	}
	return mc, nil
}

// startInvoices starts the invoice registry over the channel database.
func (d *daemon) startInvoices(db *channeldb.DB) (*invoices.Registry, error) {
	cfg := d.cfg
	w := d.wallet
	private := newPrivateChannels(d.listPrivateChannels)
	reg := invoices.New(invoices.Config{
		DB:  db,
		Net: cfg.network.Params,
		// The node key is derived for each signature and not kept.
		Sign: func(hash []byte) ([]byte, error) {
			priv, err := w.DerivePrivKey(wallet.KeyDescriptor{
				KeyLocator: wallet.KeyLocator{Family: wallet.KeyFamilyNodeKey}})
			if err != nil {
				return nil, err
			}
			return ecdsa.SignCompact(priv, hash, true)
		},
		RouteHints: func(amt lnwire.MilliSatoshi, forced []bolt11.RouteHint) []bolt11.RouteHint {
			return d.privateRouteHints(private, amt, forced)
		},
		AcceptKeysend: cfg.AcceptKeysend,
		BestHeight: func() (uint32, error) {
			h, _, err := w.SyncedTo()
			return uint32(h), err
		},
		Log: d.logs.Logger("INVC"),
	})
	if err := reg.Start(); err != nil {
		return nil, err
	}
	return reg, nil
}

// openChannelDB opens the node's channel database.
func (d *daemon) openChannelDB() (*channeldb.DB, error) {
	if d.etcdCli != nil {
		db, err := channeldb.OpenBackend(d.etcdDB("channeldb"),
			channeldb.WithLogger(d.logs.Logger("CHDB")))
		if err != nil {
			return nil, fmt.Errorf("channel database in etcd: %w", err)
		}
		return db, nil
	}
	if err := os.MkdirAll(d.cfg.graphDir(), 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	db, err := channeldb.Open(filepath.Join(d.cfg.graphDir(), "channel.db"),
		channeldb.WithLogger(d.logs.Logger("CHDB")))
	if err != nil {
		return nil, fmt.Errorf("channel database: %w", err)
	}
	return db, nil
}

// unlockAtStart opens the wallet without the WalletUnlocker service when
// the operator asked for it: --noseedbackup (created on first start, with a
// public password) or --wallet-unlock-password-file.
func (d *daemon) unlockAtStart(ctx context.Context) error {
	cfg := d.cfg
	switch {
	case cfg.NoSeedBackup:
		exists, err := d.loader.WalletExists(ctx)
		if err != nil {
			return err
		}
		if !exists {
			if err := d.loader.createInsecure(); err != nil {
				return err
			}
			d.log.Warn("Created a wallet with no password and no seed backup (--noseedbackup): for tests only")
		} else if err := d.loader.OpenWallet(ctx, nil, 0); err != nil {
			return fmt.Errorf("--noseedbackup: %w", err)
		}
		return d.rpc.MarkUnlocked(devPassword)

	case cfg.WalletPasswordFile != "":
		b, err := os.ReadFile(cfg.WalletPasswordFile)
		if err != nil {
			return fmt.Errorf("--wallet-unlock-password-file: %w", err)
		}
		pw := []byte(strings.TrimRight(string(b), "\r\n"))
		if err := d.loader.OpenWallet(ctx, pw, 0); err != nil {
			return fmt.Errorf("--wallet-unlock-password-file: %w", err)
		}
		return d.rpc.MarkUnlocked(pw)
	}
	d.log.Info("Waiting for the wallet to be created or unlocked (xlncli create / unlock)")
	return nil
}

// startOnionService publishes a v3 onion service for the first peer
// listener through Tor's control port.
func (d *daemon) startOnionService() (func(), error) {
	cfg := d.cfg
	if len(cfg.Listeners) == 0 {
		return nil, errors.New("--tor.v3 needs a peer listener")
	}
	_, portStr, _ := net.SplitHostPort(cfg.Listeners[0])
	port, _ := strconv.Atoi(portStr)

	ctrl := tor.NewController(cfg.Tor.Control, "", cfg.Tor.Password)
	if err := ctrl.Start(); err != nil {
		return nil, fmt.Errorf("tor control port %s: %w", cfg.Tor.Control, err)
	}
	addr, err := ctrl.AddOnion(tor.AddOnionConfig{
		Type:        tor.V3,
		VirtualPort: port,
		TargetPorts: []int{port},
		Store:       tor.NewOnionFile(cfg.Tor.PrivateKeyPath, 0o600, false, nil),
	})
	if err != nil {
		ctrl.Stop()
		return nil, fmt.Errorf("publish onion service: %w", err)
	}
	d.onionAddrs = append(d.onionAddrs, addr.String())
	d.log.Info("Onion service published", "addr", addr.String())
	return func() { ctrl.Stop() }, nil
}

// nodeAddrs are the addresses advertised in GetInfo's URIs.
func (d *daemon) nodeAddrs() []string {
	return append(append([]string(nil), d.cfg.ExternalIPs...), d.onionAddrs...)
}

// bestBlockTimeout bounds GetInfo's chain queries.
const bestBlockTimeout = 10 * time.Second
