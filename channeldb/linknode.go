package channeldb

import (
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwire"
)

// LinkNode is a peer we have (or had) channels with: kept so that the
// node reconnects to it after a restart.
type LinkNode struct {
	Network     wire.BitcoinNet
	IdentityPub *btcec.PublicKey
	// LastSeen is when we last had a connection, to the second.
	LastSeen time.Time
	// Addresses are TCP addresses (IPv4, IPv6) and Tor v3 onion
	// addresses (*lnwire.OnionAddr).
	Addresses []net.Addr
}

var linkNodeBucket = []byte("link-nodes")

const (
	linkNodeVersion = 1

	addrIPv4  = 1
	addrIPv6  = 2
	addrTorV3 = 4

	// torV3Len is a v3 onion service's name without ".onion".
	torV3Len = 56
	// maxAddrs bounds the address list of one node.
	maxAddrs = 64
)

// PutLinkNode stores n, replacing any record of the same pubkey.
func PutLinkNode(tx kvdb.RwTx, n *LinkNode) error {
	v, err := encodeLinkNode(n)
	if err != nil {
		return err
	}
	b, err := tx.CreateTopLevelBucket(linkNodeBucket)
	if err != nil {
		return err
	}
	return b.Put(n.IdentityPub.SerializeCompressed(), v)
}

// FetchLinkNode returns the link node of pub, or ErrLinkNodeNotFound.
func FetchLinkNode(tx kvdb.RTx, pub *btcec.PublicKey) (*LinkNode, error) {
	key := pub.SerializeCompressed()
	b := tx.ReadBucket(linkNodeBucket)
	if b == nil {
		return nil, ErrLinkNodeNotFound
	}
	v := b.Get(key)
	if v == nil {
		return nil, ErrLinkNodeNotFound
	}
	return DecodeLinkNode(key, v)
}

// ListLinkNodes returns every link node, by pubkey order.
func ListLinkNodes(tx kvdb.RTx) ([]*LinkNode, error) {
	var nodes []*LinkNode
	b := tx.ReadBucket(linkNodeBucket)
	if b == nil {
		return nil, nil
	}
	err := b.ForEach(func(k, v []byte) error {
		n, err := DecodeLinkNode(k, v)
		if err != nil {
			return err
		}
		nodes = append(nodes, n)
		return nil
	})
	return nodes, err
}

// DeleteLinkNode removes the link node of pub; removing an absent one is
// not an error.
func DeleteLinkNode(tx kvdb.RwTx, pub *btcec.PublicKey) error {
	b := tx.ReadWriteBucket(linkNodeBucket)
	if b == nil {
		return nil
	}
	return b.Delete(pub.SerializeCompressed())
}

func encodeLinkNode(n *LinkNode) ([]byte, error) {
	if n.IdentityPub == nil {
		return nil, fmt.Errorf("link node: no identity key")
	}
	if len(n.Addresses) > maxAddrs {
		return nil, fmt.Errorf("link node %x: %d addresses, at most %d",
			n.IdentityPub.SerializeCompressed(), len(n.Addresses), maxAddrs)
	}
	w := recWriter{b: make([]byte, 0, 16+len(n.Addresses)*20)}
	w.u8(linkNodeVersion)
	w.u32(uint32(n.Network))
	w.u64(uint64(n.LastSeen.Unix()))
	w.uvarint(uint64(len(n.Addresses)))
	for _, a := range n.Addresses {
		if err := encodeAddr(&w, a); err != nil {
			return nil, fmt.Errorf("link node %x: %w", n.IdentityPub.SerializeCompressed(), err)
		}
	}
	return w.b, nil
}

func encodeAddr(w *recWriter, a net.Addr) error {
	switch a := a.(type) {
	case *net.TCPAddr:
		if ip4 := a.IP.To4(); ip4 != nil {
			w.u8(addrIPv4)
			w.raw(ip4)
		} else if len(a.IP) == net.IPv6len {
			w.u8(addrIPv6)
			w.raw(a.IP)
		} else {
			return fmt.Errorf("address %v: bad IP", a)
		}
		return putPort(w, a.Port, a)
	case *lnwire.OnionAddr:
		name := strings.TrimSuffix(a.OnionService, ".onion")
		if len(name) != torV3Len || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz234567") != "" {
			return fmt.Errorf("address %v: not a Tor v3 onion address", a)
		}
		w.u8(addrTorV3)
		w.raw([]byte(name))
		return putPort(w, a.Port, a)
	}
	return fmt.Errorf("address %v: unsupported type %T", a, a)
}

func putPort(w *recWriter, port int, a net.Addr) error {
	if port < 0 || port > 65535 {
		return fmt.Errorf("address %v: bad port", a)
	}
	w.u16(uint16(port))
	return nil
}

// DecodeLinkNode decodes a link-node record stored under key (the
// compressed pubkey).
func DecodeLinkNode(key, v []byte) (*LinkNode, error) {
	name := fmt.Sprintf("%x", key)
	pub, err := btcec.ParsePubKey(key)
	if err != nil {
		return nil, NewRecordError("link node", name, fmt.Errorf("key: %w", err))
	}
	r := recReader{b: v}
	r.version(linkNodeVersion)
	n := &LinkNode{IdentityPub: pub}
	n.Network = wire.BitcoinNet(r.u32("network"))
	n.LastSeen = time.Unix(int64(r.u64("last seen")), 0)
	count := r.count(7, "addresses")
	if count > maxAddrs {
		r.fail(fmt.Errorf("%d addresses, at most %d", count, maxAddrs))
	}
	for i := 0; i < count && r.err == nil; i++ {
		if a := decodeAddr(&r); a != nil {
			n.Addresses = append(n.Addresses, a)
		}
	}
	if err := r.finish("link node", name); err != nil {
		return nil, err
	}
	return n, nil
}

func decodeAddr(r *recReader) net.Addr {
	switch t := r.u8("address type"); t {
	case addrIPv4:
		ip := net.IP(clone(r.take(4, "IPv4 address")))
		return &net.TCPAddr{IP: ip, Port: int(r.u16("port"))}
	case addrIPv6:
		ip := net.IP(clone(r.take(16, "IPv6 address")))
		return &net.TCPAddr{IP: ip, Port: int(r.u16("port"))}
	case addrTorV3:
		name := string(r.take(torV3Len, "onion address"))
		if r.err == nil && strings.Trim(name, "abcdefghijklmnopqrstuvwxyz234567") != "" {
			r.fail(fmt.Errorf("onion address %q: not base32", name))
			return nil
		}
		return &lnwire.OnionAddr{OnionService: name + ".onion", Port: int(r.u16("port"))}
	default:
		if r.err == nil {
			r.fail(fmt.Errorf("unknown address type %d", t))
		}
	}
	return nil
}
