package htlcswitch

import (
	"testing"

	"lnd.xprv/lnwire"
)

// TestPeeledFrom checks how a pre-peeled onion is matched to the add
// that locks in: the same message, or one with the same payment hash and
// onion (a retransmission after a reconnection); any other add with the
// same id is peeled again.
func TestPeeledFrom(t *testing.T) {
	add := &lnwire.UpdateAddHTLC{ID: 4, PaymentHash: [32]byte{1}}
	add.OnionBlob[100] = 7
	p := &prePeeled{add: add}

	same := *add
	hash := same
	hash.PaymentHash[0] = 2
	onion := same
	onion.OnionBlob[1365] = 1
	for _, c := range []struct {
		name string
		add  *lnwire.UpdateAddHTLC
		want bool
	}{
		{"the message itself", add, true},
		{"an equal copy", &same, true},
		{"another payment hash", &hash, false},
		{"another onion", &onion, false},
	} {
		if got := p.peeledFrom(c.add); got != c.want {
			t.Errorf("%s: peeledFrom %v, want %v", c.name, got, c.want)
		}
	}
}
