package server

import (
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg"

	"lnd.xprv/brontide"
)

// recorder logs the start and stop of subsystems, and whether the
// server's query loop answered while each started.
type recorder struct {
	mu  sync.Mutex
	log []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, s)
}

type testSub struct {
	name    string
	r       *recorder
	srv     **Server
	failErr error
}

func (s *testSub) Name() string { return s.name }

func (s *testSub) Start() error {
	if s.failErr != nil {
		s.r.add("fail " + s.name)
		return s.failErr
	}
	// The query loop already serves requests when a subsystem starts.
	if *s.srv != nil {
		(*s.srv).Peers()
	}
	s.r.add("start " + s.name)
	return nil
}

func (s *testSub) Stop() error {
	s.r.add("stop " + s.name)
	return nil
}

func subsystemServer(t *testing.T, subs func(**Server, *recorder) []Subsystem) (*Server, *recorder, error) {
	t.Helper()
	key, err := btcec.NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{}
	var srv *Server
	cfg := Config{
		NodeKey:     &brontide.PrivKeyECDH{PrivKey: key},
		ChainHash:   *chaincfg.RegressionNetParams.GenesisHash,
		Features:    testFeatures(),
		Required:    testRequired,
		ListenAddrs: []string{"127.0.0.1:0"},
		MaxInbound:  10,
		ConnTimeout: 5 * time.Second,
		Subsystems:  subs(&srv, r),
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv = s
	return s, r, s.Start()
}

// TestSubsystemOrder: subsystems start in order once the query loop runs
// and before peers are accepted, and stop in reverse.
func TestSubsystemOrder(t *testing.T) {
	srv, r, err := subsystemServer(t, func(srv **Server, r *recorder) []Subsystem {
		return []Subsystem{&testSub{name: "a", r: r, srv: srv},
			&testSub{name: "b", r: r, srv: srv}}
	})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", srv.ListenAddrs()[0].String())
	if err != nil {
		t.Fatalf("listener not serving after start: %v", err)
	}
	conn.Close()
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.log, ","); got != "start a,start b,stop b,stop a" {
		t.Fatalf("order %s", got)
	}
}

// TestSubsystemFailure: a subsystem that fails to start stops those
// started before it, and the server does not run.
func TestSubsystemFailure(t *testing.T) {
	boom := errors.New("boom")
	srv, r, err := subsystemServer(t, func(srv **Server, r *recorder) []Subsystem {
		return []Subsystem{&testSub{name: "a", r: r, srv: srv},
			&testSub{name: "b", r: r, srv: srv, failErr: boom},
			&testSub{name: "c", r: r, srv: srv}}
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "start b") {
		t.Fatalf("err %v", err)
	}
	if got := strings.Join(r.log, ","); got != "start a,fail b,stop a" {
		t.Fatalf("order %s", got)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if len(srv.ListenAddrs()) != 0 {
		if c, err := net.Dial("tcp", srv.ListenAddrs()[0].String()); err == nil {
			c.Close()
			t.Fatal("listener still open")
		}
	}
}
