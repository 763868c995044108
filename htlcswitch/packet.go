package htlcswitch

import (
	"errors"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwire"
	"lnd.xprv/sphinx"
)

// localSource is the short channel id under which the circuits of HTLCs
// we originate are keyed, with the attempt id as HTLC id (no channel has
// the zero id).
var localSource = lnwire.ShortChannelID{}

// pkgRef names one update of a forwarding package.
type pkgRef struct {
	source lnwire.ShortChannelID
	height uint64
	index  uint16
	settle bool // among the settle/fails, else among the adds
}

// ackPkg sets ref's bit in its package, deleting the package once every
// bit is set. A missing package was completed earlier.
func ackPkg(tx kvdb.RwTx, ref pkgRef) error {
	return ackPkgs(tx, []pkgRef{ref})
}

// pkgKey names a forwarding package.
type pkgKey struct {
	source lnwire.ShortChannelID
	height uint64
}

// ackPkgs sets the bits of refs, reading and writing each package once
// (a round acknowledges many entries of one package).
func ackPkgs(tx kvdb.RwTx, refs []pkgRef) error {
	if len(refs) == 0 {
		return nil
	}
	byPkg := map[pkgKey][]pkgRef{}
	var order []pkgKey
	for _, r := range refs {
		k := pkgKey{r.source, r.height}
		if _, ok := byPkg[k]; !ok {
			order = append(order, k)
		}
		byPkg[k] = append(byPkg[k], r)
	}
	for _, k := range order {
		var adds, settleFails []uint16
		for _, r := range byPkg[k] {
			if r.settle {
				settleFails = append(settleFails, r.index)
			} else {
				adds = append(adds, r.index)
			}
		}
		err := channeldb.AckFwdPkg(tx, k.source, k.height, adds, settleFails)
		if err != nil && !errors.Is(err, channeldb.ErrFwdPkgNotFound) {
			return err
		}
	}
	return nil
}

// addPacket is an HTLC for a link to offer: forwarded from another
// channel, or originated here (in.ChanID == localSource).
type addPacket struct {
	in  channeldb.CircuitKey
	add *lnwire.UpdateAddHTLC

	// Of the incoming HTLC (forwards only): its amount, its onion's
	// shared secret (to encrypt a failure), and its package entry,
	// acknowledged when the circuit is written.
	inAmount lnwire.MilliSatoshi
	inExpiry uint32
	secret   sphinx.Hash256
	ack      *pkgRef

	// outgoing is set by the link that offered it.
	outgoing *channeldb.CircuitKey
}

func (p *addPacket) local() bool { return p.in.ChanID == localSource }

// removal is what a link must do to one of the peer's HTLCs it holds:
// settle it with a preimage or fail it with an encrypted reason
// (or, malformed, with update_fail_malformed_htlc). acks and done are
// written in the same transaction as the commitment that includes the
// removal.
type removal struct {
	htlcID    uint64
	settle    bool
	preimage  [32]byte
	reason    []byte
	malformed *lnwire.UpdateFailMalformedHTLC
	acks      []pkgRef // package entries the removal completes
	done      []func(kvdb.RwTx) error
	after     []func()
}
