// Package netparams names the Bitcoin networks xlnd runs on and gives each
// its chain parameters, its BIP 44 coin type, and the name lnd's API uses for
// it.
package netparams

import (
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

// Network is one Bitcoin network.
type Network struct {
	// Name is the --network value and the network name lnd reports in
	// GetInfo.chains and uses in data dir paths.
	Name string

	// Params are btcd's chain parameters.
	Params *chaincfg.Params

	// CoinType is the BIP 44 coin type: 0 on mainnet, 1 on every test
	// network.
	CoinType uint32
}

// Names lists the networks in the order the help text gives them.
var Names = []string{"mainnet", "testnet", "testnet4", "signet", "regtest", "simnet"}

// ByName returns the network called name (see Names).
func ByName(name string) (*Network, error) {
	switch strings.ToLower(name) {
	case "mainnet":
		return &Network{Name: "mainnet", Params: &chaincfg.MainNetParams, CoinType: 0}, nil
	case "testnet", "testnet3":
		return &Network{Name: "testnet", Params: &chaincfg.TestNet3Params, CoinType: 1}, nil
	case "testnet4":
		return &Network{Name: "testnet4", Params: testNet4Params(), CoinType: 1}, nil
	case "signet":
		return &Network{Name: "signet", Params: &chaincfg.SigNetParams, CoinType: 1}, nil
	case "regtest":
		return &Network{Name: "regtest", Params: &chaincfg.RegressionNetParams, CoinType: 1}, nil
	case "simnet":
		return &Network{Name: "simnet", Params: &chaincfg.SimNetParams, CoinType: 1}, nil
	}
	return nil, fmt.Errorf("unknown network %q (allowed: %s)", name,
		strings.Join(Names, ", "))
}

// testNet4Genesis is the hash of testnet4's genesis block (BIP 94).
var testNet4Genesis = chainhash.Hash{
	0x43, 0xf0, 0x8b, 0xda, 0xb0, 0x50, 0xe3, 0x5b,
	0x56, 0x7c, 0x86, 0x4b, 0x91, 0xf4, 0x7f, 0x50,
	0xae, 0x72, 0x5a, 0xe2, 0xde, 0x53, 0xbc, 0xfb,
	0xba, 0xf2, 0x84, 0xda, 0x00, 0x00, 0x00, 0x00,
}

// testNet4Params derives testnet4 (BIP 94) from testnet3, which it shares
// address encodings with; btcd v0.24 does not define it. A fresh copy each
// call: chain parameters are shared by pointer and must not be mutated.
func testNet4Params() *chaincfg.Params {
	p := chaincfg.TestNet3Params
	p.Name = "testnet4"
	p.Net = wire.BitcoinNet(0x283f161c)
	p.DefaultPort = "48333"
	p.DNSSeeds = nil
	p.Checkpoints = nil
	p.GenesisBlock = nil
	p.GenesisHash = &testNet4Genesis
	return &p
}
