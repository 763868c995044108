package contractcourt

import (
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwallet"
)

// SpendKind says what spent a funding output.
type SpendKind uint8

// The kinds of funding spends.
const (
	// SpendUnknown is a spend that matches no state we know: a
	// commitment from a future state (we lost data) or a malformed one.
	SpendUnknown SpendKind = iota

	// SpendCooperative is a mutual close: a transaction that does not
	// carry an obscured commitment number.
	SpendCooperative

	// SpendLocal is our current commitment.
	SpendLocal

	// SpendRemote is the peer's current commitment.
	SpendRemote

	// SpendRemotePending is the peer's next commitment, which we signed
	// and they have not revoked the previous one for.
	SpendRemotePending

	// SpendBreach is a commitment the peer revoked.
	SpendBreach
)

func (k SpendKind) String() string {
	switch k {
	case SpendCooperative:
		return "cooperative close"
	case SpendLocal:
		return "local commitment"
	case SpendRemote:
		return "remote commitment"
	case SpendRemotePending:
		return "remote pending commitment"
	case SpendBreach:
		return "breach"
	}
	return "unknown spend"
}

// contractKind maps a spend to the record kind it creates.
func (k SpendKind) contractKind() channeldb.ContractKind {
	switch k {
	case SpendLocal:
		return channeldb.ContractLocalCommit
	case SpendRemote:
		return channeldb.ContractRemoteCommit
	case SpendRemotePending:
		return channeldb.ContractRemotePending
	case SpendBreach:
		return channeldb.ContractBreach
	}
	return 0
}

// Classified is what Classify found.
type Classified struct {
	Kind SpendKind

	// CommitNum is the commitment number the spend carries (commitment
	// kinds only).
	CommitNum uint64

	// Revoked is the revocation-log entry of a breach.
	Revoked *channeldb.RevocationLogEntry
}

// RevokedLookup returns the revocation-log entry of the peer's
// commitment n, or an error wrapping channeldb.ErrRevocationLogNotFound.
type RevokedLookup func(n uint64) (*channeldb.RevocationLogEntry, error)

// Classify tells what tx, which spends st's funding output, is. The
// commitment number is read from the obscured locktime and sequence; the
// transaction id then says whose commitment it is, so that our
// commitment and the peer's of the same number are told apart.
func Classify(st *channeldb.OpenChannel, tx *wire.MsgTx,
	revoked RevokedLookup) (*Classified, error) {

	p := lnwallet.ParamsOf(st)
	n, ok := lnwallet.CommitNumberFromTx(tx, p.ObscuringFactor())
	if !ok {
		return &Classified{Kind: SpendCooperative}, nil
	}
	c := &Classified{CommitNum: n}
	txid := tx.TxHash()
	switch {
	case txid == st.LocalCommit.TxID:
		c.Kind = SpendLocal
		return c, nil
	case txid == st.RemoteCommit.TxID:
		c.Kind = SpendRemote
		return c, nil
	case st.PendingRemote != nil && txid == st.PendingRemote.Commitment.TxID:
		c.Kind = SpendRemotePending
		return c, nil
	}
	if n >= st.RemoteCommit.Number {
		// Not a state we signed, or a state from our future.
		return c, nil
	}
	e, err := revoked(n)
	if errors.Is(err, channeldb.ErrRevocationLogNotFound) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("revocation log %d: %w", n, err)
	}
	if e.CommitTxID != txid {
		return c, nil
	}
	c.Kind, c.Revoked = SpendBreach, e
	return c, nil
}
