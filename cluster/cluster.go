package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"lnd.xprv/channeldb/kvdb/etcd"
)

// ErrSessionLost means the node's lease expired (etcd unreachable for
// longer than the TTL) while it campaigned.
var ErrSessionLost = errors.New("cluster: etcd session lost")

// Config configures a campaign.
type Config struct {
	Client *clientv3.Client
	// Prefix is where the candidates' keys live
	// (--cluster.etcd-election-prefix).
	Prefix string
	// ID names this node to the others (--cluster.id).
	ID string
	// TTL is the lease's time to live in seconds
	// (--cluster.leader-session-ttl): how long a leader that went silent
	// keeps the lead.
	TTL int
	// Logger; nil discards.
	Logger *slog.Logger
}

// Leader is this node's won election.
type Leader struct {
	session  *concurrency.Session
	election *concurrency.Election
	log      *slog.Logger
}

// Campaign waits until this node leads, or ctx ends, or the node's lease
// is lost.
func Campaign(ctx context.Context, cfg Config) (*Leader, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.ID == "" {
		return nil, errors.New("cluster: an id is required")
	}
	session, err := concurrency.NewSession(cfg.Client, concurrency.WithTTL(cfg.TTL))
	if err != nil {
		return nil, fmt.Errorf("cluster: session: %w", err)
	}
	e := concurrency.NewElection(session, cfg.Prefix)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-session.Done():
			cancel()
		case <-cctx.Done():
		}
	}()
	if cur, err := e.Leader(cctx); err == nil && len(cur.Kvs) > 0 {
		log.Info("Waiting to lead the cluster", "id", cfg.ID, "leader", string(cur.Kvs[0].Value))
	} else {
		log.Info("Campaigning to lead the cluster", "id", cfg.ID)
	}
	err = e.Campaign(cctx, cfg.ID)
	select {
	case <-session.Done():
		err = ErrSessionLost
	default:
	}
	if err == nil {
		err = checkHeld(ctx, cfg.Client, e)
	}
	if err != nil {
		session.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("cluster: campaign: %w", err)
	}
	log.Info("Leading the cluster", "id", cfg.ID, "key", e.Key(), "rev", e.Rev())
	return &Leader{session: session, election: e, log: log}, nil
}

// checkHeld makes sure the key Campaign won still exists: a lease that
// expired during the wait deletes it, and with it the lead.
func checkHeld(ctx context.Context, cli *clientv3.Client, e *concurrency.Election) error {
	resp, err := cli.Get(ctx, e.Key())
	if err != nil {
		return err
	}
	if len(resp.Kvs) == 0 || resp.Kvs[0].CreateRevision != e.Rev() {
		return ErrSessionLost
	}
	return nil
}

// Fence is the condition every write of the leader is made under.
func (l *Leader) Fence() etcd.Fence {
	return etcd.Fence{Key: l.election.Key(), Rev: l.election.Rev()}
}

// Lost is closed when the lease ends: the node must stop, another may
// lead already.
func (l *Leader) Lost() <-chan struct{} { return l.session.Done() }

// Resign gives up the lead at once (a clean stop: the standby need not
// wait for the TTL) and ends the session.
func (l *Leader) Resign(ctx context.Context) error {
	err := l.election.Resign(ctx)
	if cerr := l.session.Close(); err == nil {
		err = cerr
	}
	return err
}
