// Package etcdtest starts a real etcd server inside a test process
// (go.etcd.io/etcd/server/v3/embed), on free local ports with its data in
// a temporary directory, for the tests of the etcd backend, the cluster
// code and the integration tests. Tests only: nothing of the node imports
// it.
package etcdtest

import (
	"fmt"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Server is an embedded etcd that can be stopped and started again on the
// same ports and data (a node losing its etcd, then finding it back).
type Server struct {
	t        testing.TB
	dir      string
	client   url.URL
	peer     url.URL
	mu       sync.Mutex
	etcd     *embed.Etcd
	noFsync  bool
	clientMu sync.Mutex
	clients  []*clientv3.Client
}

// Option changes a Server.
type Option func(*Server)

// WithFsync keeps etcd's fsync on, as in production (benchmarks).
func WithFsync() Option { return func(s *Server) { s.noFsync = false } }

// Start starts a server for the test; it stops when the test ends. fsync
// is off unless WithFsync: a test's data need not outlive a power cut.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{t: t, dir: t.TempDir(), noFsync: true}
	for _, o := range opts {
		o(s)
	}
	s.client = url.URL{Scheme: "http", Host: freeAddr(t)}
	s.peer = url.URL{Scheme: "http", Host: freeAddr(t)}
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.clientMu.Lock()
		for _, c := range s.clients {
			c.Close()
		}
		s.clientMu.Unlock()
		s.Stop()
	})
	return s
}

func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.etcd != nil {
		return nil
	}
	cfg := embed.NewConfig()
	cfg.Dir = s.dir
	cfg.Name = "xlnd-test"
	cfg.ListenClientUrls = []url.URL{s.client}
	cfg.AdvertiseClientUrls = []url.URL{s.client}
	cfg.ListenPeerUrls = []url.URL{s.peer}
	cfg.AdvertisePeerUrls = []url.URL{s.peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	// etcd logs its own shutdown as errors: keep test output clean.
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	cfg.UnsafeNoFsync = s.noFsync
	// What the README asks of an operator's etcd: room for the node's
	// large transactions.
	cfg.MaxTxnOps = 16384
	cfg.MaxRequestBytes = 100 << 20
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return fmt.Errorf("start etcd: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(60 * time.Second):
		e.Close()
		return fmt.Errorf("etcd not ready after 60 s")
	}
	s.etcd = e
	return nil
}

// Endpoint is the client URL, host:port.
func (s *Server) Endpoint() string { return s.client.Host }

// Stop stops the server; clients see it unreachable.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.etcd != nil {
		s.etcd.Close()
		s.etcd = nil
	}
}

// Restart starts a stopped server again with the same data.
func (s *Server) Restart() {
	s.t.Helper()
	if err := s.start(); err != nil {
		s.t.Fatal(err)
	}
}

// Client returns a new client of the server, closed when the test ends.
func (s *Server) Client() *clientv3.Client {
	s.t.Helper()
	c, err := clientv3.New(clientv3.Config{
		Endpoints:   []string{s.Endpoint()},
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		s.t.Fatal(err)
	}
	s.clientMu.Lock()
	s.clients = append(s.clients, c)
	s.clientMu.Unlock()
	return c
}
