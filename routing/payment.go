package routing

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwire"
	"lnd.xprv/sphinx"
)

// Payment defaults, lnd's (routerrpc).
const (
	// DefaultMaxParts is how many shards a payment may be split into
	// when the caller says nothing.
	DefaultMaxParts = 16

	// MinShardAmount is the smallest shard a split makes (lnd's 10,000
	// sat).
	MinShardAmount = lnwire.MilliSatoshi(10_000_000)
)

// ErrDuplicateAttempt is what the dispatcher's SendHTLC returns for an
// attempt id it already holds (in flight or with a stored result): the
// HTLC left before, and its result is to be waited for.
var ErrDuplicateAttempt = errors.New("routing: attempt already dispatched")

// ErrRouterStopped is returned by calls made while the router stops.
var ErrRouterStopped = errors.New("routing: payment router stopped")

// AttemptResult is the outcome of an HTLC this node sent: the switch's
// result, copied here so that routing does not import htlcswitch.
type AttemptResult struct {
	Settled  bool
	Preimage [32]byte
	// Reason is update_fail_htlc's reason, still onion-encrypted.
	Reason []byte
	// LocalFailure never went through the onion: our own node refused
	// the HTLC, or (FromFirstHop) the first hop sent
	// update_fail_malformed_htlc.
	LocalFailure sphinx.FailureMessage
	FromFirstHop bool
}

// Dispatcher is what the payment router needs of the switch.
type Dispatcher struct {
	// SendHTLC hands an HTLC to the link of firstHop. It returns
	// ErrDuplicateAttempt for an attempt it has seen.
	SendHTLC func(firstHop lnwire.ShortChannelID, attemptID uint64, htlc *lnwire.UpdateAddHTLC) error
	// GetAttemptResult waits for an attempt's result, also after a
	// restart.
	GetAttemptResult func(attemptID uint64) (<-chan AttemptResult, error)
	// CleanAttemptResults forgets the results of attempts not in keep.
	CleanAttemptResults func(keep map[uint64]struct{}) error
	// Bandwidth is what we can send now over our channel; ok false
	// when it has no active link.
	Bandwidth func(scid lnwire.ShortChannelID) (lnwire.MilliSatoshi, bool)
}

// PaymentRouterConfig is what a PaymentRouter is built from.
type PaymentRouterConfig struct {
	// DB holds the payments store.
	DB *channeldb.DB
	// Self is our node.
	Self Vertex
	// Graph is the channel graph cache, our own channels in it.
	Graph *Graph
	// PathFinding tunes the finder.
	PathFinding PathFindingConfig
	// MissionControl scores pairs and learns from outcomes; nil for
	// neither.
	MissionControl *MissionControl
	Dispatcher     Dispatcher
	// LocalChannels lists our open channels the graph may lack (not
	// announced, or not yet): each from Self to the peer, with its
	// capacity. Nil for none.
	LocalChannels func() []ExtraEdge
	// BestHeight is the chain tip's height, which routes' expiries
	// start from.
	BestHeight func() (uint32, error)
	// Clock gives the time; nil means time.Now.
	Clock func() time.Time
	// SessionKey gives each attempt's fresh onion key; nil means
	// one drawn from crypto/rand.
	SessionKey func() (*btcec.PrivateKey, error)
	Log        *slog.Logger
}

// PaymentRequest is a payment to make: to an invoice or a keysend.
type PaymentRequest struct {
	Target      Vertex
	Amount      lnwire.MilliSatoshi
	PaymentHash [32]byte
	// PaymentAddr is the invoice's payment_secret; without it the
	// payment is not split.
	PaymentAddr    *[32]byte
	FinalCLTVDelta uint16
	// RouteHints are the invoice's private channels.
	RouteHints []ExtraEdge
	// FeeLimit caps the fees of all shards together.
	FeeLimit  lnwire.MilliSatoshi
	CLTVLimit uint32
	// Timeout ends the search for routes (attempts in flight still
	// finish); zero means none.
	Timeout time.Duration
	// MaxParts bounds the shards (0 or 1: one); MaxShardAmt bounds
	// each (0: none).
	MaxParts         uint32
	MaxShardAmt      lnwire.MilliSatoshi
	OutgoingChannels []lnwire.ShortChannelID
	LastHop          *Vertex
	// DestCustomRecords go in the final hop's payload (the keysend
	// preimage among them).
	DestCustomRecords map[uint64][]byte
	// PayReq is the BOLT 11 invoice, stored with the payment.
	PayReq   string
	TimePref float64
}

func (r *PaymentRequest) validate() error {
	switch {
	case r.Amount == 0 || r.Amount > lnwire.MaxMilliSatoshi:
		return fmt.Errorf("%w: amount %v", ErrBadQuery, r.Amount)
	case r.MaxShardAmt != 0 && r.MaxShardAmt < r.Amount && (r.PaymentAddr == nil || r.MaxParts < 2):
		return fmt.Errorf("%w: a shard limit needs a payment address and max_parts above 1", ErrBadQuery)
	}
	for t := range r.DestCustomRecords {
		if t < sphinx.MinCustomRecordType {
			return fmt.Errorf("%w: custom record type %d below 65536", ErrBadQuery, t)
		}
	}
	return nil
}

// FinalHop is what an attempt's final payload carries besides amount and
// expiry.
type FinalHop struct {
	MPP           *channeldb.MPPRecord
	CustomRecords map[uint64][]byte
}

// dbRoute is rt as the payments store keeps it, with the final hop's
// records.
func dbRoute(rt *Route, final FinalHop) channeldb.PaymentRoute {
	out := channeldb.PaymentRoute{
		SourcePubKey:  rt.SourcePubKey,
		TotalAmount:   rt.TotalAmount,
		TotalTimeLock: rt.TotalTimeLock,
		Hops:          make([]channeldb.PaymentHop, len(rt.Hops)),
	}
	for i, h := range rt.Hops {
		out.Hops[i] = channeldb.PaymentHop{
			PubKey: h.PubKey, ChannelID: h.ChannelID,
			AmtToForward: h.AmtToForward, OutgoingTimeLock: h.OutgoingTimeLock,
		}
	}
	last := &out.Hops[len(out.Hops)-1]
	last.MPP = final.MPP
	last.CustomRecords = final.CustomRecords
	return out
}

// RouteFromDB is a stored route in the path finder's shape.
func RouteFromDB(r *channeldb.PaymentRoute) *Route {
	out := &Route{
		SourcePubKey:  r.SourcePubKey,
		TotalAmount:   r.TotalAmount,
		TotalTimeLock: r.TotalTimeLock,
		Hops:          make([]Hop, len(r.Hops)),
	}
	for i, h := range r.Hops {
		out.Hops[i] = Hop{PubKey: h.PubKey, ChannelID: h.ChannelID,
			AmtToForward: h.AmtToForward, OutgoingTimeLock: h.OutgoingTimeLock}
	}
	return out
}

// buildOnion builds the onion of an attempt over rt (BOLT 4): each
// forwarding hop gets the amount and expiry it sends on and the next
// channel; the final hop its amount and expiry with payment_data (secret
// and total), payment_metadata and custom records. The circuit that
// decrypts a failure is derived only when one comes back
// (decryptFailure): most attempts settle.
func buildOnion(rt *channeldb.PaymentRoute, hash [32]byte, sessionKey *btcec.PrivateKey,
	tables *sphinx.HopTables) (
	*[lnwire.OnionPacketSize]byte, error) {

	hops := make([]sphinx.Hop, len(rt.Hops))
	for i, h := range rt.Hops {
		pub, err := tables.ParsePubKey(h.PubKey)
		if err != nil {
			return nil, fmt.Errorf("hop %d key: %w", i, err)
		}
		p := sphinx.HopPayload{AmtToForward: uint64(h.AmtToForward), OutgoingCLTV: h.OutgoingTimeLock}
		if i+1 < len(rt.Hops) {
			scid := rt.Hops[i+1].ChannelID.ToUint64()
			p.ShortChannelID = &scid
		} else {
			if h.MPP != nil {
				p.PaymentData = &sphinx.PaymentData{PaymentSecret: h.MPP.PaymentAddr,
					TotalMsat: uint64(h.MPP.TotalMsat)}
			}
			p.CustomRecords = h.CustomRecords
		}
		payload, err := p.Encode()
		if err != nil {
			return nil, fmt.Errorf("hop %d payload: %w", i, err)
		}
		hops[i] = sphinx.Hop{PubKey: pub, Payload: payload}
	}
	pkt, err := tables.NewOnionPacket(hops, sessionKey, hash[:])
	if err != nil {
		return nil, err
	}
	var blob [lnwire.OnionPacketSize]byte
	if b := pkt.AppendTo(blob[:0]); len(b) != len(blob) {
		return nil, fmt.Errorf("onion of %d bytes", len(b))
	}
	return &blob, nil
}

// newSessionKey draws a fresh onion session key from crypto/rand, the
// router's default. btcec.NewPrivateKey (secp256k1 v4.0) draws through
// crypto/ecdsa's generic curve code, which also computes a public key
// with big.Int arithmetic, in variable time on the secret, that nothing
// here uses; that was a tenth of the payer's CPU per payment.
func newSessionKey() (*btcec.PrivateKey, error) {
	return sessionKeyFrom(rand.Reader)
}

// sessionKeyFrom reads 32 bytes from r as a scalar, reading again in the
// (negligible, for random bytes) case of zero or one not below the group
// order: uniform over the valid keys.
func sessionKeyFrom(r io.Reader) (*btcec.PrivateKey, error) {
	var b [32]byte
	defer clear(b[:])
	for {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("session key: %w", err)
		}
		var k btcec.ModNScalar
		if overflow := k.SetBytes(&b); overflow == 0 && !k.IsZero() {
			return btcec.PrivKeyFromScalar(&k), nil
		}
	}
}

// sessionKey is an attempt's stored session key as a private key. Unlike
// btcec.PrivKeyFromBytes it does not derive the public key, which nothing
// here needs: the onion derives its ephemeral key itself.
func sessionKey(a *channeldb.HTLCAttempt) *btcec.PrivateKey {
	var k btcec.ModNScalar
	k.SetBytes(&a.SessionKey)
	return btcec.PrivKeyFromScalar(&k)
}
