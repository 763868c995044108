package channeldb

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/channeldb/kvdb"
)

// CommitOutput is an output of a revoked commitment: its index and value.
type CommitOutput struct {
	Index  uint32
	Amount btcutil.Amount
}

// RevokedHTLC is an HTLC output of a revoked commitment of the peer.
type RevokedHTLC struct {
	OutputIndex uint32
	// Incoming is true for an HTLC the peer offered us.
	Incoming    bool
	PaymentHash [32]byte
	// Amount is the output's value.
	Amount     btcutil.Amount
	CltvExpiry uint32
}

// RevocationLogEntry is what a justice transaction needs of one revoked
// commitment of the peer: which outputs to sweep, and enough of each
// HTLC to rebuild its script with the revocation key (derived from the
// stored secret). Not the transaction, not the signatures.
type RevocationLogEntry struct {
	// CommitNum is the peer's commitment number: the entry's key.
	CommitNum  uint64
	CommitTxID chainhash.Hash
	// OurOutput is to_remote on their commitment, nil if absent
	// (trimmed, or we had nothing).
	OurOutput *CommitOutput
	// TheirOutput is to_local on their commitment, nil if absent.
	TheirOutput *CommitOutput
	HTLCs       []RevokedHTLC
}

// ErrRevocationLogOrder is returned by AppendRevocationLog for a
// commitment number not above the channel's last entry.
var ErrRevocationLogOrder = errors.New("revocation log: commitment number not above the last one")

// revLogBucket: channel key -> nested bucket: commit number (8, BE) ->
// entry.
var revLogBucket = []byte("revocation-log")

const (
	revLogVersion = 1

	revHasOurs   = 1
	revHasTheirs = 2

	// maxRevokedHTLCs is the most HTLC outputs a commitment can carry
	// (483 each way).
	maxRevokedHTLCs = 966
	// minRevokedHTLC is an HTLC's smallest encoding: index, flags,
	// hash, amount, expiry.
	minRevokedHTLC = 1 + 1 + 32 + 1 + 4
)

// AppendRevocationLog stores the entry of a newly revoked commitment of
// the channel chanKey. Commitment numbers must grow.
func AppendRevocationLog(tx kvdb.RwTx, chanKey []byte, e *RevocationLogEntry) error {
	top, err := tx.CreateTopLevelBucket(revLogBucket)
	if err != nil {
		return err
	}
	b, err := top.CreateBucketIfNotExists(chanKey)
	if err != nil {
		return fmt.Errorf("revocation log %x: %w", chanKey, err)
	}
	if k, _ := b.ReadCursor().Last(); k != nil &&
		(len(k) != 8 || binary.BigEndian.Uint64(k) >= e.CommitNum) {
		return fmt.Errorf("%w: channel %x, appending %d after %x",
			ErrRevocationLogOrder, chanKey, e.CommitNum, k)
	}
	v, err := EncodeRevocationLogEntry(e)
	if err != nil {
		return fmt.Errorf("revocation log %x: %w", chanKey, err)
	}
	kvdb.AppendOnly(b)
	return b.Put(u64Key(e.CommitNum), v)
}

// FetchRevocationLog returns the entry of commitment commitNum of the
// channel chanKey, or ErrRevocationLogNotFound.
func FetchRevocationLog(tx kvdb.RTx, chanKey []byte, commitNum uint64) (*RevocationLogEntry, error) {
	b := revLog(tx, chanKey)
	if b == nil {
		return nil, fmt.Errorf("%w: channel %x", ErrRevocationLogNotFound, chanKey)
	}
	key := u64Key(commitNum)
	v := b.Get(key)
	if v == nil {
		return nil, fmt.Errorf("%w: channel %x, commitment %d",
			ErrRevocationLogNotFound, chanKey, commitNum)
	}
	return decodeRevLog(chanKey, key, v)
}

// ForEachRevocationLog calls f with the channel's entries in commitment
// order. An error from f stops the walk and is returned.
func ForEachRevocationLog(tx kvdb.RTx, chanKey []byte, f func(*RevocationLogEntry) error) error {
	b := revLog(tx, chanKey)
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		e, err := decodeRevLog(chanKey, k, v)
		if err != nil {
			return err
		}
		return f(e)
	})
}

// DeleteRevocationLog removes every entry of the channel; removing an
// absent log is not an error.
func DeleteRevocationLog(tx kvdb.RwTx, chanKey []byte) error {
	top := tx.ReadWriteBucket(revLogBucket)
	if top == nil || top.NestedReadBucket(chanKey) == nil {
		return nil
	}
	return top.DeleteNestedBucket(chanKey)
}

func revLog(tx kvdb.RTx, chanKey []byte) kvdb.RBucket {
	top := tx.ReadBucket(revLogBucket)
	if top == nil {
		return nil
	}
	return top.NestedReadBucket(chanKey)
}

func decodeRevLog(chanKey, key, v []byte) (*RevocationLogEntry, error) {
	if len(key) != 8 {
		return nil, NewRecordError("revocation log entry",
			fmt.Sprintf("channel %x key %x", chanKey, key), fmt.Errorf("key of %d bytes", len(key)))
	}
	num := binary.BigEndian.Uint64(key)
	e, err := DecodeRevocationLogEntry(v)
	if err != nil {
		return nil, NewRecordError("revocation log entry",
			fmt.Sprintf("channel %x commitment %d", chanKey, num), err)
	}
	e.CommitNum = num
	return e, nil
}

// EncodeRevocationLogEntry encodes e without its commitment number, which
// is its key. Indexes and amounts are varints: most of an entry is the
// txid and the payment hashes.
func EncodeRevocationLogEntry(e *RevocationLogEntry) ([]byte, error) {
	if len(e.HTLCs) > maxRevokedHTLCs {
		return nil, fmt.Errorf("commitment %d: %d HTLCs, at most %d",
			e.CommitNum, len(e.HTLCs), maxRevokedHTLCs)
	}
	w := recWriter{b: make([]byte, 0, 40+len(e.HTLCs)*48)}
	w.u8(revLogVersion)
	w.raw(e.CommitTxID[:])
	var flags uint8
	if e.OurOutput != nil {
		flags |= revHasOurs
	}
	if e.TheirOutput != nil {
		flags |= revHasTheirs
	}
	w.u8(flags)
	for _, o := range []*CommitOutput{e.OurOutput, e.TheirOutput} {
		if o != nil {
			w.uvarint(uint64(o.Index))
			w.uvarint(uint64(o.Amount))
		}
	}
	w.uvarint(uint64(len(e.HTLCs)))
	for _, h := range e.HTLCs {
		w.uvarint(uint64(h.OutputIndex))
		w.bool(h.Incoming)
		w.raw(h.PaymentHash[:])
		w.uvarint(uint64(h.Amount))
		w.u32(h.CltvExpiry)
	}
	return w.b, nil
}

// DecodeRevocationLogEntry decodes an entry; CommitNum is left zero (it
// is the key). The error does not name the entry: callers add that.
func DecodeRevocationLogEntry(v []byte) (*RevocationLogEntry, error) {
	r := recReader{b: v}
	r.version(revLogVersion)
	e := &RevocationLogEntry{CommitTxID: r.hash("commitment txid")}
	flags := r.u8("flags")
	if r.err == nil && flags&^(revHasOurs|revHasTheirs) != 0 {
		r.fail(fmt.Errorf("unknown flags %#x", flags))
	}
	if flags&revHasOurs != 0 {
		e.OurOutput = readCommitOutput(&r, "to_remote")
	}
	if flags&revHasTheirs != 0 {
		e.TheirOutput = readCommitOutput(&r, "to_local")
	}
	n := r.count(minRevokedHTLC, "HTLCs")
	if n > maxRevokedHTLCs {
		r.fail(fmt.Errorf("%d HTLCs, at most %d", n, maxRevokedHTLCs))
	}
	if n > 0 && r.err == nil {
		e.HTLCs = make([]RevokedHTLC, n)
	}
	for i := 0; i < n && r.err == nil; i++ {
		h := &e.HTLCs[i]
		h.OutputIndex = r.index("HTLC output index")
		h.Incoming = r.bool("HTLC direction")
		h.PaymentHash = r.bytes32("payment hash")
		h.Amount = r.varAmount("HTLC amount")
		h.CltvExpiry = r.u32("cltv expiry")
	}
	if err := r.done(); err != nil {
		return nil, err
	}
	return e, nil
}

func readCommitOutput(r *recReader, what string) *CommitOutput {
	return &CommitOutput{Index: r.index(what + " index"), Amount: r.varAmount(what + " amount")}
}

// index reads an output index, which fits in 32 bits.
func (r *recReader) index(what string) uint32 {
	v := r.uvarint(what)
	if v > 0xffffffff {
		r.fail(fmt.Errorf("%s %d exceeds 32 bits", what, v))
		return 0
	}
	return uint32(v)
}
