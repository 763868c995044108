package routing

import (
	"log/slog"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwire"
	"lnd.xprv/sphinx"
)

// FuzzInterpretFailure feeds the failure interpretation what a peer
// controls: the failure message a hop of a three-hop route encrypts (its
// code, data and channel_update), and raw reasons no hop's key opens. It
// must never panic, always record the failure, and end the payment only
// when the recipient (or garbage from a one-hop route) says so.
func FuzzInterpretFailure(f *testing.F) {
	f.Add(uint8(1), sphinx.EncodeFailureMessage(&sphinx.FailTemporaryChannelFailure{}), false)
	f.Add(uint8(2), sphinx.EncodeFailureMessage(&sphinx.FailIncorrectOrUnknownPaymentDetails{HtlcMsat: 5}), false)
	f.Add(uint8(0), sphinx.EncodeFailureMessage(&sphinx.FailFeeInsufficient{HtlcMsat: 1,
		ChannelUpdate: make([]byte, 136)}), false)
	f.Add(uint8(0), []byte{0x10, 0x07, 0x00, 0x02, 0x01, 0x02}, false)
	f.Add(uint8(0), []byte("not an onion failure at all"), true)

	keys := make([]*btcec.PrivateKey, 3)
	for i := range keys {
		keys[i], _ = btcec.PrivKeyFromBytes([]byte{byte(i + 1), 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
			7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7})
	}
	session, _ := btcec.PrivKeyFromBytes([]byte{9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9,
		9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9})
	a := &channeldb.HTLCAttempt{AttemptID: 1, SessionKey: [32]byte(session.Key.Bytes())}
	path := make([]*btcec.PublicKey, len(keys))
	for i, k := range keys {
		path[i] = k.PubKey()
		a.Route.Hops = append(a.Route.Hops, channeldb.PaymentHop{
			PubKey: [33]byte(k.PubKey().SerializeCompressed()), ChannelID: lnwire.NewShortChanIDFromInt(uint64(i + 1)),
			AmtToForward: 1000, OutgoingTimeLock: 500})
	}
	a.Route.TotalAmount, a.Route.TotalTimeLock = 3000, 700
	secrets, err := sphinx.SharedSecrets(session, path)
	if err != nil {
		f.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)

	f.Fuzz(func(t *testing.T, hop uint8, msg []byte, raw bool) {
		reason := msg
		idx := int(hop) % len(keys)
		if !raw {
			var err error
			if reason, err = sphinx.NewFailureRaw(secrets[idx], msg, 0); err != nil {
				return // too long to encrypt: no hop could send it
			}
			for j := idx - 1; j >= 0; j-- {
				reason = sphinx.WrapFailure(secrets[j], reason)
			}
		}
		st := newRetryState()
		out := interpretFailure(a, &AttemptResult{Reason: reason}, st, nil, time.Unix(1, 0), log)
		if out.record == nil {
			t.Fatal("no failure recorded")
		}
		if out.terminal != nil && out.record.Reason == channeldb.HTLCFailMessage &&
			out.record.SourceIndex != uint32(len(keys)) {
			t.Fatalf("an intermediate hop's %x ended the payment", msg)
		}
		if !raw && out.record.Reason == channeldb.HTLCFailMessage && out.record.SourceIndex != uint32(idx+1) {
			t.Fatalf("failure from hop %d read as from index %d", idx, out.record.SourceIndex)
		}
	})
}
