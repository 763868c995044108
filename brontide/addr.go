package brontide

import (
	"encoding/hex"
	"net"

	"github.com/btcsuite/btcd/btcec/v2"
)

// NetAddress is a Lightning node's network location: its identity key and
// where to reach it. It implements net.Addr.
type NetAddress struct {
	// IdentityKey is the node's static public key (node ID).
	IdentityKey *btcec.PublicKey

	// Address is where the node listens: TCP, or an onion address
	// reached through a SOCKS dialer.
	Address net.Addr
}

// Compile-time check.
var _ net.Addr = (*NetAddress)(nil)

// String returns the usual pubkeyhex@host:port form.
func (n *NetAddress) String() string {
	key := "<nil>"
	if n.IdentityKey != nil {
		key = hex.EncodeToString(n.IdentityKey.SerializeCompressed())
	}
	addr := "<nil>"
	if n.Address != nil {
		addr = n.Address.String()
	}
	return key + "@" + addr
}

// Network returns the network of the underlying address.
func (n *NetAddress) Network() string {
	if n.Address == nil {
		return ""
	}
	return n.Address.Network()
}
