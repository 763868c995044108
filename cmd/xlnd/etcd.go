package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/channeldb/kvdb/etcd"
	"lnd.xprv/cluster"
)

// errEtcdLost and errLeadershipLost stop the node: it must not go on
// without its database, nor once another node may lead.
var (
	errEtcdLost       = errors.New("lost the connection to etcd")
	errLeadershipLost = errors.New("lost the cluster leadership")
)

// etcdLostAfter is how long etcd may go unanswered before a node without
// leader election stops (with it, the session TTL decides).
const etcdLostAfter = 15 * time.Second

// campaignRetry is the pause before a standby campaigns again after
// losing etcd.
const campaignRetry = 2 * time.Second

// fail stops the node with err (the first error wins).
func (d *daemon) fail(err error) {
	d.failOnce.Do(func() { d.failed <- err })
}

// connectEtcd dials etcd when --db.backend=etcd; an unreachable etcd is
// one line and the end of the start.
func (d *daemon) connectEtcd(ctx context.Context) error {
	if d.cfg.DB.Backend != backendEtcd {
		return nil
	}
	e := d.cfg.DB.Etcd
	cli, err := etcd.Dial(ctx, etcd.Config{Host: e.Host, User: e.User, Pass: e.Pass,
		CertFile: e.CertFile, KeyFile: e.KeyFile, InsecureSkipVerify: e.InsecureSkipVerify,
		DisableTLS: e.DisableTLS})
	if err != nil {
		return fmt.Errorf("--db.etcd.host: %w", err)
	}
	d.etcdCli = cli
	d.log.Info("Connected to etcd", "host", e.Host, "namespace", e.Namespace)
	return nil
}

// etcdDB is the node's store name in etcd, under its namespace, fenced
// by the leadership when the node leads a cluster.
func (d *daemon) etcdDB(name string) kvdb.Backend {
	ns := strings.TrimSuffix(d.cfg.DB.Etcd.Namespace, "/") + "/" + name + "/"
	var opts []etcd.Option
	if d.leader != nil {
		opts = append(opts, etcd.WithFence(d.leader.Fence()),
			etcd.WithOnFenced(func() { d.fail(errLeadershipLost) }))
	}
	return etcd.New(d.etcdCli, ns, opts...)
}

// lead campaigns and returns once this node leads the cluster, through
// any loss of etcd meanwhile; ok is false if the node was asked to stop
// first. Meanwhile the RPC server
// answers the State service only (WAITING_TO_START).
func (d *daemon) lead(ctx context.Context) (ok bool, err error) {
	c := d.cfg.Cluster
	d.log.Info("Waiting to lead the cluster before starting", "id", c.ID,
		"prefix", c.EtcdElectionPrefix)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-d.stopReq:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		l, err := cluster.Campaign(ctx, cluster.Config{Client: d.etcdCli,
			Prefix: c.EtcdElectionPrefix, ID: c.ID, TTL: c.LeaderSessionTTL,
			Logger: d.logs.Logger("CLST")})
		switch {
		case ctx.Err() != nil:
			return false, nil
		case err == nil:
			d.leader = l
			return true, nil
		}
		// A standby that loses etcd keeps waiting for it: once etcd is
		// back, the cluster needs a node to take over.
		d.log.Warn("Campaign interrupted; campaigning again", "err", err)
		select {
		case <-time.After(campaignRetry):
		case <-ctx.Done():
			return false, nil
		}
	}
}

// resign hands the lead over at once on a clean stop.
func (d *daemon) resign() {
	if d.leader == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.leader.Resign(ctx); err != nil {
		d.log.Warn("Could not resign the cluster leadership; the standby takes over after the TTL", "err", err)
	}
}

// watchEtcd stops the node when it loses its leadership or, without
// leader election, when etcd stops answering for etcdLostAfter.
func (d *daemon) watchEtcd(quit <-chan struct{}) {
	if d.leader != nil {
		select {
		case <-d.leader.Lost():
			d.fail(errLeadershipLost)
		case <-quit:
		}
		return
	}
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	last := time.Now()
	for {
		select {
		case <-tick.C:
		case <-quit:
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		_, err := d.etcdCli.Get(ctx, "\x00", clientv3.WithCountOnly())
		cancel()
		switch {
		case err == nil:
			last = time.Now()
		case time.Since(last) > etcdLostAfter:
			d.fail(fmt.Errorf("%w: %w", errEtcdLost, err))
			return
		}
	}
}
