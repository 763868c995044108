package channeldb

import (
	"crypto/sha256"
	"fmt"

	"lnd.xprv/channeldb/kvdb"
)

// preimageBucket: payment hash (32) -> preimage (32). It holds the
// preimages the switch learnt downstream (a forwarded HTLC settled off
// chain, or an HTLC we offered claimed on chain), for the contract court
// to claim the incoming HTLC on chain and for the switch to settle it
// after a restart. Entries are kept: an older commitment of the peer
// can still carry the incoming HTLC after it was settled off chain.
var preimageBucket = []byte("preimages")

// PutPreimages stores preimages under their payment hashes; storing one
// again is not an error.
func PutPreimages(tx kvdb.RwTx, preimages [][32]byte) error {
	if len(preimages) == 0 {
		return nil
	}
	b, err := tx.CreateTopLevelBucket(preimageBucket)
	if err != nil {
		return err
	}
	for _, p := range preimages {
		h := sha256.Sum256(p[:])
		if err := b.Put(h[:], p[:]); err != nil {
			return err
		}
	}
	return nil
}

// FetchPreimage returns the stored preimage of hash, if any. A stored
// value that is not hash's preimage is a corrupt record.
func FetchPreimage(tx kvdb.RTx, hash [32]byte) ([32]byte, bool, error) {
	var p [32]byte
	b := tx.ReadBucket(preimageBucket)
	if b == nil {
		return p, false, nil
	}
	v := b.Get(hash[:])
	if v == nil {
		return p, false, nil
	}
	if len(v) != 32 || sha256.Sum256(v) != hash {
		return p, false, NewRecordError("preimage", fmt.Sprintf("%x", hash),
			fmt.Errorf("value of %d bytes is not the preimage", len(v)))
	}
	copy(p[:], v)
	return p, true, nil
}
