package etcd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// ErrUnreachable means Dial found no etcd server answering.
var ErrUnreachable = errors.New("etcd: server unreachable")

// Config says how to reach an etcd cluster (lnd's --db.etcd.* options).
type Config struct {
	// Host is host:port, or several separated by commas.
	Host string
	User string
	Pass string
	// CertFile and KeyFile are a client certificate, when the server
	// asks for one.
	CertFile string
	KeyFile  string
	// InsecureSkipVerify accepts any server certificate.
	InsecureSkipVerify bool
	// DisableTLS talks plain HTTP/2 (a local or otherwise protected
	// network only).
	DisableTLS bool
	// DialTimeout bounds Dial's first contact (default 10 s).
	DialTimeout time.Duration
}

// Dial connects to etcd and checks that it answers, so that a node whose
// etcd is down says so at start.
func Dial(ctx context.Context, cfg Config) (*clientv3.Client, error) {
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = 10 * time.Second
	}
	ccfg := clientv3.Config{
		Endpoints:   strings.Split(cfg.Host, ","),
		Username:    cfg.User,
		Password:    cfg.Pass,
		DialTimeout: cfg.DialTimeout,
		Context:     ctx,
		// The client's own logs are zap's; errors reach us as values.
		Logger: zap.NewNop(),
		// Lets a lost server be noticed between requests.
		DialKeepAliveTime:    5 * time.Second,
		DialKeepAliveTimeout: 5 * time.Second,
		// etcd's default request limit is 1.5 MiB; the node's larger
		// transactions need a server started with more, and a client
		// that sends them.
		MaxCallSendMsgSize: 100 << 20,
		MaxCallRecvMsgSize: 100 << 20,
	}
	if !cfg.DisableTLS {
		tc := &tls.Config{InsecureSkipVerify: cfg.InsecureSkipVerify, MinVersion: tls.VersionTLS12}
		if cfg.CertFile != "" || cfg.KeyFile != "" {
			pair, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
			if err != nil {
				return nil, fmt.Errorf("etcd client certificate: %w", err)
			}
			tc.Certificates = []tls.Certificate{pair}
		}
		ccfg.TLS = tc
	}
	cli, err := clientv3.New(ccfg)
	if err != nil {
		return nil, fmt.Errorf("%w at %s: %w", ErrUnreachable, cfg.Host, err)
	}
	// clientv3.New does not wait for a connection: ask something.
	pctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
	defer cancel()
	if _, err := cli.Get(pctx, "\x00", clientv3.WithCountOnly()); err != nil {
		cli.Close()
		return nil, fmt.Errorf("%w at %s: %w", ErrUnreachable, cfg.Host, err)
	}
	return cli, nil
}
