package sphinx

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
)

// Attribution data (BOLT 4 "Returning Errors", option_attribution_data):
// 20 hold times of 4 bytes, then 210 HMACs truncated to 4 bytes. Each hop
// adds one HMAC for each position it could hold relative to the node that
// created the data; node x (counted from the current node) keeps 20-x of
// them, so the HMAC block of node x starts at blockStart(x) and its entry j
// is for position 19-x-j.
const (
	// MaxAttributionHops is the longest route attribution data covers.
	MaxAttributionHops = 20

	holdTimeSize      = 4
	truncatedHMACSize = 4
	holdTimesSize     = MaxAttributionHops * holdTimeSize
	numAttrHMACs      = MaxAttributionHops * (MaxAttributionHops + 1) / 2

	// AttributionDataSize is the size of attribution_data.
	AttributionDataSize = holdTimesSize + numAttrHMACs*truncatedHMACSize
)

// ErrAttributionSize is returned for attribution data that is not
// AttributionDataSize bytes.
var ErrAttributionSize = errors.New("sphinx: attribution data must be 920 bytes")

// blockStart returns the index (in HMACs) of node x's block.
func blockStart(x int) int {
	return x*MaxAttributionHops - x*(x-1)/2
}

// hmacAt returns the slice of HMAC (node x, entry j) in plaintext data d.
func hmacAt(d []byte, x, j int) []byte {
	off := holdTimesSize + (blockStart(x)+j)*truncatedHMACSize
	return d[off : off+truncatedHMACSize]
}

// attributionHMAC computes the truncated HMAC of node 0 for position y in
// plaintext attribution data d (whose hold times and downstream blocks are
// already in place), over the return packet pkt as this node received it
// (empty for a fulfill). mac is HMAC-SHA256 keyed with the hop's um key; it
// is reset here.
func attributionHMAC(mac hash.Hash, d []byte, pkt []byte, y int) [truncatedHMACSize]byte {
	mac.Reset()
	mac.Write(pkt)
	mac.Write(d[:(y+1)*holdTimeSize])
	for k := 1; k <= y; k++ {
		// Node k's HMAC for position y-k sits at entry 19-y of its block.
		mac.Write(hmacAt(d, k, MaxAttributionHops-1-y))
	}
	var sum [sha256.Size]byte
	var out [truncatedHMACSize]byte
	copy(out[:], mac.Sum(sum[:0]))
	return out
}

// addAttribution returns this node's attribution data: prev (the data
// received from downstream, nil for none) shifted by one hop, this node's
// hold time and HMACs added, then obfuscated with the ammagext key. pkt is
// the return packet before this node's obfuscation (the plaintext packet at
// the failing node; nil for a fulfill).
func addAttribution(ss Hash256, prev []byte, pkt []byte, holdTime uint32) ([]byte, error) {
	if prev == nil {
		prev = make([]byte, AttributionDataSize)
	}
	if len(prev) != AttributionDataSize {
		return nil, fmt.Errorf("%w: got %d", ErrAttributionSize, len(prev))
	}
	d := make([]byte, AttributionDataSize)
	binary.BigEndian.PutUint32(d, holdTime)
	copy(d[holdTimeSize:holdTimesSize], prev[:holdTimesSize-holdTimeSize])
	// Old block x becomes block x+1, dropping its first entry (a position
	// 20 or more hops away now); the old last block falls off.
	for x := 0; x < MaxAttributionHops-1; x++ {
		for j := 1; j < MaxAttributionHops-x; j++ {
			copy(hmacAt(d, x+1, j-1), hmacAt(prev, x, j))
		}
	}
	um := generateKey(keyUm, ss[:])
	h := hmac.New(sha256.New, um[:])
	for j := 0; j < MaxAttributionHops; j++ {
		mac := attributionHMAC(h, d, pkt, MaxAttributionHops-1-j)
		copy(hmacAt(d, 0, j), mac[:])
	}
	xorStream(generateKey(keyAmmagExt, ss[:]), d)
	return d, nil
}

// unwrapAttribution removes hop's layer from attribution data attr as the
// origin received it, checks the hop's HMACs for the positions 0..remaining-1
// it may hold, and returns its hold time and the data as the next hop sent
// it (with the bytes pruned on the way filled with zeros). pkt is the return
// packet after removing the same hop's ammag layer.
func unwrapAttribution(ss Hash256, attr []byte, pkt []byte, remaining int) (uint32, []byte, bool) {
	d := append([]byte(nil), attr...)
	xorStream(generateKey(keyAmmagExt, ss[:]), d)
	um := generateKey(keyUm, ss[:])
	h := hmac.New(sha256.New, um[:])
	ok := true
	for y := 0; y < remaining && y < MaxAttributionHops; y++ {
		mac := attributionHMAC(h, d, pkt, y)
		if !hmac.Equal(mac[:], hmacAt(d, 0, MaxAttributionHops-1-y)) {
			ok = false
		}
	}
	if !ok {
		return 0, nil, false
	}
	holdTime := binary.BigEndian.Uint32(d)
	next := make([]byte, AttributionDataSize)
	copy(next, d[holdTimeSize:holdTimesSize])
	for x := 0; x < MaxAttributionHops-1; x++ {
		for j := 1; j < MaxAttributionHops-x; j++ {
			copy(hmacAt(next, x, j), hmacAt(d, x+1, j-1))
		}
	}
	return holdTime, next, true
}

// NewFailureWithAttribution is NewFailure for a node that signals
// option_attribution_data: it also returns the attribution_data for
// update_fail_htlc, carrying holdTime (in units of 100 ms).
func NewFailureWithAttribution(ss Hash256, msg FailureMessage, holdTime uint32) (reason, attribution []byte, err error) {
	return NewFailureRawWithAttribution(ss, EncodeFailureMessage(msg), 0, holdTime)
}

// NewFailureRawWithAttribution is NewFailureWithAttribution for an encoded
// failuremsg padded to padTo (0 picks the default).
func NewFailureRawWithAttribution(ss Hash256, failureMsg []byte, padTo int, holdTime uint32) (reason, attribution []byte, err error) {
	if padTo == 0 {
		padTo = padSizeFor(len(failureMsg))
	}
	pkt, err := buildFailurePacket(ss, failureMsg, padTo)
	if err != nil {
		return nil, nil, err
	}
	attribution, err = addAttribution(ss, nil, pkt, holdTime)
	if err != nil {
		return nil, nil, err
	}
	xorStream(generateKey(keyAmmag, ss[:]), pkt)
	return pkt, attribution, nil
}

// WrapFailureWithAttribution is WrapFailure for a node that signals
// option_attribution_data. attribution is what came from downstream (nil if
// none: a fresh block is started) and holdTime this node's hold time in
// units of 100 ms.
func WrapFailureWithAttribution(ss Hash256, reason, attribution []byte, holdTime uint32) (newReason, newAttribution []byte, err error) {
	if attribution != nil && len(attribution) != AttributionDataSize {
		// A malformed block from downstream is replaced, as if absent.
		attribution = nil
	}
	newAttribution, err = addAttribution(ss, attribution, reason, holdTime)
	if err != nil {
		return nil, nil, err
	}
	return WrapFailure(ss, reason), newAttribution, nil
}

// AddFulfillAttribution returns the attribution_data for an
// update_fulfill_htlc: attribution is what came with the downstream fulfill
// (nil at the final node or if absent), holdTime this node's hold time.
func AddFulfillAttribution(ss Hash256, attribution []byte, holdTime uint32) ([]byte, error) {
	if attribution != nil && len(attribution) != AttributionDataSize {
		attribution = nil
	}
	return addAttribution(ss, attribution, nil, holdTime)
}

// FulfillHoldTimes reads the hold times from the attribution_data of a
// fulfilled payment, hop by hop, stopping at the first hop whose HMACs do
// not verify. It returns the hold times of the verified hops in route order.
func (c *Circuit) FulfillHoldTimes(attribution []byte) ([]uint32, error) {
	if len(attribution) != AttributionDataSize {
		return nil, fmt.Errorf("%w: got %d", ErrAttributionSize, len(attribution))
	}
	n := len(c.SharedSecrets)
	var out []uint32
	attr := attribution
	for i := 0; i < n; i++ {
		ht, next, ok := unwrapAttribution(c.SharedSecrets[i], attr, nil, n-i)
		if !ok {
			break
		}
		out = append(out, ht)
		attr = next
	}
	return out, nil
}
