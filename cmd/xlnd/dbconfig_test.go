package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestClusterConfigFile reads an lnd cluster node's [db] and [cluster]
// sections, as an lnd operator writes them.
func TestClusterConfigFile(t *testing.T) {
	dir := t.TempDir()
	conf := `
network=regtest
[db]
db.backend=etcd
db.etcd.host=127.0.0.1:2379,10.0.0.2:2379
db.etcd.user=alice
db.etcd.pass=secret
db.etcd.namespace=alice-node
db.etcd.cert_file=/etc/etcd/client.crt
db.etcd.key_file=/etc/etcd/client.key
db.etcd.insecure_skip_verify=true

[cluster]
cluster.enable-leader-election=true
cluster.leader-elector=etcd
cluster.etcd-election-prefix=/cluster-leader/
cluster.id=node-1
cluster.leader-session-ttl=30
`
	if err := os.WriteFile(filepath.Join(dir, "xlnd.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig([]string{"--datadir=" + dir})
	if err != nil {
		t.Fatal(err)
	}
	want := dbConfig{Backend: "etcd", Etcd: etcdConfig{Host: "127.0.0.1:2379,10.0.0.2:2379",
		User: "alice", Pass: "secret", Namespace: "alice-node",
		CertFile: "/etc/etcd/client.crt", KeyFile: "/etc/etcd/client.key", InsecureSkipVerify: true}}
	if cfg.DB != want {
		t.Errorf("db %+v, want %+v", cfg.DB, want)
	}
	wantCluster := clusterConfig{EnableLeaderElection: true, LeaderElector: "etcd",
		EtcdElectionPrefix: "/cluster-leader/", ID: "node-1", LeaderSessionTTL: 30}
	if cfg.Cluster != wantCluster {
		t.Errorf("cluster %+v, want %+v", cfg.Cluster, wantCluster)
	}
}

func TestDBConfigDefaults(t *testing.T) {
	cfg, err := loadConfig([]string{"--datadir=" + t.TempDir(), "--network=regtest"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DB.Backend != "bolt" || cfg.Cluster.EnableLeaderElection ||
		cfg.Cluster.LeaderSessionTTL != 90 || cfg.Cluster.EtcdElectionPrefix != "/leader/" {
		t.Errorf("defaults: %+v %+v", cfg.DB, cfg.Cluster)
	}
}

func TestDBConfigErrors(t *testing.T) {
	etcd := []string{"--db.backend=etcd", "--db.etcd.host=127.0.0.1:2379"}
	election := append(append([]string{}, etcd...), "--cluster.enable-leader-election", "--cluster.id=a")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--db.backend=postgres"}, "--db.backend"},
		{[]string{"--db.backend=etcd"}, "--db.etcd.host is required"},
		{[]string{"--db.backend=etcd", "--db.etcd.host=nohost"}, "--db.etcd.host"},
		{append(etcd, "--db.etcd.cert_file=/x"), "go together"},
		{[]string{"--cluster.enable-leader-election", "--cluster.id=a"}, "needs --db.backend=etcd"},
		{append(etcd, "--cluster.enable-leader-election"), "--cluster.id is required"},
		{append(election, "--cluster.leader-elector=k8s"), "--cluster.leader-elector"},
		{append(election, "--cluster.leader-session-ttl=0"), "--cluster.leader-session-ttl"},
	} {
		args := append([]string{"--datadir=" + t.TempDir(), "--network=regtest"}, c.args...)
		_, err := loadConfig(args)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: error %v, want one line naming %q", c.args, err, c.want)
		}
	}
}
