package rpc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"lnd.xprv/internal/netparams"
	"lnd.xprv/rpc/cert"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/chainrpc"
	"lnd.xprv/rpc/lnrpc/invoicesrpc"
	"lnd.xprv/rpc/lnrpc/routerrpc"
	"lnd.xprv/rpc/lnrpc/verrpc"
	"lnd.xprv/rpc/lnrpc/walletrpc"
	"lnd.xprv/rpc/macaroons"
)

// Default listen addresses, as lnd's.
const (
	DefaultRPCListen  = "127.0.0.1:10009"
	DefaultRESTListen = "127.0.0.1:8080"
)

// maxMsgSize bounds a request to the gRPC server and an answer through
// the REST gateway: large enough for big transaction lists.
const maxMsgSize = 50 << 20

// DefaultVersion is what GetInfo reports: an lnd-like version first, since
// apps parse it to pick features, then our own.
const DefaultVersion = "0.20.0-beta xlnd-0.1.0"

// Paths is the lnd file layout under a data dir, shared by xlnd and xlncli
// so that lncli --lnddir=<datadir> finds the same files.
type Paths struct {
	TLSCert string
	TLSKey  string
	// MacaroonDir holds macaroons.db and the *.macaroon files.
	MacaroonDir   string
	AdminMacaroon string
}

// DefaultPaths returns the layout for dataDir and network:
// <dataDir>/tls.cert, <dataDir>/tls.key and
// <dataDir>/data/chain/bitcoin/<network>/admin.macaroon.
func DefaultPaths(dataDir, network string) Paths {
	macDir := filepath.Join(dataDir, "data", "chain", "bitcoin", network)
	return Paths{
		TLSCert:       filepath.Join(dataDir, "tls.cert"),
		TLSKey:        filepath.Join(dataDir, "tls.key"),
		MacaroonDir:   macDir,
		AdminMacaroon: filepath.Join(macDir, macaroons.AdminFile),
	}
}

// Config configures a Server.
type Config struct {
	// Network is the network the node runs on.
	Network *netparams.Network

	// TLS pair location and extra names (see package cert).
	TLSCertPath     string
	TLSKeyPath      string
	TLSExtraIPs     []string
	TLSExtraDomains []string

	// RPCListen are the gRPC listen addresses (host:port); at least one.
	RPCListen []string
	// RESTListen are the REST listen addresses; none disables REST.
	RESTListen []string

	// MacaroonDir holds macaroons.db and the default macaroon files.
	MacaroonDir string
	// NoMacaroons switches authentication off (tests, trusted setups).
	NoMacaroons bool

	// Loader creates and opens the wallet for the WalletUnlocker
	// service. With nil, the unlocker answers Unavailable and the daemon
	// unlocks by calling Server.MarkUnlocked.
	Loader WalletLoader

	// Version and CommitHash are reported by GetInfo; Version defaults to
	// DefaultVersion.
	Version    string
	CommitHash string

	// Logger for the subsystem; nil discards.
	Logger *slog.Logger

	// WaitToStart keeps the server in WAITING_TO_START, serving the
	// State service only and leaving the wallet alone, until Proceed (a
	// standby node of a cluster, until it leads).
	WaitToStart bool

	// scryptN overrides the macaroon store's key derivation cost (tests).
	scryptN int
}

// Server is the gRPC server and REST gateway. Create it with New, then
// Start; Stop once.
type Server struct {
	cfg   Config
	log   *slog.Logger
	perms map[string][]macaroons.Op
	state *stateTracker

	backend atomic.Pointer[Backend]

	macStore *macaroons.Store
	macSvc   *macaroons.Service

	// unlockMu serialises the WalletUnlocker calls.
	unlockMu   sync.Mutex
	unlocked   chan struct{}
	unlockOnce sync.Once

	// freshSeeds are the mnemonics GenSeed handed out, newest last.
	seedMu     sync.Mutex
	freshSeeds []string

	grpcServer *grpc.Server
	grpcLns    []net.Listener
	// inproc is the REST gateway's connection to the services.
	inproc   *inprocConn
	restSrvs []*http.Server
	restLns  []net.Listener

	// gatewayToken authenticates the REST gateway's client-address
	// metadata to the interceptor.
	gatewayToken string

	started  atomic.Bool
	stopOnce sync.Once
	wg       sync.WaitGroup
}

// New checks cfg and returns a server that is not listening yet.
func New(cfg Config) (*Server, error) {
	if cfg.Network == nil {
		return nil, errors.New("rpc: network is required")
	}
	if len(cfg.RPCListen) == 0 {
		return nil, errors.New("rpc: at least one gRPC listen address is required")
	}
	if cfg.TLSCertPath == "" || cfg.TLSKeyPath == "" {
		return nil, errors.New("rpc: tls cert and key paths are required")
	}
	if !cfg.NoMacaroons && cfg.MacaroonDir == "" {
		return nil, errors.New("rpc: macaroon dir is required")
	}
	if cfg.Version == "" {
		cfg.Version = DefaultVersion
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tok := make([]byte, 32)
	if _, err := rand.Read(tok); err != nil {
		return nil, err
	}
	return &Server{
		gatewayToken: hex.EncodeToString(tok),
		cfg:          cfg,
		log:          log,
		perms:        Permissions(),
		state:        newStateTracker(),
		unlocked:     make(chan struct{}),
	}, nil
}

// Start creates or loads the TLS pair, opens the macaroon store, and starts
// serving gRPC and REST.
func (s *Server) Start(ctx context.Context) (err error) {
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("rpc: server already started")
	}
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()

	pair, regen, err := cert.LoadOrCreate(cert.Config{
		CertPath:     s.cfg.TLSCertPath,
		KeyPath:      s.cfg.TLSKeyPath,
		ExtraIPs:     s.cfg.TLSExtraIPs,
		ExtraDomains: s.cfg.TLSExtraDomains,
	})
	if err != nil {
		return fmt.Errorf("rpc: tls: %w", err)
	}
	if regen {
		s.log.Info("Created new TLS certificate", "cert", s.cfg.TLSCertPath)
	}
	tlsCfg := cert.ServerConfig(pair)

	if !s.cfg.NoMacaroons {
		n := s.cfg.scryptN
		if n == 0 {
			n = macaroons.DefaultScryptN
		}
		if err := os.MkdirAll(s.cfg.MacaroonDir, 0o700); err != nil {
			return fmt.Errorf("rpc: %w", err)
		}
		s.macStore, err = macaroons.OpenStoreN(filepath.Join(s.cfg.MacaroonDir, "macaroons.db"), n)
		if err != nil {
			return fmt.Errorf("rpc: %w", err)
		}
		s.macSvc = macaroons.NewService(s.macStore, nil)
	}

	if !s.cfg.WaitToStart {
		if err := s.Proceed(ctx); err != nil {
			return err
		}
	}

	// The gRPC server and the REST gateway's in-process connection run
	// the same interceptors and handlers.
	unaryInts := []grpc.UnaryServerInterceptor{s.unaryInterceptor}
	streamInts := []grpc.StreamServerInterceptor{s.streamInterceptor}
	s.grpcServer = grpc.NewServer(
		grpc.Creds(credentials.NewTLS(tlsCfg)),
		grpc.ChainUnaryInterceptor(unaryInts...),
		grpc.ChainStreamInterceptor(streamInts...),
		grpc.MaxRecvMsgSize(maxMsgSize),
	)
	s.inproc = newInprocConn(unaryInts, streamInts, maxMsgSize)
	reg := registrars{s.grpcServer, s.inproc}
	lnrpc.RegisterLightningServer(reg, &lightningService{s: s})
	lnrpc.RegisterWalletUnlockerServer(reg, &unlockerService{s: s})
	lnrpc.RegisterStateServer(reg, &stateServer{s: s})
	walletrpc.RegisterWalletKitServer(reg, &walletKitService{s: s})
	chainrpc.RegisterChainNotifierServer(reg, &chainNotifierService{s: s})
	verrpc.RegisterVersionerServer(reg, &versionerService{s: s})
	invoicesrpc.RegisterInvoicesServer(reg, &invoicesService{s: s})
	routerrpc.RegisterRouterServer(reg, &routerService{s: s})

	for _, addr := range s.cfg.RPCListen {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("rpc: listen %s: %w", addr, err)
		}
		s.grpcLns = append(s.grpcLns, ln)
		s.log.Info("gRPC listening", "addr", ln.Addr())
	}
	for _, ln := range s.grpcLns {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := s.grpcServer.Serve(ln); err != nil {
				s.log.Error("gRPC server stopped", "addr", ln.Addr(), "err", err)
			}
		}()
	}

	if len(s.cfg.RESTListen) > 0 {
		if err := s.startREST(tlsCfg); err != nil {
			return err
		}
	}
	return nil
}

// Proceed leaves WAITING_TO_START: it completes a password change a crash
// interrupted, then moves to LOCKED or NON_EXISTING as the wallet exists
// or not. Start calls it unless Config.WaitToStart.
func (s *Server) Proceed(ctx context.Context) error {
	// A password change a crash interrupted is completed before anyone
	// can unlock with either password.
	if err := s.finishPasswordChange(ctx); err != nil {
		return fmt.Errorf("rpc: %w", err)
	}

	// The initial state: the daemon may move it on with MarkUnlocked.
	if s.cfg.Loader != nil {
		exists, err := s.cfg.Loader.WalletExists(ctx)
		if err != nil {
			return fmt.Errorf("rpc: check for wallet: %w", err)
		}
		if exists {
			s.state.set(lnrpc.WalletState_LOCKED)
		} else {
			s.state.set(lnrpc.WalletState_NON_EXISTING)
		}
	}
	return nil
}

// Stop closes the listeners, ends every call and stream, and closes the
// macaroon store. It waits for the serving goroutines.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		for _, srv := range s.restSrvs {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			if err := srv.Shutdown(ctx); err != nil {
				srv.Close()
			}
			cancel()
		}
		if s.inproc != nil {
			// The HTTP servers are closed, but their handlers may still
			// be in calls: end those, and give them the time the gRPC
			// server gives its own.
			if !s.inproc.stop(2 * time.Second) {
				s.log.Warn("REST calls still running after stop")
			}
		}
		if s.grpcServer != nil {
			// Streams never end on their own: give unary calls a moment,
			// then cut everything.
			done := make(chan struct{})
			go func() {
				s.grpcServer.GracefulStop()
				close(done)
			}()
			select {
			case <-done:
			case <-time.After(2 * time.Second):
				s.grpcServer.Stop()
				<-done
			}
		} else {
			for _, ln := range s.grpcLns {
				ln.Close()
			}
		}
		for _, ln := range s.restLns {
			ln.Close()
		}
		s.wg.Wait()
		if s.macStore != nil {
			s.macStore.Close()
		}
	})
}

// GRPCAddrs returns the addresses the gRPC server listens on.
func (s *Server) GRPCAddrs() []net.Addr {
	var out []net.Addr
	for _, ln := range s.grpcLns {
		out = append(out, ln.Addr())
	}
	return out
}

// RESTAddrs returns the addresses the REST gateway listens on.
func (s *Server) RESTAddrs() []net.Addr {
	var out []net.Addr
	for _, ln := range s.restLns {
		out = append(out, ln.Addr())
	}
	return out
}

// State returns the current start-up state.
func (s *Server) State() lnrpc.WalletState { return s.state.get() }

// Unlocked is closed once the wallet is created or unlocked (through the
// WalletUnlocker service or MarkUnlocked) and the macaroon root key is
// available. The daemon then builds the node and calls Activate.
func (s *Server) Unlocked() <-chan struct{} { return s.unlocked }

// MarkUnlocked is for a wallet the daemon opened itself (--noseedbackup):
// it unlocks (or creates) the macaroon root key with password, writes any
// missing macaroon files, and moves to UNLOCKED.
func (s *Server) MarkUnlocked(password []byte) error {
	s.unlockMu.Lock()
	defer s.unlockMu.Unlock()
	if _, err := s.unlockMacaroons(password, false, false); err != nil {
		return err
	}
	s.setUnlocked()
	return nil
}

// Activate makes the Lightning service answer, backed by b.
func (s *Server) Activate(b *Backend) error {
	if b == nil || b.Info == nil || b.Chain == nil || b.Peers == nil || b.Wallet == nil || b.Stop == nil {
		return errors.New("rpc: backend incomplete")
	}
	select {
	case <-s.unlocked:
	default:
		return errors.New("rpc: activate before the wallet is unlocked")
	}
	s.backend.Store(b)
	s.state.set(lnrpc.WalletState_RPC_ACTIVE)
	return nil
}

// SetServerActive records that every subsystem has started.
func (s *Server) SetServerActive() {
	if s.backend.Load() != nil {
		s.state.set(lnrpc.WalletState_SERVER_ACTIVE)
	}
}

func (s *Server) setUnlocked() {
	s.state.set(lnrpc.WalletState_UNLOCKED)
	s.unlockOnce.Do(func() { close(s.unlocked) })
}

// unlockMacaroons unlocks the root key store with password and writes the
// default macaroon files unless stateless. It returns the admin macaroon.
func (s *Server) unlockMacaroons(password []byte, stateless, overwrite bool) ([]byte, error) {
	return s.openMacaroons(password, stateless, overwrite, false)
}

// openMacaroons is unlockMacaroons; with fresh (a new wallet) the store
// starts over with a new root key and the files are replaced.
func (s *Server) openMacaroons(password []byte, stateless, overwrite, fresh bool) ([]byte, error) {
	if s.cfg.NoMacaroons {
		return nil, nil
	}
	unlock := s.macStore.Unlock
	if fresh {
		unlock, overwrite = s.macStore.Reset, true
	}
	if err := unlock(password); err != nil {
		return nil, fmt.Errorf("unlock macaroon store: %w", err)
	}
	if stateless {
		return s.macSvc.BakeBinary(macaroons.AdminPermissions())
	}
	return s.macSvc.WriteDefaultFiles(context.Background(), s.cfg.MacaroonDir, overwrite)
}

// passwordLink is the macaroon store as the wallet's LinkedSecrets, nil
// without macaroons.
func (s *Server) passwordLink(rotate bool) LinkedSecrets {
	if s.cfg.NoMacaroons || s.macStore == nil {
		return nil
	}
	return macaroons.PasswordLink{Store: s.macStore, Rotate: rotate}
}

// finishPasswordChange completes an interrupted password change.
func (s *Server) finishPasswordChange(ctx context.Context) error {
	if s.cfg.Loader == nil {
		return nil
	}
	done, err := s.cfg.Loader.FinishPasswordChange(ctx, s.passwordLink(false))
	if err != nil {
		return fmt.Errorf("complete the interrupted wallet password change: %w", err)
	}
	if done {
		s.log.Warn("Completed a wallet password change interrupted by a crash: " +
			"the new password now opens the wallet and the macaroons")
	}
	return nil
}
