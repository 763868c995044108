package kvdbtest

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"lnd.xprv/channeldb/kvdb"
)

// model is the reference a backend's bucket and cursor are checked
// against: a sorted key list, and a cursor as the interface documents it.
type model struct {
	keys    []string
	vals    map[string]string
	cur     *string // the key the cursor is on
	deleted *string // the key the cursor deleted, until it moves
}

func (m *model) index(k string) (int, bool) { return slices.BinarySearch(m.keys, k) }

func (m *model) put(k, v string) {
	if i, ok := m.index(k); !ok {
		m.keys = slices.Insert(m.keys, i, k)
	}
	m.vals[k] = v
}

func (m *model) del(k string) {
	if i, ok := m.index(k); ok {
		m.keys = slices.Delete(m.keys, i, i+1)
		delete(m.vals, k)
	}
}

// land places the cursor on keys[i], or nowhere if i is out of range.
func (m *model) land(i int) string {
	m.deleted = nil
	if i < 0 || i >= len(m.keys) {
		m.cur = nil
		return ""
	}
	k := m.keys[i]
	m.cur = &k
	return k
}

func (m *model) first() string { return m.land(0) }
func (m *model) last() string  { return m.land(len(m.keys) - 1) }

func (m *model) seek(k string) string {
	i, _ := m.index(k)
	return m.land(i)
}

func (m *model) next() string {
	switch {
	case m.deleted != nil:
		return m.seek(*m.deleted)
	case m.cur == nil:
		return ""
	}
	i, _ := m.index(*m.cur)
	return m.land(i + 1)
}

func (m *model) prev() string {
	switch {
	case m.deleted != nil:
		i, _ := m.index(*m.deleted)
		return m.land(i - 1)
	case m.cur == nil:
		return ""
	}
	i, _ := m.index(*m.cur)
	return m.land(i - 1)
}

func (m *model) cursorDelete() bool {
	if m.cur == nil {
		return false
	}
	k := *m.cur
	m.del(k)
	m.cur, m.deleted = nil, &k
	return true
}

// testCursorModel drives a bucket and a cursor with random operations
// (puts, deletes, every cursor move, deletes through the cursor, some
// transactions rolled back) across several pages, and checks each result
// against the model.
func testCursorModel(t *testing.T, open func(*testing.T) kvdb.Backend) {
	for seed := uint64(1); seed <= 8; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			CursorModel(t, open(t), seed)
		})
	}
}

// CursorModel is one run of the model test from seed, over an empty
// backend: 40 transactions of 400 operations. A fuzz target can drive it
// for longer runs.
func CursorModel(t *testing.T, db kvdb.Backend, seed uint64) {
	const txs, opsPerTx = 40, 400
	rng := rand.New(rand.NewPCG(seed, 0))
	m := &model{vals: map[string]string{}}
	name := []byte("model")
	value := func(k string, n int) string {
		// Values big enough that a few hundred keys span many pages.
		return fmt.Sprintf("%s-%d-%s", k, n, bytes.Repeat([]byte("v"), 80))
	}
	rollback := errors.New("rollback")
	for txn := 0; txn < txs; txn++ {
		saved := &model{keys: slices.Clone(m.keys), vals: map[string]string{}}
		for k, v := range m.vals {
			saved.vals[k] = v
		}
		abort := rng.IntN(5) == 0
		var trace []string
		err := db.Update(func(tx kvdb.RwTx) error {
			b, err := tx.CreateTopLevelBucket(name)
			if err != nil {
				return err
			}
			c := b.ReadWriteCursor()
			m.cur, m.deleted = nil, nil
			for op := 0; op < opsPerTx; op++ {
				k := fmt.Sprintf("k%03d", rng.IntN(300))
				var got []byte
				var want string
				switch r := rng.IntN(100); {
				case r < 30:
					// A bucket write invalidates cursors: start a new one.
					v := value(k, op)
					if err := b.Put([]byte(k), []byte(v)); err != nil {
						return err
					}
					m.put(k, v)
					c, m.cur, m.deleted = b.ReadWriteCursor(), nil, nil
					trace = append(trace, "put "+k)
					continue
				case r < 40:
					// Some deletes take a run of keys, a page or so,
					// leaving emptied pages inside the transaction.
					n := 1
					if rng.IntN(8) == 0 {
						n = 40
					}
					start := rng.IntN(300)
					for j := start; j < start+n && j < 300; j++ {
						dk := fmt.Sprintf("k%03d", j)
						if err := b.Delete([]byte(dk)); err != nil {
							return err
						}
						m.del(dk)
					}
					c, m.cur, m.deleted = b.ReadWriteCursor(), nil, nil
					trace = append(trace, fmt.Sprintf("delete k%03d..+%d", start, n))
					continue
				case r < 55:
					err := c.Delete()
					ok := m.cursorDelete()
					trace = append(trace, "cursor delete")
					if ok != (err == nil) || (!ok && !errors.Is(err, kvdb.ErrNoCursorPosition)) {
						return fmt.Errorf("after %v: cursor delete returned %v, model says ok=%v", trace, err, ok)
					}
					continue
				case r < 62:
					got, _ = c.First()
					want = m.first()
					trace = append(trace, "first")
				case r < 69:
					got, _ = c.Last()
					want = m.last()
					trace = append(trace, "last")
				case r < 77:
					got, _ = c.Seek([]byte(k))
					want = m.seek(k)
					trace = append(trace, "seek "+k)
				case r < 89:
					got, _ = c.Next()
					want = m.next()
					trace = append(trace, "next")
				default:
					got, _ = c.Prev()
					want = m.prev()
					trace = append(trace, "prev")
				}
				if string(got) != want {
					return fmt.Errorf("tx %d op %d: got %q, model %q; ops in this tx: %v",
						txn, op, got, want, trace)
				}
			}
			if abort {
				return rollback
			}
			return nil
		})
		if abort && err == rollback {
			m = saved
		} else if err != nil {
			t.Fatal(err)
		}
		checkModel(t, db, name, m)
	}
}

// checkModel compares the committed bucket with the model, both ways.
func checkModel(t *testing.T, db kvdb.Backend, name []byte, m *model) {
	t.Helper()
	err := db.View(func(tx kvdb.RTx) error {
		b := tx.ReadBucket(name)
		if b == nil {
			if len(m.keys) != 0 {
				return errors.New("bucket missing")
			}
			return nil
		}
		i := 0
		err := b.ForEach(func(k, v []byte) error {
			if i >= len(m.keys) || string(k) != m.keys[i] || string(v) != m.vals[m.keys[i]] {
				return fmt.Errorf("key %d: stored %q, model %q", i, k, m.keys[min(i, len(m.keys)-1)])
			}
			i++
			return nil
		})
		if err == nil && i != len(m.keys) {
			err = fmt.Errorf("%d keys stored, model has %d", i, len(m.keys))
		}
		// Backwards too, over the committed file.
		c := b.ReadCursor()
		j := len(m.keys) - 1
		for k, _ := c.Last(); k != nil && err == nil; k, _ = c.Prev() {
			if j < 0 || string(k) != m.keys[j] {
				err = fmt.Errorf("backwards at %d: stored %q", j, k)
			}
			j--
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
