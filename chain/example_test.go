package chain_test

import (
	"context"
	"fmt"
	"log"

	"lnd.xprv/chain"
	"lnd.xprv/internal/regtest"
)

// Follow a regtest btcd's chain: start btcd, connect a backend, mine a
// block and see it arrive as an epoch.
func ExampleNewBtcdBackend() {
	node, err := regtest.Start(regtest.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer node.Close()

	backend, err := chain.NewBtcdBackend(chain.BtcdConfig{
		Host:        node.RPCHost(),
		User:        node.RPCUser(),
		Pass:        node.RPCPass(),
		Cert:        node.RPCCert(),
		ChainParams: regtest.Params,
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := backend.Start(); err != nil {
		log.Fatal(err)
	}
	defer backend.Stop()

	epochs, err := backend.RegisterBlockEpochs()
	if err != nil {
		log.Fatal(err)
	}
	defer epochs.Cancel()

	_, start, err := backend.BestBlock(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	mined, err := node.Generate(1)
	if err != nil {
		log.Fatal(err)
	}
	ev := <-epochs.Events
	fmt.Println(ev.Height == start+1, ev.Hash == mined[0], ev.Disconnected)

	rate, err := backend.EstimateFeePerKW(context.Background(), 6)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("fee rate on a fresh regtest:", rate)
	// Prints (not run by go test, which must not start processes under
	// -short; TestEpochsOnMine and TestFeeEstimate check the same):
	//   true true false
	//   fee rate on a fresh regtest: 6250 sat/kw
}
