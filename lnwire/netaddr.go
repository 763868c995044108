package lnwire

import (
	"bytes"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Address descriptor types of BOLT 7 node_announcement.
const (
	addrIPv4  = 1
	addrIPv6  = 2
	addrTorV2 = 3 // deprecated, 12 bytes of data
	addrTorV3 = 4
	addrDNS   = 5
)

// TorV3AddrLen is the length of a Tor v3 onion address descriptor's data
// without the port: ed25519 key, checksum, version.
const TorV3AddrLen = 35

var (
	// ErrBadAddress is returned when an address descriptor of a known
	// type is cut short, or an address cannot be encoded.
	ErrBadAddress = errors.New("lnwire: bad address descriptor")

	onionEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)
)

// OnionAddr is a Tor v3 onion service address.
type OnionAddr struct {
	// OnionService is the 56-character base32 name followed by ".onion".
	OnionService string
	Port         int
}

// Network returns "tcp".
func (a *OnionAddr) Network() string { return "tcp" }

// String returns "name.onion:port".
func (a *OnionAddr) String() string {
	return net.JoinHostPort(a.OnionService, strconv.Itoa(a.Port))
}

// DNSAddr is a DNS hostname address (type 5).
type DNSAddr struct {
	Hostname string
	Port     int
}

// Network returns "tcp".
func (a *DNSAddr) Network() string { return "tcp" }

// String returns "host:port".
func (a *DNSAddr) String() string {
	return net.JoinHostPort(a.Hostname, strconv.Itoa(a.Port))
}

// OpaqueAddrs holds address descriptor bytes this package does not turn
// into an address but keeps verbatim, so the enclosing (signed) message
// re-encodes unchanged: everything from the first descriptor of an unknown
// type to the end of the field (its length is unknown, so BOLT 7 says to stop
// there), a deprecated Tor v2 descriptor, or a descriptor whose content is
// unusable (a non-ASCII hostname, an IPv6 descriptor holding an IPv4-mapped
// address).
type OpaqueAddrs struct {
	Payload []byte
}

// Network returns "opaque".
func (a *OpaqueAddrs) Network() string { return "opaque" }

// String returns the payload in hex.
func (a *OpaqueAddrs) String() string { return fmt.Sprintf("opaque:%x", a.Payload) }

// decodeAddresses parses a node_announcement address field.
func decodeAddresses(b []byte) ([]net.Addr, error) {
	var addrs []net.Addr
	for len(b) > 0 {
		a, n, err := decodeAddress(b)
		if err != nil {
			return nil, err
		}
		addrs = append(addrs, a)
		b = b[n:]
	}
	return addrs, nil
}

// decodeAddress parses one descriptor at the front of b and returns it with
// the bytes it used. An unknown type swallows the rest of b.
func decodeAddress(b []byte) (net.Addr, int, error) {
	need := func(n int) error {
		if len(b) < 1+n {
			return fmt.Errorf("%w: type %d needs %d bytes, has %d",
				ErrBadAddress, b[0], n, len(b)-1)
		}
		return nil
	}
	port := func(off int) int {
		return int(binary.BigEndian.Uint16(b[off:]))
	}
	opaque := func(n int) (net.Addr, int, error) {
		return &OpaqueAddrs{Payload: b[:n:n]}, n, nil
	}
	switch b[0] {
	case addrIPv4:
		if err := need(6); err != nil {
			return nil, 0, err
		}
		ip := net.IP(append([]byte{}, b[1:5]...))
		return &net.TCPAddr{IP: ip, Port: port(5)}, 7, nil

	case addrIPv6:
		if err := need(18); err != nil {
			return nil, 0, err
		}
		ip := net.IP(append([]byte{}, b[1:17]...))
		if ip.To4() != nil {
			return opaque(19)
		}
		return &net.TCPAddr{IP: ip, Port: port(17)}, 19, nil

	case addrTorV2:
		if err := need(12); err != nil {
			return nil, 0, err
		}
		return opaque(13)

	case addrTorV3:
		if err := need(TorV3AddrLen + 2); err != nil {
			return nil, 0, err
		}
		name := strings.ToLower(onionEncoding.EncodeToString(
			b[1:1+TorV3AddrLen])) + ".onion"
		return &OnionAddr{OnionService: name, Port: port(1 + TorV3AddrLen)},
			TorV3AddrLen + 3, nil

	case addrDNS:
		if err := need(1); err != nil {
			return nil, 0, err
		}
		hl := int(b[1])
		if err := need(1 + hl + 2); err != nil {
			return nil, 0, err
		}
		host := b[2 : 2+hl]
		if !validHostname(host) {
			return opaque(hl + 4)
		}
		return &DNSAddr{Hostname: string(host), Port: port(2 + hl)},
			hl + 4, nil
	}
	return opaque(len(b))
}

// validHostname accepts a non-empty printable-ASCII name.
func validHostname(h []byte) bool {
	if len(h) == 0 {
		return false
	}
	for _, c := range h {
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

// encodeAddress appends one address descriptor.
func encodeAddress(w *bytes.Buffer, a net.Addr) error {
	putPort := func(p int) error {
		if p < 0 || p > 0xffff {
			return fmt.Errorf("%w: port %d", ErrBadAddress, p)
		}
		putU16(w, uint16(p))
		return nil
	}
	switch a := a.(type) {
	case *net.TCPAddr:
		if ip4 := a.IP.To4(); ip4 != nil {
			w.WriteByte(addrIPv4)
			w.Write(ip4)
		} else if len(a.IP) == net.IPv6len {
			w.WriteByte(addrIPv6)
			w.Write(a.IP)
		} else {
			return fmt.Errorf("%w: IP %v", ErrBadAddress, a.IP)
		}
		return putPort(a.Port)

	case *OnionAddr:
		name, ok := strings.CutSuffix(a.OnionService, ".onion")
		raw, err := onionEncoding.DecodeString(strings.ToUpper(name))
		if !ok || err != nil || len(raw) != TorV3AddrLen {
			return fmt.Errorf("%w: onion %q", ErrBadAddress, a.OnionService)
		}
		w.WriteByte(addrTorV3)
		w.Write(raw)
		return putPort(a.Port)

	case *DNSAddr:
		if len(a.Hostname) > 255 || !validHostname([]byte(a.Hostname)) {
			return fmt.Errorf("%w: hostname %q", ErrBadAddress, a.Hostname)
		}
		w.WriteByte(addrDNS)
		w.WriteByte(byte(len(a.Hostname)))
		w.WriteString(a.Hostname)
		return putPort(a.Port)

	case *OpaqueAddrs:
		w.Write(a.Payload)
		return nil
	}
	return fmt.Errorf("%w: unsupported address type %T", ErrBadAddress, a)
}

// encodeAddresses writes a node_announcement address field with its u16
// length.
func encodeAddresses(w *bytes.Buffer, addrs []net.Addr) error {
	var buf bytes.Buffer
	for _, a := range addrs {
		if err := encodeAddress(&buf, a); err != nil {
			return err
		}
	}
	return putVarBytes(w, buf.Bytes(), "addresses")
}
