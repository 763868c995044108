package wallet

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"lnd.xprv/channeldb/kvdb"
)

// Database layout. Every value is a fixed binary encoding written by this
// file; integers are big-endian.
//
//	meta     version, net, seed (sealed), insecure, birthday, tip, created,
//	         pwchange (a password change in progress)
//	addrs    [type, branch] -> next index to hand out
//	used     [type, branch] -> highest used index + 1
//	families family(4) -> next index
//	scripts  pkScript -> type(1) branch(1) index(4)
//	utxos    outpoint(36) -> utxo record
//	spent    outpoint(36) -> utxo record, spender txid(32)
//	txs      txid(32) -> tx record (versioned, see txRec.encode)
//	unmined  txid(32) -> nothing: the txs neither confirmed nor failed
//	leases   outpoint(36) -> lock id(32) expiry unix(8)
//	blocks   height(4) -> hash(32), the recent blocks scanned
//
// Version 2 added the unmined index and versioned tx records with failure
// and last-seen fields; Open migrates a version 1 database.
const dbVersion = 2

var (
	bucketMeta     = []byte("meta")
	bucketAddrs    = []byte("addrs")
	bucketUsed     = []byte("used")
	bucketFamilies = []byte("families")
	bucketScripts  = []byte("scripts")
	bucketUtxos    = []byte("utxos")
	bucketSpent    = []byte("spent")
	bucketTxs      = []byte("txs")
	bucketLeases   = []byte("leases")
	bucketBlocks   = []byte("blocks")
	bucketUnmined  = []byte("unmined")

	allBuckets = [][]byte{bucketMeta, bucketAddrs, bucketUsed,
		bucketFamilies, bucketScripts, bucketUtxos, bucketSpent, bucketTxs,
		bucketLeases, bucketBlocks, bucketUnmined}

	keyVersion  = []byte("version")
	keyNet      = []byte("net")
	keySeed     = []byte("seed")
	keyInsecure = []byte("insecure")
	keyBirthday = []byte("birthday")
	keyTip      = []byte("tip")
	keyCreated  = []byte("created")

	// keyPasswordChange holds a password change in progress (see
	// password.go).
	keyPasswordChange = []byte("pwchange")
)

// keepBlocks is how many recent block hashes are kept to find a fork point.
// A reorg deeper than this is not expected on any network we run on; if it
// happens the wallet rescans from keepBlocks below the tip.
const keepBlocks = 1000

// unconfirmed is the stored height of a transaction or output not in a
// block.
const unconfirmed int32 = -1

// openStore returns cfg.DB, or opens the bbolt file at cfg.DBPath; the
// function returned closes only what openStore opened.
func openStore(cfg Config) (kvdb.Backend, func() error, error) {
	if cfg.DB != nil {
		return cfg.DB, func() error { return nil }, nil
	}
	db, err := openDB(cfg.DBPath)
	if err != nil {
		return nil, nil, err
	}
	return db, db.Close, nil
}

// openDB opens the bbolt file at path (fsync on, as kvdb does by default).
func openDB(path string) (kvdb.Backend, error) {
	db, err := kvdb.OpenBolt(path, kvdb.WithLockTimeout(2*time.Second))
	if err != nil {
		return nil, fmt.Errorf("open wallet db %s: %w", path, err)
	}
	return db, nil
}

func createBuckets(tx kvdb.RwTx) error {
	for _, b := range allBuckets {
		if _, err := tx.CreateTopLevelBucket(b); err != nil {
			return err
		}
	}
	return nil
}

func u32(v uint32) []byte {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	return b[:]
}

func outpointKey(op wire.OutPoint) []byte {
	k := make([]byte, 36)
	copy(k, op.Hash[:])
	binary.BigEndian.PutUint32(k[32:], op.Index)
	return k
}

func parseOutpointKey(k []byte) (wire.OutPoint, error) {
	var op wire.OutPoint
	if len(k) != 36 {
		return op, fmt.Errorf("%w: outpoint key of %d bytes", ErrCorruptDB, len(k))
	}
	copy(op.Hash[:], k)
	op.Index = binary.BigEndian.Uint32(k[32:])
	return op, nil
}

// tip is the last block the wallet has scanned.
type tip struct {
	Height int32
	Hash   chainhash.Hash
}

func getTip(tx kvdb.RTx) (tip, bool, error) {
	v := tx.ReadBucket(bucketMeta).Get(keyTip)
	if v == nil {
		return tip{}, false, nil
	}
	if len(v) != 36 {
		return tip{}, false, fmt.Errorf("%w: tip record", ErrCorruptDB)
	}
	var t tip
	t.Height = int32(binary.BigEndian.Uint32(v))
	copy(t.Hash[:], v[4:])
	return t, true, nil
}

func putTip(tx kvdb.RwTx, t tip) error {
	v := make([]byte, 36)
	binary.BigEndian.PutUint32(v, uint32(t.Height))
	copy(v[4:], t.Hash[:])
	if err := tx.ReadWriteBucket(bucketMeta).Put(keyTip, v); err != nil {
		return err
	}
	b := tx.ReadWriteBucket(bucketBlocks)
	if err := b.Put(u32(uint32(t.Height)), t.Hash[:]); err != nil {
		return err
	}
	if t.Height >= keepBlocks {
		return b.Delete(u32(uint32(t.Height - keepBlocks)))
	}
	return nil
}

// blockHashAt returns the stored hash of the scanned block at height.
func blockHashAt(tx kvdb.RwTx, height int32) (chainhash.Hash, bool) {
	var h chainhash.Hash
	v := tx.ReadWriteBucket(bucketBlocks).Get(u32(uint32(height)))
	if len(v) != 32 {
		return h, false
	}
	copy(h[:], v)
	return h, true
}

func getInt32(b kvdb.RBucket, k []byte) (int32, bool) {
	v := b.Get(k)
	if len(v) != 4 {
		return 0, false
	}
	return int32(binary.BigEndian.Uint32(v)), true
}

func getUint32(b kvdb.RBucket, k []byte) uint32 {
	v := b.Get(k)
	if len(v) != 4 {
		return 0
	}
	return binary.BigEndian.Uint32(v)
}

// utxoRec is a wallet output as stored.
type utxoRec struct {
	Value    btcutil.Amount
	Height   int32 // unconfirmed if not in a block
	Coinbase bool
	Deriv    derivation
	PkScript []byte
	// Spender is set in the spent bucket only.
	Spender chainhash.Hash
}

func (u *utxoRec) encode(withSpender bool) []byte {
	var buf bytes.Buffer
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(u.Value))
	buf.Write(b[:])
	buf.Write(u32(uint32(u.Height)))
	flags := byte(0)
	if u.Coinbase {
		flags |= 1
	}
	buf.WriteByte(flags)
	buf.WriteByte(byte(u.Deriv.Type))
	buf.WriteByte(u.Deriv.Branch)
	buf.Write(u32(u.Deriv.Index))
	binary.BigEndian.PutUint16(b[:2], uint16(len(u.PkScript)))
	buf.Write(b[:2])
	buf.Write(u.PkScript)
	if withSpender {
		buf.Write(u.Spender[:])
	}
	return buf.Bytes()
}

func decodeUtxo(v []byte, withSpender bool) (*utxoRec, error) {
	const fixed = 8 + 4 + 1 + 1 + 1 + 4 + 2
	if len(v) < fixed {
		return nil, fmt.Errorf("%w: utxo record of %d bytes", ErrCorruptDB, len(v))
	}
	u := &utxoRec{
		Value:    btcutil.Amount(binary.BigEndian.Uint64(v)),
		Height:   int32(binary.BigEndian.Uint32(v[8:])),
		Coinbase: v[12]&1 != 0,
		Deriv: derivation{
			Type:   AddressType(v[13]),
			Branch: v[14],
			Index:  binary.BigEndian.Uint32(v[15:]),
		},
	}
	if v[12]&^1 != 0 {
		return nil, fmt.Errorf("%w: utxo flags %#x", ErrCorruptDB, v[12])
	}
	n := int(binary.BigEndian.Uint16(v[19:]))
	rest := v[fixed:]
	want := n
	if withSpender {
		want += 32
	}
	if len(rest) != want {
		return nil, fmt.Errorf("%w: utxo record length", ErrCorruptDB)
	}
	u.PkScript = append([]byte(nil), rest[:n]...)
	if withSpender {
		copy(u.Spender[:], rest[n:])
	}
	return u, nil
}

// txRec is a wallet transaction as stored.
type txRec struct {
	Height    int32 // unconfirmed if not in a block
	BlockHash chainhash.Hash
	BlockTime int64 // unix seconds, 0 when unconfirmed
	Received  int64 // unix seconds when first recorded
	Ours      bool  // created by this wallet: rebroadcast while unconfirmed
	Debit     btcutil.Amount
	Credit    btcutil.Amount
	// Fee is known when every input is ours; -1 otherwise.
	Fee   btcutil.Amount
	Label string
	Tx    *wire.MsgTx

	// LastSeen is when the backend last had it (mempool or chain, or it
	// accepted a broadcast), unix seconds; see checkUnmined.
	LastSeen int64

	// Failed: it can no longer confirm (a conflicting transaction, or
	// dropped by the network). Its effects on the wallet are undone; the
	// record stays for the history. FailedBy is the conflicting
	// transaction if known, or the failed parent of a descendant.
	Failed   bool
	FailedAt int64
	FailedBy chainhash.Hash
}

const (
	txRecVersion = 2

	txFlagOurs   = 1
	txFlagFailed = 2
)

// encode: version(1) height(4) block hash(32) block time(8) received(8)
// flags(1) debit(8) credit(8) fee(8) last seen(8) failed at(8) failed
// by(32) label length(2) label, then the transaction.
func (r *txRec) encode() ([]byte, error) {
	var buf bytes.Buffer
	var b [8]byte
	buf.WriteByte(txRecVersion)
	buf.Write(u32(uint32(r.Height)))
	buf.Write(r.BlockHash[:])
	binary.BigEndian.PutUint64(b[:], uint64(r.BlockTime))
	buf.Write(b[:])
	binary.BigEndian.PutUint64(b[:], uint64(r.Received))
	buf.Write(b[:])
	flags := byte(0)
	if r.Ours {
		flags |= txFlagOurs
	}
	if r.Failed {
		flags |= txFlagFailed
	}
	buf.WriteByte(flags)
	for _, a := range []int64{int64(r.Debit), int64(r.Credit), int64(r.Fee),
		r.LastSeen, r.FailedAt} {
		binary.BigEndian.PutUint64(b[:], uint64(a))
		buf.Write(b[:])
	}
	buf.Write(r.FailedBy[:])
	if len(r.Label) > 0xffff {
		return nil, fmt.Errorf("label too long (%d bytes)", len(r.Label))
	}
	binary.BigEndian.PutUint16(b[:2], uint16(len(r.Label)))
	buf.Write(b[:2])
	buf.WriteString(r.Label)
	if err := r.Tx.Serialize(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func decodeTx(v []byte) (*txRec, error) {
	const fixed = 1 + 4 + 32 + 8 + 8 + 1 + 5*8 + 32 + 2
	if len(v) < fixed {
		return nil, fmt.Errorf("%w: tx record of %d bytes", ErrCorruptDB, len(v))
	}
	if v[0] != txRecVersion {
		return nil, fmt.Errorf("%w: tx record version %d", ErrCorruptDB, v[0])
	}
	v = v[1:]
	r := &txRec{Height: int32(binary.BigEndian.Uint32(v))}
	copy(r.BlockHash[:], v[4:36])
	r.BlockTime = int64(binary.BigEndian.Uint64(v[36:]))
	r.Received = int64(binary.BigEndian.Uint64(v[44:]))
	flags := v[52]
	if flags&^(txFlagOurs|txFlagFailed) != 0 {
		return nil, fmt.Errorf("%w: tx flags %#x", ErrCorruptDB, flags)
	}
	r.Ours = flags&txFlagOurs != 0
	r.Failed = flags&txFlagFailed != 0
	r.Debit = btcutil.Amount(binary.BigEndian.Uint64(v[53:]))
	r.Credit = btcutil.Amount(binary.BigEndian.Uint64(v[61:]))
	r.Fee = btcutil.Amount(binary.BigEndian.Uint64(v[69:]))
	r.LastSeen = int64(binary.BigEndian.Uint64(v[77:]))
	r.FailedAt = int64(binary.BigEndian.Uint64(v[85:]))
	copy(r.FailedBy[:], v[93:125])
	n := int(binary.BigEndian.Uint16(v[125:]))
	return r, decodeTxTail(r, v[fixed-1:], n)
}

// decodeTxTail reads the label of n bytes and the transaction.
func decodeTxTail(r *txRec, rest []byte, n int) error {
	if len(rest) < n {
		return fmt.Errorf("%w: tx record label", ErrCorruptDB)
	}
	r.Label = string(rest[:n])
	r.Tx = new(wire.MsgTx)
	rd := bytes.NewReader(rest[n:])
	if err := r.Tx.Deserialize(rd); err != nil {
		return fmt.Errorf("%w: tx record: %v", ErrCorruptDB, err)
	}
	if rd.Len() != 0 {
		return fmt.Errorf("%w: tx record trailing bytes", ErrCorruptDB)
	}
	return nil
}

// decodeTxV1 reads a record of a version 1 database (no version byte, no
// failure or last-seen fields), for the migration.
func decodeTxV1(v []byte) (*txRec, error) {
	const fixed = 4 + 32 + 8 + 8 + 1 + 24 + 2
	if len(v) < fixed {
		return nil, fmt.Errorf("%w: tx record of %d bytes", ErrCorruptDB, len(v))
	}
	r := &txRec{Height: int32(binary.BigEndian.Uint32(v))}
	copy(r.BlockHash[:], v[4:36])
	r.BlockTime = int64(binary.BigEndian.Uint64(v[36:]))
	r.Received = int64(binary.BigEndian.Uint64(v[44:]))
	if v[52]&^1 != 0 {
		return nil, fmt.Errorf("%w: tx flags %#x", ErrCorruptDB, v[52])
	}
	r.Ours = v[52]&1 != 0
	r.Debit = btcutil.Amount(binary.BigEndian.Uint64(v[53:]))
	r.Credit = btcutil.Amount(binary.BigEndian.Uint64(v[61:]))
	r.Fee = btcutil.Amount(binary.BigEndian.Uint64(v[69:]))
	r.LastSeen = r.Received
	n := int(binary.BigEndian.Uint16(v[77:]))
	return r, decodeTxTail(r, v[fixed:], n)
}

// migrateV1 brings a version 1 database to version 2: tx records
// re-encoded, the unmined index built. One transaction: all or nothing.
func migrateV1(tx kvdb.RwTx) error {
	if err := createBuckets(tx); err != nil {
		return err
	}
	var recs []*txRec
	err := tx.ReadWriteBucket(bucketTxs).ForEach(func(_, v []byte) error {
		r, err := decodeTxV1(v)
		recs = append(recs, r)
		return err
	})
	if err != nil {
		return err
	}
	for _, r := range recs {
		if err := putTxRec(tx, r); err != nil {
			return err
		}
	}
	return tx.ReadWriteBucket(bucketMeta).Put(keyVersion, u32(dbVersion))
}

func getTxRec(tx kvdb.RTx, txid chainhash.Hash) (*txRec, error) {
	v := tx.ReadBucket(bucketTxs).Get(txid[:])
	if v == nil {
		return nil, nil
	}
	return decodeTx(v)
}

// putTxRec stores a record and keeps the unmined index in step.
func putTxRec(tx kvdb.RwTx, r *txRec) error {
	v, err := r.encode()
	if err != nil {
		return err
	}
	h := r.Tx.TxHash()
	if err := tx.ReadWriteBucket(bucketTxs).Put(h[:], v); err != nil {
		return err
	}
	if r.Height == unconfirmed && !r.Failed {
		return tx.ReadWriteBucket(bucketUnmined).Put(h[:], nil)
	}
	return tx.ReadWriteBucket(bucketUnmined).Delete(h[:])
}

// deleteTxRec removes a record and its index entry.
func deleteTxRec(tx kvdb.RwTx, txid chainhash.Hash) error {
	if err := tx.ReadWriteBucket(bucketUnmined).Delete(txid[:]); err != nil {
		return err
	}
	return tx.ReadWriteBucket(bucketTxs).Delete(txid[:])
}

// unminedTxs returns the records neither confirmed nor failed.
func unminedTxs(tx kvdb.RTx) ([]*txRec, error) {
	var out []*txRec
	err := tx.ReadBucket(bucketUnmined).ForEach(func(k, _ []byte) error {
		var txid chainhash.Hash
		if len(k) != len(txid) {
			return fmt.Errorf("%w: unmined key", ErrCorruptDB)
		}
		copy(txid[:], k)
		r, err := getTxRec(tx, txid)
		if err != nil {
			return err
		}
		if r == nil {
			return fmt.Errorf("%w: unmined %v has no record", ErrCorruptDB, txid)
		}
		out = append(out, r)
		return nil
	})
	return out, err
}

// lease is a lock on an output.
type lease struct {
	ID     LockID
	Expiry time.Time
}

func getLease(tx kvdb.RTx, op wire.OutPoint) (*lease, error) {
	v := tx.ReadBucket(bucketLeases).Get(outpointKey(op))
	if v == nil {
		return nil, nil
	}
	if len(v) != 40 {
		return nil, fmt.Errorf("%w: lease record", ErrCorruptDB)
	}
	l := &lease{Expiry: time.Unix(int64(binary.BigEndian.Uint64(v[32:])), 0)}
	copy(l.ID[:], v)
	return l, nil
}

func putLease(tx kvdb.RwTx, op wire.OutPoint, l lease) error {
	v := make([]byte, 40)
	copy(v, l.ID[:])
	binary.BigEndian.PutUint64(v[32:], uint64(l.Expiry.Unix()))
	return tx.ReadWriteBucket(bucketLeases).Put(outpointKey(op), v)
}

func encodeDeriv(d derivation) []byte {
	v := make([]byte, 6)
	v[0] = byte(d.Type)
	v[1] = d.Branch
	binary.BigEndian.PutUint32(v[2:], d.Index)
	return v
}

func decodeDeriv(v []byte) (derivation, error) {
	if len(v) != 6 {
		return derivation{}, fmt.Errorf("%w: script record", ErrCorruptDB)
	}
	return derivation{Type: AddressType(v[0]), Branch: v[1],
		Index: binary.BigEndian.Uint32(v[2:])}, nil
}
