package htlcswitch

import (
	"context"
	"encoding/binary"
	"testing"

	"lnd.xprv/lnwire"
)

// fuzzFrames encodes messages as the fuzz input: each a 2-byte length
// and the message (type and payload).
func fuzzFrames(t testing.TB, msgs ...lnwire.Message) []byte {
	var out []byte
	for _, m := range msgs {
		b, err := lnwire.Serialize(m)
		mustOK(t, err)
		out = binary.BigEndian.AppendUint16(out, uint16(len(b)))
		out = append(out, b...)
	}
	return out
}

// peerRound is what bob sends to offer alice an HTLC: update_add_htlc
// and commitment_signed, made by bob's state machine.
func peerRound(t testing.TB) []lnwire.Message {
	a, b := newChannel(t)
	ch := b.channel()
	add, err := ch.AddHTLC(&lnwire.UpdateAddHTLC{Amount: 50_000,
		Expiry: testHeight + 100})
	mustOK(t, err)
	p, err := ch.SignNextCommitment()
	mustOK(t, err)
	out, err := p.Persist(context.Background(), b.db)
	mustOK(t, err)
	_ = a
	return append([]lnwire.Message{add}, out.Messages...)
}

// setChanID points a message at the fuzzed channel, so that the state
// machine, not the channel check, sees it.
func setChanID(m lnwire.Message, id lnwire.ChannelID) {
	switch v := m.(type) {
	case *lnwire.UpdateAddHTLC:
		v.ChanID = id
	case *lnwire.UpdateFulfillHTLC:
		v.ChanID = id
	case *lnwire.UpdateFailHTLC:
		v.ChanID = id
	case *lnwire.UpdateFailMalformedHTLC:
		v.ChanID = id
	case *lnwire.UpdateFee:
		v.ChanID = id
	case *lnwire.CommitSig:
		v.ChanID = id
	case *lnwire.RevokeAndAck:
		v.ChanID = id
	case *lnwire.ChannelReestablish:
		v.ChanID = id
	}
}

// FuzzLinkMessages drives alice's link, reestablished with bob, with a
// fuzzed sequence of bob's messages. Whatever bob sends, the link must
// not panic or hang, and alice's stored channel must still load.
func FuzzLinkMessages(f *testing.F) {
	round := peerRound(f)
	f.Add(fuzzFrames(f, round...))
	f.Add(fuzzFrames(f, round[0]))
	f.Add(fuzzFrames(f, round[1], round[1]))
	f.Add(fuzzFrames(f, &lnwire.UpdateFee{FeePerKw: 1}))
	a, _ := newChannel(f)
	f.Add(fuzzFrames(f, &lnwire.RevokeAndAck{NextRevocationKey: a.point(5)}))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, b := newChannelSync(t, false)
		a.startLink()
		p := &end{}
		mustOK(t, a.link.PeerConnected(p))
		re, err := b.channel().ChannelReestablish()
		mustOK(t, err)
		mustOK(t, a.link.HandleMessage(p, re))
		for n := 0; n < 32 && len(data) >= 2; n++ {
			size := int(binary.BigEndian.Uint16(data))
			data = data[2:]
			if size > len(data) {
				size = len(data)
			}
			msg, err := lnwire.ParseMessage(append([]byte(nil), data[:size]...))
			data = data[size:]
			if err != nil {
				continue
			}
			setChanID(msg, a.link.ChanID())
			mustOK(t, a.link.HandleMessage(p, msg))
		}
		waitQuiet(t, a)
		a.link.Stop()
		a.channel()
	})
}
