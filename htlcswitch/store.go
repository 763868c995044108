package htlcswitch

import (
	"encoding/binary"
	"errors"
	"fmt"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/sphinx"
)

// The switch keeps two records of its own in the channel database, in
// top-level buckets beside channeldb's (circuits, forwarding packages
// and the forwarding log are channeldb's):
//
//	htlcswitch-attempt-results/
//	    attempt id (8, BE) -> version(1) settled(1) preimage(32)
//	                          from first hop(1) reason(2+n)
//	                          local failure(2+n, BOLT 4 encoding)
//	htlcswitch-replay/
//	    sha256(shared secret) (32) -> cltv expiry(4) incoming circuit(16)
//
// A replay entry names the HTLC that first used the onion: the same
// HTLC processed again after a restart is not a replay.

var (
	resultBucket = []byte("htlcswitch-attempt-results")
	replayBucket = []byte("htlcswitch-replay")
)

const resultVersion = 1

// errCorruptResult is wrapped by a result record that does not decode.
var errCorruptResult = errors.New("htlcswitch: corrupt attempt result")

func u64Key(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func encodeResult(r *AttemptResult) []byte {
	b := []byte{resultVersion, 0}
	if r.Settled {
		b[1] = 1
	}
	b = append(b, r.Preimage[:]...)
	if r.FromFirstHop {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(r.Reason)))
	b = append(b, r.Reason...)
	var lf []byte
	if r.LocalFailure != nil {
		lf = sphinx.EncodeFailureMessage(r.LocalFailure)
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(lf)))
	return append(b, lf...)
}

func decodeResult(v []byte) (*AttemptResult, error) {
	bad := func(what string) (*AttemptResult, error) {
		return nil, fmt.Errorf("%w: %s", errCorruptResult, what)
	}
	if len(v) < 2+32+1+2 || v[0] != resultVersion {
		return bad("header")
	}
	r := &AttemptResult{Settled: v[1] == 1}
	copy(r.Preimage[:], v[2:34])
	r.FromFirstHop = v[34] == 1
	v = v[35:]
	take := func() ([]byte, bool) {
		if len(v) < 2 {
			return nil, false
		}
		n := int(binary.BigEndian.Uint16(v))
		if len(v) < 2+n {
			return nil, false
		}
		out := append([]byte(nil), v[2:2+n]...)
		v = v[2+n:]
		return out, true
	}
	reason, ok := take()
	if !ok {
		return bad("reason")
	}
	if len(reason) > 0 {
		r.Reason = reason
	}
	lf, ok := take()
	if !ok || len(v) != 0 {
		return bad("local failure")
	}
	if len(lf) > 0 {
		msg, err := sphinx.DecodeFailureMessage(lf)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errCorruptResult, err)
		}
		r.LocalFailure = msg
	}
	return r, nil
}

// putResult stores the result of an attempt.
func putResult(tx kvdb.RwTx, id uint64, r *AttemptResult) error {
	b, err := tx.CreateTopLevelBucket(resultBucket)
	if err != nil {
		return err
	}
	return b.Put(u64Key(id), encodeResult(r))
}

// fetchResult returns the stored result of an attempt, or nil.
func fetchResult(tx kvdb.RTx, id uint64) (*AttemptResult, error) {
	b := tx.ReadBucket(resultBucket)
	if b == nil {
		return nil, nil
	}
	v := b.Get(u64Key(id))
	if v == nil {
		return nil, nil
	}
	return decodeResult(v)
}

// replayEntry encodes a replay-log value.
func replayEntry(cltv uint32, in channeldb.CircuitKey) []byte {
	b := binary.BigEndian.AppendUint32(nil, cltv)
	b = binary.BigEndian.AppendUint64(b, in.ChanID.ToUint64())
	return binary.BigEndian.AppendUint64(b, in.HtlcID)
}

// replayCheck records the onions of a batch of HTLCs, in the caller's
// transaction, and reports for each whether it is a replay: an onion
// already recorded for another HTLC.
func replayCheck(tx kvdb.RwTx, hashes []sphinx.Hash256, cltvs []uint32,
	keys []channeldb.CircuitKey) ([]bool, error) {

	b, err := tx.CreateTopLevelBucket(replayBucket)
	if err != nil {
		return nil, err
	}
	out := make([]bool, len(hashes))
	for i, h := range hashes {
		v := replayEntry(cltvs[i], keys[i])
		if old := b.Get(h[:]); old != nil {
			out[i] = len(old) != len(v) || string(old[4:]) != string(v[4:])
			continue
		}
		if err := b.Put(h[:], v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// pruneReplays forgets the onions of HTLCs that expired below height:
// a replay of one could not be accepted any more.
func pruneReplays(tx kvdb.RwTx, height uint32) (int, error) {
	b := tx.ReadWriteBucket(replayBucket)
	if b == nil {
		return 0, nil
	}
	var old [][]byte
	err := b.ForEach(func(k, v []byte) error {
		if len(v) >= 4 && binary.BigEndian.Uint32(v) < height {
			old = append(old, append([]byte(nil), k...))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(old), nil
}
