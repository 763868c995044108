package etcd

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"lnd.xprv/channeldb/kvdb"
)

// Errors callers branch on.
var (
	// ErrFenced means a commit was refused because the leader key given
	// to WithFence is gone: another node may lead now.
	ErrFenced = errors.New("etcd: leadership lost, write refused")

	// ErrTxTooLarge means etcd refused a transaction for its number of
	// operations or its size (--max-txn-ops, --max-request-bytes).
	ErrTxTooLarge = errors.New("etcd: transaction too large for the server's limits (raise --max-txn-ops and --max-request-bytes)")

	// ErrConflict means a transaction kept conflicting with writes of
	// another process and was given up.
	ErrConflict = errors.New("etcd: transaction conflicted too often")

	// ErrUnavailable wraps a failed etcd request: the server could not be
	// reached or answered with an error. A commit that fails this way may
	// or may not have been applied.
	ErrUnavailable = errors.New("etcd: request failed")
)

// maxKeySize is bbolt's, so that both backends refuse the same keys.
const maxKeySize = 32768

// maxAttempts bounds the retries of a conflicting transaction.
const maxAttempts = 100

// Fence is the leader key of an etcd election: writes commit only while
// Key exists with CreateRevision Rev.
type Fence struct {
	Key string
	Rev int64
}

// Option changes a Backend.
type Option func(*Backend)

// WithFence makes every commit conditional on f (see the package doc).
func WithFence(f Fence) Option {
	return func(b *Backend) { b.fence = &f }
}

// WithOnFenced sets a function called (once) when a commit is refused
// for lost leadership.
func WithOnFenced(fn func()) Option {
	return func(b *Backend) { b.onFenced = fn }
}

// WithTimeout bounds each etcd request (default 10 s).
func WithTimeout(d time.Duration) Option {
	return func(b *Backend) { b.timeout = d }
}

// Backend is a kvdb.Backend over one namespace of an etcd cluster. It does
// not own its client: the caller closes it after Close.
type Backend struct {
	cli      *clientv3.Client
	ns       string
	timeout  time.Duration
	fence    *Fence
	onFenced func()
	fenced   sync.Once

	// writeMu runs Updates one at a time, as bbolt does.
	writeMu sync.Mutex

	mu     sync.RWMutex
	closed bool
}

var _ kvdb.Backend = (*Backend)(nil)

// New returns a backend whose keys all start with namespace (which must
// not be a prefix of another backend's namespace on the same cluster: end
// it with a separator such as "/").
func New(cli *clientv3.Client, namespace string, opts ...Option) *Backend {
	b := &Backend{cli: cli, ns: namespace, timeout: 10 * time.Second}
	for _, o := range opts {
		o(b)
	}
	return b
}

// versionKey is rewritten by every commit; comparing its mod revision
// with the snapshot detects any write since.
func (b *Backend) versionKey() string { return b.ns + "m/version" }

// View runs f in a read transaction over one snapshot.
func (b *Backend) View(f func(tx kvdb.RTx) error) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return kvdb.ErrClosed
	}
	for attempt := 0; ; attempt++ {
		t := newTxn(b, false)
		err := f(t)
		if t.err == nil {
			return err
		}
		if errors.Is(t.err, rpctypes.ErrCompacted) && attempt < maxAttempts {
			continue
		}
		return t.err
	}
}

// Update runs f in a read-write transaction and commits its writes as
// one etcd transaction; f runs again if another process wrote in between.
func (b *Backend) Update(f func(tx kvdb.RwTx) error) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return kvdb.ErrClosed
	}
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	for attempt := 0; attempt < maxAttempts; attempt++ {
		t := newTxn(b, true)
		err := f(t)
		switch {
		case t.err != nil && errors.Is(t.err, rpctypes.ErrCompacted):
			continue
		case t.err != nil:
			// A failed read may be why f failed: report the cause.
			return t.err
		case err != nil:
			return err
		}
		ok, err := t.commit()
		if err != nil || ok {
			return err
		}
	}
	return ErrConflict
}

// Batch is Update: every etcd commit is a round trip of its own, and
// the cluster's writes are not the node's bottleneck.
func (b *Backend) Batch(f func(tx kvdb.RwTx) error) error {
	return b.Update(f)
}

// Close makes later transactions fail with kvdb.ErrClosed. It waits for
// running ones.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return nil
}

func (b *Backend) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(b.cli.Ctx(), b.timeout)
}

// commit sends the transaction's writes. It reports false when the
// snapshot is stale and f must run again.
func (t *txn) commit() (bool, error) {
	b := t.b
	ops := t.ops()
	if len(ops) == 0 {
		return true, nil
	}
	ops = append(ops, clientv3.OpPut(b.versionKey(), ""))
	var cmps []clientv3.Cmp
	if t.rev != 0 {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(b.versionKey()), "<", t.rev+1))
	}
	var orElse []clientv3.Op
	if b.fence != nil {
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(b.fence.Key), "=", b.fence.Rev))
		orElse = append(orElse, clientv3.OpGet(b.fence.Key))
	}
	ctx, cancel := b.ctx()
	defer cancel()
	resp, err := b.cli.Txn(ctx).If(cmps...).Then(ops...).Else(orElse...).Commit()
	if err != nil {
		return false, mapCommitErr(err)
	}
	if resp.Succeeded {
		return true, nil
	}
	if b.fence != nil {
		kvs := resp.Responses[0].GetResponseRange().GetKvs()
		if len(kvs) == 0 || kvs[0].CreateRevision != b.fence.Rev {
			b.fenced.Do(func() {
				if b.onFenced != nil {
					b.onFenced()
				}
			})
			return false, ErrFenced
		}
	}
	return false, nil
}

func mapCommitErr(err error) error {
	switch {
	case errors.Is(err, rpctypes.ErrTooManyOps), errors.Is(err, rpctypes.ErrRequestTooLarge),
		status.Code(err) == codes.ResourceExhausted:
		return fmt.Errorf("%w: %v", ErrTxTooLarge, err)
	}
	return fmt.Errorf("%w: commit: %w", ErrUnavailable, err)
}
