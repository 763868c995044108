package main

import (
	"errors"
	"fmt"
	"strings"
)

// Database backends (--db.backend).
const (
	backendBolt = "bolt"
	backendEtcd = "etcd"
)

// etcdConfig is lnd's --db.etcd.* group.
type etcdConfig struct {
	Host               string `long:"host" description:"etcd host:port (several separated by commas)"`
	User               string `long:"user" description:"etcd user name"`
	Pass               string `long:"pass" default-mask:"-" description:"etcd password"`
	Namespace          string `long:"namespace" description:"prefix of every key of this node in etcd, so that several nodes can share one etcd"`
	CertFile           string `long:"cert_file" description:"client certificate for etcd's TLS"`
	KeyFile            string `long:"key_file" description:"client key for etcd's TLS"`
	InsecureSkipVerify bool   `long:"insecure_skip_verify" description:"accept any etcd server certificate"`
	DisableTLS         bool   `long:"disabletls" description:"talk to etcd without TLS"`
}

// dbConfig is lnd's --db.* group.
type dbConfig struct {
	Backend string     `long:"backend" description:"where the channel database and the wallet live: bolt (files in the data dir) or etcd"`
	Etcd    etcdConfig `group:"etcd" namespace:"etcd"`
}

// clusterConfig is lnd's --cluster.* group.
type clusterConfig struct {
	EnableLeaderElection bool   `long:"enable-leader-election" description:"run as one node of an active/standby cluster: start only when elected leader"`
	LeaderElector        string `long:"leader-elector" description:"leader election backend: etcd"`
	EtcdElectionPrefix   string `long:"etcd-election-prefix" description:"etcd prefix under which the nodes of the cluster campaign"`
	ID                   string `long:"id" description:"this node's identifier in the cluster"`
	LeaderSessionTTL     int    `long:"leader-session-ttl" description:"seconds a leader that went silent keeps the lead (its lease's time to live)"`
}

const (
	defaultEtcdNamespace    = "xlnd"
	defaultElectionPrefix   = "/leader/"
	defaultLeaderSessionTTL = 90
)

func defaultDBConfig() dbConfig {
	return dbConfig{Backend: backendBolt, Etcd: etcdConfig{Namespace: defaultEtcdNamespace}}
}

func defaultClusterConfig() clusterConfig {
	return clusterConfig{LeaderElector: backendEtcd, EtcdElectionPrefix: defaultElectionPrefix,
		LeaderSessionTTL: defaultLeaderSessionTTL}
}

// validateDB checks the --db.* and --cluster.* options.
func (c *config) validateDB() error {
	switch c.DB.Backend {
	case backendBolt:
	case backendEtcd:
		if c.DB.Etcd.Host == "" {
			return errors.New("--db.etcd.host is required with --db.backend=etcd")
		}
		for _, h := range strings.Split(c.DB.Etcd.Host, ",") {
			if _, err := normalizeAddr(h, 0); err != nil {
				return fmt.Errorf("--db.etcd.host: %w", err)
			}
		}
		if (c.DB.Etcd.CertFile == "") != (c.DB.Etcd.KeyFile == "") {
			return errors.New("--db.etcd.cert_file and --db.etcd.key_file go together")
		}
		if c.DB.Etcd.CertFile != "" {
			c.DB.Etcd.CertFile = cleanPath(c.DB.Etcd.CertFile)
			c.DB.Etcd.KeyFile = cleanPath(c.DB.Etcd.KeyFile)
		}
	default:
		return fmt.Errorf("--db.backend: %q (allowed: bolt, etcd)", c.DB.Backend)
	}
	if !c.Cluster.EnableLeaderElection {
		return nil
	}
	switch {
	case c.Cluster.LeaderElector != backendEtcd:
		return fmt.Errorf("--cluster.leader-elector: %q (allowed: etcd)", c.Cluster.LeaderElector)
	case c.DB.Backend != backendEtcd:
		return errors.New("--cluster.enable-leader-election needs --db.backend=etcd: a standby must share the leader's data")
	case c.Cluster.ID == "":
		return errors.New("--cluster.id is required with --cluster.enable-leader-election")
	case c.Cluster.LeaderSessionTTL < 1:
		return fmt.Errorf("--cluster.leader-session-ttl: %d (allowed: 1 second or more)", c.Cluster.LeaderSessionTTL)
	case c.Cluster.EtcdElectionPrefix == "":
		return errors.New("--cluster.etcd-election-prefix must not be empty")
	}
	return nil
}
