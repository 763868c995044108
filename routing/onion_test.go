package routing

import (
	"bytes"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwire"
	"lnd.xprv/sphinx"
)

// TestOnionRebuiltFromStoredAttempt checks what dispatch relies on: the
// onion register builds with a fresh key is byte for byte the one a
// resumed attempt rebuilds from its stored session key, and the first hop
// reads its payload from it.
func TestOnionRebuiltFromStoredAttempt(t *testing.T) {
	hopKeys := make([]*btcec.PrivateKey, 2)
	for i := range hopKeys {
		var err error
		if hopKeys[i], err = btcec.NewPrivateKey(); err != nil {
			t.Fatal(err)
		}
	}
	key, err := btcec.NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	a := &channeldb.HTLCAttempt{SessionKey: [32]byte(key.Key.Bytes())}
	a.Route.TotalAmount, a.Route.TotalTimeLock = 2_000, 700
	for i, k := range hopKeys {
		a.Route.Hops = append(a.Route.Hops, channeldb.PaymentHop{
			PubKey:    [33]byte(k.PubKey().SerializeCompressed()),
			ChannelID: lnwire.NewShortChanIDFromInt(uint64(i + 1)), AmtToForward: 1_000,
			OutgoingTimeLock: 600,
			MPP:              &channeldb.MPPRecord{PaymentAddr: [32]byte{7}, TotalMsat: 1_000}})
	}
	hash := [32]byte{1, 2, 3}

	built, err := buildOnion(&a.Route, hash, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	rebuilt, err := buildOnion(&a.Route, hash, sessionKey(a), sphinx.NewHopTables())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(built[:], rebuilt[:]) {
		t.Fatal("onion rebuilt from the stored session key differs")
	}

	pkt, err := sphinx.DecodeOnionPacket(built[:])
	if err != nil {
		t.Fatal(err)
	}
	peeled, err := sphinx.NewRouter(sphinx.PrivKeyECDH{Key: hopKeys[0]}, nil).Peel(pkt, hash[:])
	if err != nil {
		t.Fatal(err)
	}
	p, err := sphinx.DecodeHopPayload(peeled.Payload)
	if err != nil {
		t.Fatal(err)
	}
	if p.ShortChannelID == nil || *p.ShortChannelID != a.Route.Hops[1].ChannelID.ToUint64() ||
		peeled.NextPacket == nil {
		t.Fatalf("first hop reads next channel %v", p.ShortChannelID)
	}
}
