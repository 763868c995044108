package main

import (
	"fmt"
	"net/url"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// startEtcd starts a one-member etcd in this process, as the integration
// tests do, with its data in dir and fsync on (as an operator's etcd
// runs), and returns its client address and how to stop it.
func startEtcd(dir string) (string, func(), error) {
	var ports [2]string
	for i := range ports {
		p, err := freePort()
		if err != nil {
			return "", nil, err
		}
		ports[i] = p
	}
	client := url.URL{Scheme: "http", Host: ports[0]}
	peer := url.URL{Scheme: "http", Host: ports[1]}
	cfg := embed.NewConfig()
	cfg.Dir = dir
	cfg.Name = "xlnd-benchpay"
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	// What the README asks of an operator's etcd: room for the node's
	// large transactions.
	cfg.MaxTxnOps = 16384
	cfg.MaxRequestBytes = 100 << 20
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return "", nil, fmt.Errorf("start etcd: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(60 * time.Second):
		e.Close()
		return "", nil, fmt.Errorf("etcd not ready after 60 s")
	}
	return client.Host, e.Close, nil
}
