package lnwallet

import (
	"crypto/sha256"
	"encoding/binary"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"

	"lnd.xprv/lnwire"
)

// FuzzPeerMessages feeds a channel messages a malicious peer could send:
// every field drawn from the input, including out-of-range ids, amounts
// and expiries, wrong preimages, garbage signatures and secrets, and
// channel_reestablish with arbitrary numbers. The channel must never
// panic, must answer with errors, and must keep its state consistent
// (balances and HTLCs adding up to the capacity).
func FuzzPeerMessages(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
		17, 18, 19, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 20*64 {
			return
		}
		alice, bob := newNodePair(t, pairSpec{
			chanType: ChannelTypeAnchors, capacity: 1_000_000,
			pushMsat: 300_000_000, feeRate: 2500, seed: 14})
		// Some state: an HTLC each way, locked in.
		for i, n := range []*testNode{alice, bob} {
			add, err := n.ch.AddHTLC(addMsg(5_000_000, uint64(i)))
			if err != nil {
				t.Fatal(err)
			}
			[]*testNode{bob, alice}[i].exchange(t, add)
		}
		round(t, alice, bob)
		raa, _ := bob.exchange(t, alice.sign(t))
		alice.exchange(t, raa...)
		if len(removable(bob.ch)) != 1 || len(removable(alice.ch)) != 1 {
			t.Fatal("set-up did not lock the HTLCs in")
		}
		ch := bob.ch
		for i := 0; i+20 <= len(data); i += 20 {
			msg := peerMessage(ch.ChannelID(), data[i:i+20])
			_, _, err := bob.receive(msg)
			if err != nil && IsFatal(err) {
				break
			}
			if err != nil {
				// A warning closes the connection.
				if _, rerr := ch.ChannelReestablish(); rerr != nil {
					t.Fatalf("reestablish after warning: %v", rerr)
				}
			}
			for _, c := range commitsOf(ch) {
				sum := c.LocalBalanceMsat + c.RemoteBalanceMsat
				for _, h := range c.HTLCs {
					sum += h.AmountMsat
				}
				if sum != 1_000_000_000 {
					t.Fatalf("commitment %d holds %d msat",
						c.Number, sum)
				}
			}
		}
	})
}

// peerMessage builds a message from 20 input bytes: a kind and fields.
func peerMessage(chanID lnwire.ChannelID, b []byte) lnwire.Message {
	u64 := func(i int) uint64 { return binary.BigEndian.Uint64(b[i:]) }
	small := uint64(b[1] % 4)
	hash := sha256.Sum256(b)
	switch b[0] % 8 {
	case 0:
		return &lnwire.UpdateAddHTLC{ChanID: chanID, ID: small,
			Amount: lnwire.MilliSatoshi(u64(2) >> (b[10] % 64)),
			Expiry: binary.BigEndian.Uint32(b[11:]), PaymentHash: hash}
	case 1:
		m := &lnwire.UpdateFulfillHTLC{ChanID: chanID, ID: small}
		if b[2]%2 == 0 {
			m.PaymentPreimage, _ = htlcPreimage(uint64(b[3] % 4))
		} else {
			m.PaymentPreimage = hash
		}
		return m
	case 2:
		return &lnwire.UpdateFailHTLC{ChanID: chanID, ID: small,
			Reason: b[2:]}
	case 3:
		return &lnwire.UpdateFailMalformedHTLC{ChanID: chanID, ID: small,
			FailureCode: binary.BigEndian.Uint16(b[2:])}
	case 4:
		return &lnwire.UpdateFee{ChanID: chanID,
			FeePerKw: binary.BigEndian.Uint32(b[2:])}
	case 5:
		m := &lnwire.CommitSig{ChanID: chanID}
		copy(m.CommitSig[:], hash[:])
		copy(m.CommitSig[32:], hash[:])
		for i := 0; i < int(small); i++ {
			m.HtlcSigs = append(m.HtlcSigs, m.CommitSig)
		}
		return m
	case 6:
		_, pub := btcec.PrivKeyFromBytes(hash[:])
		return &lnwire.RevokeAndAck{ChanID: chanID, Revocation: hash,
			NextRevocationKey: pub}
	default:
		_, pub := btcec.PrivKeyFromBytes(hash[:])
		return &lnwire.ChannelReestablish{ChanID: chanID,
			NextCommitmentNumber:        u64(2) % 8,
			NextRevocationNumber:        u64(10) % 8,
			YourLastPerCommitmentSecret: hash,
			MyCurrentPerCommitmentPoint: pub}
	}
}
