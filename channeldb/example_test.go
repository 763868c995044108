package channeldb_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
)

// Close a channel: its summary and the peer's link node go in one
// transaction, durable when Update returns.
func Example() {
	dir, err := os.MkdirTemp("", "channeldb-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	db, err := channeldb.Open(filepath.Join(dir, "channel.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	priv, _ := btcec.NewPrivateKey()
	peer := priv.PubKey()
	point := wire.OutPoint{Hash: chainhash.Hash{1}, Index: 0}
	err = db.Update(func(tx kvdb.RwTx) error {
		if err := channeldb.PutLinkNode(tx, &channeldb.LinkNode{
			Network: wire.MainNet, IdentityPub: peer}); err != nil {
			return err
		}
		return channeldb.PutClosedChannel(tx, &channeldb.ChannelCloseSummary{
			ChanPoint: point, RemotePub: peer, Capacity: 1_000_000,
			SettledBalance: 600_000, CloseType: channeldb.CooperativeClose,
			IsPending: true,
		})
	})
	if err != nil {
		log.Fatal(err)
	}

	err = db.View(func(tx kvdb.RTx) error {
		s, err := channeldb.FetchClosedChannel(tx, point)
		if err != nil {
			return err
		}
		fmt.Println(s.CloseType, s.SettledBalance, s.IsPending)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output: cooperative 0.00600000 BTC true
}
