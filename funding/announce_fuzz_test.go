package funding

import (
	"testing"

	"lnd.xprv/lnwire"
	"lnd.xprv/routing"
)

// FuzzAnnounceSignatures hands a tracked public channel, 6 deep,
// announcement_signatures decoded from the fuzz input (real signatures
// in the seeds, with bytes of the input laid over them): nothing
// panics, and an announcement is only ever completed with four valid
// signatures. Each run opens a channel over real bbolt files: slow to
// fuzz, meant as a regression over its corpus.
func FuzzAnnounceSignatures(f *testing.F) {
	f.Add([]byte{0})                         // the peer's real signatures
	f.Add([]byte{1, 0, 3, 0xff})             // a node signature byte changed
	f.Add([]byte{2, 70, 1})                  // a bitcoin signature byte changed
	f.Add([]byte{3, 0, 0, 0, 0, 0, 0, 0, 9}) // another position
	f.Fuzz(func(t *testing.T, data []byte) {
		sa, sb, tx := openForAnnouncement(t)
		sa.n.chain.confirm(tx, 7)
		waitFor(t, "a deep enough", func() bool {
			sa.mu.Lock()
			defer sa.mu.Unlock()
			return len(sa.out) == 1
		})
		real, err := sb.a.ourSigs(sb.st)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := lnwire.Serialize(real)
		if err != nil {
			t.Fatal(err)
		}
		// Lay the input over the message body after its type, from an
		// offset the first byte picks.
		if len(data) > 0 {
			off := 2 + int(data[0])%(len(raw)-2)
			for i, b := range data[1:] {
				if off+i < len(raw) {
					raw[off+i] ^= b
				}
			}
		}
		msg, err := lnwire.ParseMessage(raw)
		if err != nil {
			return
		}
		m, ok := msg.(*lnwire.AnnounceSignatures)
		if !ok {
			return
		}
		sa.a.HandleMessage(sb.n.pub(), m)
		same := m.ChannelID == real.ChannelID && m.ShortChannelID == real.ShortChannelID &&
			m.NodeSignature == real.NodeSignature && m.BitcoinSignature == real.BitcoinSignature
		if same && len(sa.announced()) != 1 {
			t.Fatal("the peer's real signatures did not complete the announcement")
		}
		for _, ann := range sa.announced() {
			if err := routing.VerifyChannelAnnouncement(ann); err != nil {
				t.Fatalf("announced with bad signatures: %v", err)
			}
		}
	})
}
