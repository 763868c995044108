package sphinx

import (
	"sync"

	"github.com/btcsuite/btcd/btcec/v2"

	"lnd.xprv/internal/vartime"
)

// Sizes of a HopTables cache.
const (
	// hopTableTeeth is the comb width of a hop's table: 255 affine
	// points (16 KiB), 31 doublings and at most 32 additions a
	// multiplication, against about 130 doublings and 45 additions for
	// vartime.Mul. Building one costs about three Mul.
	hopTableTeeth = 8

	// hopTableUses is how often a key must come up before it gets a
	// table, so that a key seen once or twice costs nothing to build.
	hopTableUses = 4

	// maxHopKeys bounds the keys a HopTables remembers (and so its
	// tables: at most this many times 16 KiB).
	maxHopKeys = 64
)

// HopTables remembers multiplication tables for the node keys an origin
// builds onions to most often, its channel peers first (every route
// starts at one): the ECDH of the session key with such a key is then a
// comb multiplication, about three times cheaper. It is safe for
// concurrent use; the zero value is not usable, see NewHopTables.
type HopTables struct {
	mu   sync.Mutex
	keys map[[PubKeySize]byte]*hopTable
}

type hopTable struct {
	pub      *btcec.PublicKey
	uses     int
	building bool           // one payer builds, the others go on without
	table    *vartime.Table // nil until built
}

// NewHopTables returns an empty cache.
func NewHopTables() *HopTables {
	return &HopTables{keys: make(map[[PubKeySize]byte]*hopTable)}
}

// lookup counts a use of pub and returns its table, building it on the
// use that reaches the threshold; nil before that. A full cache forgets
// an arbitrary key to make room.
func (t *HopTables) lookup(pub *btcec.PublicKey) *vartime.Table {
	if t == nil {
		return nil
	}
	key := [PubKeySize]byte(pub.SerializeCompressed())
	t.mu.Lock()
	e := t.keys[key]
	if e == nil {
		if len(t.keys) >= maxHopKeys {
			for k := range t.keys {
				delete(t.keys, k)
				break
			}
		}
		e = &hopTable{pub: pub}
		t.keys[key] = e
	}
	e.uses++
	table, build := e.table, e.table == nil && !e.building && e.uses >= hopTableUses
	e.building = e.building || build
	t.mu.Unlock()
	if !build {
		return table
	}
	// Built outside the lock, by this payer alone. Should the key be
	// forgotten meanwhile, the table goes with its entry.
	table = vartime.NewTable(pub, hopTableTeeth)
	t.mu.Lock()
	e.table = table
	t.mu.Unlock()
	return table
}

// ParsePubKey is btcec.ParsePubKey, answered from the cache for a key
// onions went to before (a parsed key is never changed, so one value
// serves every payer): a router's hops come as bytes, and parsing a
// compressed key takes a square root.
func (t *HopTables) ParsePubKey(b [PubKeySize]byte) (*btcec.PublicKey, error) {
	if t != nil {
		t.mu.Lock()
		e := t.keys[b]
		t.mu.Unlock()
		if e != nil {
			return e.pub, nil
		}
	}
	return vartime.ParsePubKey(b[:])
}

// NewOnionPacket is the package's NewOnionPacket, with the ECDH of each
// hop whose key has a table in t done with it.
func (t *HopTables) NewOnionPacket(route []Hop, sessionKey *btcec.PrivateKey, assocData []byte) (*OnionPacket, error) {
	return newOnionPacket(route, sessionKey, assocData, t)
}
