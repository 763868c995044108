package etcd_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/channeldb/kvdb/etcd"
	"lnd.xprv/channeldb/kvdb/kvdbtest"
	"lnd.xprv/internal/etcdtest"
)

// TestSuite runs kvdb's backend suite on a real etcd, each test in its own
// namespace of one server.
func TestSuite(t *testing.T) {
	srv := etcdtest.Start(t)
	cli := srv.Client()
	var n atomic.Int64
	kvdbtest.Run(t, func(t *testing.T) kvdb.Backend {
		b := etcd.New(cli, fmt.Sprintf("suite%d/", n.Add(1)))
		t.Cleanup(func() { b.Close() })
		return b
	})
}
