package etcd

import (
	"fmt"
	"slices"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"

	"lnd.xprv/channeldb/kvdb"
)

// write is a pending change of one key: a value, or a deletion.
type write struct {
	val []byte
	del bool
}

// snap is what the snapshot holds at a key (cached point reads).
type snap struct {
	val []byte
	ok  bool
}

// txn is one transaction: reads at one etcd revision, writes kept in an
// overlay until commit. Not safe for concurrent use (neither is a bbolt
// transaction).
type txn struct {
	b        *Backend
	writable bool

	// rev is the snapshot's revision, fixed by the first read.
	rev int64
	// err is the first failed read; the transaction fails with it.
	err error

	// writes by etcd key, and the same keys sorted, for range reads.
	writes map[string]write
	sorted []string
	// dropped are the prefixes of buckets deleted in this transaction:
	// nothing of the snapshot under them is visible.
	dropped map[string]bool
	// fresh are the prefixes of buckets created in this transaction: the
	// snapshot holds nothing under them.
	fresh map[string]bool

	points map[string]snap
	// pages of each bucket's snapshot, by bucket prefix.
	pages map[string]*pages
}

func newTxn(b *Backend, writable bool) *txn {
	return &txn{b: b, writable: writable, writes: make(map[string]write),
		dropped: make(map[string]bool), fresh: make(map[string]bool), points: make(map[string]snap),
		pages: make(map[string]*pages)}
}

// get runs a read at the snapshot revision (fixing it on the first read).
func (t *txn) get(key string, opts ...clientv3.OpOption) (*clientv3.GetResponse, bool) {
	if t.err != nil {
		return nil, false
	}
	if t.rev != 0 {
		opts = append(opts, clientv3.WithRev(t.rev))
	}
	ctx, cancel := t.b.ctx()
	defer cancel()
	resp, err := t.b.cli.Get(ctx, key, opts...)
	if err != nil {
		t.err = fmt.Errorf("%w: read: %w", ErrUnavailable, err)
		return nil, false
	}
	if t.rev == 0 {
		t.rev = resp.Header.Revision
	}
	return resp, true
}

// snapshot returns the snapshot's value at key.
func (t *txn) snapshot(key string) ([]byte, bool) {
	if s, ok := t.points[key]; ok {
		return s.val, s.ok
	}
	if v, ok, known := t.fromPages(key); known {
		return v, ok
	}
	resp, ok := t.get(key)
	if !ok {
		return nil, false
	}
	var s snap
	if len(resp.Kvs) == 1 {
		s = snap{val: resp.Kvs[0].Value, ok: true}
	}
	t.points[key] = s
	return s.val, s.ok
}

// fromPages answers a point read from a cached page covering key.
func (t *txn) fromPages(key string) (val []byte, ok, known bool) {
	prefix := bucketPrefixOf(t.b, key)
	pg := t.pages[prefix]
	if pg == nil || len(key) == len(prefix) {
		return nil, false, false
	}
	k := key[len(prefix):]
	for i := range pg.list {
		p := &pg.list[i]
		if (!p.noLow && k < p.lo) || (p.hi != "" && k >= p.hi) {
			continue
		}
		j, found := slices.BinarySearchFunc(p.entries, k, compareEntry)
		if found {
			return p.entries[j].val, true, true
		}
		return nil, false, true
	}
	return nil, false, false
}

// read returns the value at key as the transaction sees it.
func (t *txn) read(key string, bucketPrefix string) []byte {
	if w, ok := t.writes[key]; ok {
		if w.del {
			return nil
		}
		return w.val
	}
	if t.unseen(bucketPrefix) {
		return nil
	}
	v, _ := t.snapshot(key)
	return v
}

func (t *txn) put(key string, val []byte) {
	if _, ok := t.writes[key]; !ok {
		i, _ := slices.BinarySearch(t.sorted, key)
		t.sorted = slices.Insert(t.sorted, i, key)
	}
	t.writes[key] = write{val: val}
}

// del deletes key, which the caller has seen present.
func (t *txn) del(key string, bucketPrefix string) {
	if _, ok := t.writes[key]; ok && (t.unseen(bucketPrefix) || !t.inSnapshot(key)) {
		// Written in this transaction only: forget the write.
		i, _ := slices.BinarySearch(t.sorted, key)
		t.sorted = slices.Delete(t.sorted, i, i+1)
		delete(t.writes, key)
		return
	}
	if _, ok := t.writes[key]; !ok {
		i, _ := slices.BinarySearch(t.sorted, key)
		t.sorted = slices.Insert(t.sorted, i, key)
	}
	t.writes[key] = write{del: true}
}

func (t *txn) inSnapshot(key string) bool {
	_, ok := t.snapshot(key)
	return ok
}

// drop deletes every key under prefix: the writes of this transaction
// there are forgotten and the snapshot's hidden.
func (t *txn) drop(prefix string) {
	lo, _ := slices.BinarySearch(t.sorted, prefix)
	hi := lo
	for hi < len(t.sorted) && strings.HasPrefix(t.sorted[hi], prefix) {
		delete(t.writes, t.sorted[hi])
		hi++
	}
	t.sorted = slices.Delete(t.sorted, lo, hi)
	t.dropped[prefix] = true
}

// ops turns the transaction's writes into etcd operations. etcd refuses a
// put inside a range deleted by the same transaction, so each dropped
// range is cut around the keys written under it.
func (t *txn) ops() []clientv3.Op {
	var ops []clientv3.Op
	prefixes := make([]string, 0, len(t.dropped))
	for p := range t.dropped {
		prefixes = append(prefixes, p)
	}
	slices.Sort(prefixes)
	for _, p := range prefixes {
		from := p
		lo, _ := slices.BinarySearch(t.sorted, p)
		for i := lo; i < len(t.sorted) && strings.HasPrefix(t.sorted[i], p); i++ {
			k := t.sorted[i]
			if k > from {
				ops = append(ops, clientv3.OpDelete(from, clientv3.WithRange(k)))
			}
			from = k + "\x00"
		}
		ops = append(ops, clientv3.OpDelete(from, clientv3.WithRange(prefixEnd(p))))
	}
	for _, k := range t.sorted {
		w := t.writes[k]
		switch {
		case !w.del:
			ops = append(ops, clientv3.OpPut(k, string(w.val)))
		case !t.dropped[bucketPrefixOf(t.b, k)]:
			ops = append(ops, clientv3.OpDelete(k))
		}
	}
	return ops
}

// unseen reports whether the snapshot's keys under a bucket prefix are
// out of the transaction's sight: the bucket was deleted or created in it.
func (t *txn) unseen(prefix string) bool { return t.dropped[prefix] || t.fresh[prefix] }

// prefixEnd is the first key after every key starting with p.
func prefixEnd(p string) string {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1])
		}
	}
	return "\x00" // all 0xff: to the end of the keyspace
}

// The transaction's kvdb methods: the root bucket holds the top-level
// buckets.

func (t *txn) root() *bucket { return &bucket{t: t, prefix: bucketPrefix(t.b, rootID)} }

func (t *txn) ReadBucket(name []byte) kvdb.RBucket {
	if b := t.root().nested(name); b != nil {
		return b
	}
	return nil
}

func (t *txn) ReadWriteBucket(name []byte) kvdb.RwBucket {
	if b := t.root().nested(name); b != nil {
		return b
	}
	return nil
}

func (t *txn) ForEachBucket(f func(name []byte) error) error {
	return t.root().ForEach(func(k, _ []byte) error { return f(k) })
}

func (t *txn) CreateTopLevelBucket(name []byte) (kvdb.RwBucket, error) {
	return t.root().CreateBucketIfNotExists(name)
}

func (t *txn) DeleteTopLevelBucket(name []byte) error {
	return t.root().DeleteNestedBucket(name)
}
