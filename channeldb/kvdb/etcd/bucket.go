package etcd

import (
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"

	"lnd.xprv/channeldb/kvdb"
)

// Tags of stored entries: a value, or the marker of a nested bucket.
const (
	tagValue  = 'v'
	tagBucket = 'b'
)

type bucketID [sha256.Size]byte

var rootID bucketID

func childID(parent bucketID, name []byte) bucketID {
	h := sha256.New()
	h.Write(parent[:])
	h.Write(name)
	var id bucketID
	h.Sum(id[:0])
	return id
}

// bucketPrefix is the etcd prefix of every key of bucket id.
func bucketPrefix(b *Backend, id bucketID) string {
	return b.ns + "d" + string(id[:])
}

// bucketPrefixOf is the prefix of the bucket holding the etcd key k.
func bucketPrefixOf(b *Backend, k string) string {
	n := len(b.ns) + 1 + len(bucketID{})
	if len(k) < n {
		return k
	}
	return k[:n]
}

// bucket is a bucket of a transaction. Its sequence is stored at the bare
// prefix, its entries at prefix+key.
type bucket struct {
	t      *txn
	id     bucketID
	prefix string
}

var _ kvdb.RwBucket = (*bucket)(nil)

// raw is the tagged entry at key, nil if none.
func (b *bucket) raw(key []byte) []byte {
	return b.t.read(b.prefix+string(key), b.prefix)
}

func (b *bucket) Get(key []byte) []byte {
	if len(key) == 0 {
		return nil
	}
	if v := b.raw(key); len(v) > 0 && v[0] == tagValue {
		return v[1:]
	}
	return nil
}

func (b *bucket) nested(key []byte) *bucket {
	if len(key) == 0 {
		return nil
	}
	if v := b.raw(key); len(v) > 0 && v[0] == tagBucket {
		id := childID(b.id, key)
		return &bucket{t: b.t, id: id, prefix: bucketPrefix(b.t.b, id)}
	}
	return nil
}

func (b *bucket) NestedReadBucket(key []byte) kvdb.RBucket {
	if n := b.nested(key); n != nil {
		return n
	}
	return nil
}

func (b *bucket) NestedReadWriteBucket(key []byte) kvdb.RwBucket {
	if n := b.nested(key); n != nil {
		return n
	}
	return nil
}

func (b *bucket) ForEach(f func(k, v []byte) error) error {
	c := b.ReadCursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if err := f(k, v); err != nil {
			return err
		}
	}
	return nil
}

func (b *bucket) ReadCursor() kvdb.RCursor       { return b.cursor() }
func (b *bucket) ReadWriteCursor() kvdb.RwCursor { return b.cursor() }

// cursor returns a cursor sharing the transaction's snapshot pages of
// the bucket.
func (b *bucket) cursor() *cursor {
	pg := b.t.pages[b.prefix]
	if pg == nil {
		pg = &pages{}
		b.t.pages[b.prefix] = pg
	}
	return &cursor{b: b, pg: pg}
}

func (b *bucket) Sequence() uint64 {
	v := b.t.read(b.prefix, b.prefix)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// checkWrite refuses writes in a read transaction and bad keys.
func (b *bucket) checkWrite(key []byte) error {
	switch {
	case !b.t.writable:
		return kvdb.ErrTxNotWritable
	case len(key) == 0:
		return kvdb.ErrKeyRequired
	case len(key) > maxKeySize:
		return kvdb.ErrKeyTooLarge
	}
	return nil
}

func (b *bucket) Put(key, value []byte) error {
	if err := b.checkWrite(key); err != nil {
		return err
	}
	if v := b.raw(key); len(v) > 0 && v[0] == tagBucket {
		return kvdb.ErrIncompatibleValue
	}
	b.t.put(b.prefix+string(key), append([]byte{tagValue}, value...))
	return nil
}

func (b *bucket) Delete(key []byte) error {
	if err := b.checkWrite(key); err != nil {
		if err == kvdb.ErrKeyRequired {
			return nil
		}
		return err
	}
	v := b.raw(key)
	switch {
	case v == nil:
		return nil
	case v[0] == tagBucket:
		return kvdb.ErrIncompatibleValue
	}
	b.t.del(b.prefix+string(key), b.prefix)
	return nil
}

func (b *bucket) CreateBucket(key []byte) (kvdb.RwBucket, error) {
	if err := b.checkWrite(key); err != nil {
		return nil, err
	}
	if v := b.raw(key); v != nil {
		if v[0] == tagBucket {
			return nil, kvdb.ErrBucketExists
		}
		return nil, kvdb.ErrIncompatibleValue
	}
	b.t.put(b.prefix+string(key), []byte{tagBucket})
	id := childID(b.id, key)
	n := &bucket{t: b.t, id: id, prefix: bucketPrefix(b.t.b, id)}
	// No bucket, no keys under its prefix (deleting a bucket deletes
	// its whole tree): nothing of the new bucket needs reading.
	b.t.fresh[n.prefix] = true
	return n, nil
}

func (b *bucket) CreateBucketIfNotExists(key []byte) (kvdb.RwBucket, error) {
	if err := b.checkWrite(key); err != nil {
		return nil, err
	}
	if n := b.nested(key); n != nil {
		return n, nil
	}
	return b.CreateBucket(key)
}

func (b *bucket) DeleteNestedBucket(key []byte) error {
	if err := b.checkWrite(key); err != nil {
		return err
	}
	v := b.raw(key)
	switch {
	case v == nil:
		return kvdb.ErrBucketNotFound
	case v[0] != tagBucket:
		return kvdb.ErrIncompatibleValue
	}
	n := b.nested(key)
	if err := n.dropTree(); err != nil {
		return err
	}
	b.t.del(b.prefix+string(key), b.prefix)
	return b.t.err
}

// dropTree deletes the bucket and every bucket nested in it.
func (b *bucket) dropTree() error {
	var children [][]byte
	err := b.ForEach(func(k, v []byte) error {
		if v == nil {
			children = append(children, slices.Clone(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range children {
		if err := b.nested(k).dropTree(); err != nil {
			return err
		}
	}
	b.t.drop(b.prefix)
	return b.t.err
}

func (b *bucket) NextSequence() (uint64, error) {
	if !b.t.writable {
		return 0, kvdb.ErrTxNotWritable
	}
	s := b.Sequence() + 1
	return s, b.SetSequence(s)
}

func (b *bucket) SetSequence(v uint64) error {
	if !b.t.writable {
		return kvdb.ErrTxNotWritable
	}
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], v)
	b.t.put(b.prefix, buf[:])
	return nil
}

// entry is a key and its tagged value.
type entry struct {
	key string // without the bucket prefix
	val []byte
}

// value is what the interface reports for a tagged entry: nil for a
// nested bucket.
func (e *entry) value() []byte {
	if len(e.val) == 0 || e.val[0] == tagBucket {
		return nil
	}
	return e.val[1:]
}

// ceil is the first entry with key >= from, merging the transaction's
// writes over the snapshot (whose pages pg caches).
func (b *bucket) ceil(from string, pg *pages) *entry {
	t := b.t
	if from == "" {
		from = "\x00" // the bare prefix is the sequence, not a key
	}
	var snapE *entry
	if !t.unseen(b.prefix) {
		for k := from; ; {
			e := pg.ceil(b, k)
			if e == nil {
				break
			}
			if _, written := t.writes[b.prefix+e.key]; !written {
				snapE = e
				break
			}
			k = e.key + "\x00"
		}
	}
	var ovE *entry
	i, _ := slices.BinarySearch(t.sorted, b.prefix+from)
	for ; i < len(t.sorted) && strings.HasPrefix(t.sorted[i], b.prefix); i++ {
		k := t.sorted[i]
		if len(k) == len(b.prefix) {
			continue // the sequence
		}
		if w := t.writes[k]; !w.del {
			ovE = &entry{key: k[len(b.prefix):], val: w.val}
			break
		}
	}
	return minEntry(snapE, ovE, false)
}

// floor is the last entry with key < below ("" for no bound).
func (b *bucket) floor(below string, pg *pages) *entry {
	t := b.t
	var snapE *entry
	if !t.unseen(b.prefix) {
		for k := below; ; {
			e := pg.floor(b, k)
			if e == nil {
				break
			}
			if _, written := t.writes[b.prefix+e.key]; !written {
				snapE = e
				break
			}
			k = e.key
		}
	}
	var ovE *entry
	end := prefixEnd(b.prefix)
	if below != "" {
		end = b.prefix + below
	}
	i, _ := slices.BinarySearch(t.sorted, end)
	for i--; i >= 0 && strings.HasPrefix(t.sorted[i], b.prefix); i-- {
		k := t.sorted[i]
		if len(k) == len(b.prefix) {
			break // the sequence sorts first
		}
		if w := t.writes[k]; !w.del {
			ovE = &entry{key: k[len(b.prefix):], val: w.val}
			break
		}
	}
	return minEntry(snapE, ovE, true)
}

// minEntry picks the nearer of two candidates (the larger key when max);
// the transaction's write wins a tie.
func minEntry(snapE, ovE *entry, max bool) *entry {
	switch {
	case snapE == nil:
		return ovE
	case ovE == nil:
		return snapE
	case snapE.key == ovE.key:
		return ovE
	case (snapE.key < ovE.key) != max:
		return snapE
	}
	return ovE
}

func compareEntry(e entry, k string) int { return strings.Compare(e.key, k) }

// pages caches the pages of a bucket's snapshot read by its cursors. The
// snapshot never changes within a transaction, so a page stays valid.
type pages struct {
	list []page
	size int64
}

// page holds every snapshot key in [lo, hi) ("" hi: no upper bound;
// noLow: no lower bound).
type page struct {
	lo, hi  string
	noLow   bool
	entries []entry
}

func (pg *pages) nextSize() int64 {
	if pg.size == 0 {
		pg.size = 32
	} else if pg.size < 1024 {
		pg.size *= 2
	}
	return pg.size
}

func (pg *pages) ceil(b *bucket, from string) *entry {
	for i := range pg.list {
		p := &pg.list[i]
		if (!p.noLow && from < p.lo) || (p.hi != "" && from >= p.hi) {
			continue
		}
		j, _ := slices.BinarySearchFunc(p.entries, from, compareEntry)
		if j < len(p.entries) {
			return &p.entries[j]
		}
		if p.hi == "" {
			return nil
		}
	}
	n := pg.nextSize()
	resp, ok := b.t.get(b.prefix+from, clientv3.WithRange(prefixEnd(b.prefix)),
		clientv3.WithLimit(n), clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend))
	if !ok {
		return nil
	}
	p := page{lo: from}
	for _, kv := range resp.Kvs {
		p.entries = append(p.entries, entry{key: string(kv.Key[len(b.prefix):]), val: kv.Value})
	}
	if resp.More {
		p.hi = p.entries[len(p.entries)-1].key + "\x00"
	}
	pg.list = append(pg.list, p)
	if len(p.entries) == 0 {
		return nil
	}
	return &pg.list[len(pg.list)-1].entries[0]
}

func (pg *pages) floor(b *bucket, below string) *entry {
	for i := range pg.list {
		p := &pg.list[i]
		// The page must reach up to below and start under it.
		if (p.hi != "" && (below == "" || below > p.hi)) || (!p.noLow && below != "" && below <= p.lo) {
			continue
		}
		j := len(p.entries)
		if below != "" {
			j, _ = slices.BinarySearchFunc(p.entries, below, compareEntry)
		}
		if j > 0 {
			return &p.entries[j-1]
		}
		if p.noLow {
			return nil
		}
	}
	end := prefixEnd(b.prefix)
	if below != "" {
		end = b.prefix + below
	}
	n := pg.nextSize()
	// Keys start after the bare prefix (the sequence): from prefix+"\x00".
	resp, ok := b.t.get(b.prefix+"\x00", clientv3.WithRange(end),
		clientv3.WithLimit(n), clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend))
	if !ok {
		return nil
	}
	p := page{hi: below, noLow: !resp.More}
	for i := len(resp.Kvs) - 1; i >= 0; i-- {
		kv := resp.Kvs[i]
		p.entries = append(p.entries, entry{key: string(kv.Key[len(b.prefix):]), val: kv.Value})
	}
	if resp.More {
		p.lo = p.entries[0].key
	}
	pg.list = append(pg.list, p)
	if len(p.entries) == 0 {
		return nil
	}
	last := &pg.list[len(pg.list)-1]
	return &last.entries[len(last.entries)-1]
}

// cursor walks a bucket as the interface documents: cur is the key it is
// on, deleted the key it deleted until it moves.
type cursor struct {
	b       *bucket
	pg      *pages
	cur     *string
	deleted *string
}

func (c *cursor) land(e *entry) ([]byte, []byte) {
	c.deleted = nil
	if e == nil {
		c.cur = nil
		return nil, nil
	}
	k := e.key
	c.cur = &k
	return []byte(k), e.value()
}

// First seeks the smallest key there can be: keys are never empty.
func (c *cursor) First() ([]byte, []byte) { return c.land(c.b.ceil("\x00", c.pg)) }
func (c *cursor) Last() ([]byte, []byte)  { return c.land(c.b.floor("", c.pg)) }

func (c *cursor) Seek(seek []byte) ([]byte, []byte) {
	return c.land(c.b.ceil(string(seek), c.pg))
}

func (c *cursor) Next() ([]byte, []byte) {
	switch {
	case c.deleted != nil:
		return c.land(c.b.ceil(*c.deleted, c.pg))
	case c.cur == nil:
		return nil, nil
	}
	return c.land(c.b.ceil(*c.cur+"\x00", c.pg))
}

func (c *cursor) Prev() ([]byte, []byte) {
	switch {
	case c.deleted != nil:
		return c.land(c.b.floor(*c.deleted, c.pg))
	case c.cur == nil:
		return nil, nil
	}
	return c.land(c.b.floor(*c.cur, c.pg))
}

func (c *cursor) Delete() error {
	if c.cur == nil {
		return kvdb.ErrNoCursorPosition
	}
	k := *c.cur
	if err := c.b.Delete([]byte(k)); err != nil {
		return err
	}
	c.cur, c.deleted = nil, &k
	return nil
}
