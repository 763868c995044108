package sphinx_test

import (
	"bytes"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"lnd.xprv/sphinx"
)

// Example sends an onion over two hops, lets the second hop fail it, and
// decrypts the failure at the origin.
func Example() {
	alice, _ := btcec.PrivKeyFromBytes(bytes.Repeat([]byte{1}, 32))
	bob, _ := btcec.PrivKeyFromBytes(bytes.Repeat([]byte{2}, 32))
	paymentHash := bytes.Repeat([]byte{0xab}, 32)

	scid := uint64(700_000 << 40)
	fwd, _ := (&sphinx.HopPayload{AmtToForward: 1000, OutgoingCLTV: 800_040, ShortChannelID: &scid}).Encode()
	final, _ := (&sphinx.HopPayload{AmtToForward: 1000, OutgoingCLTV: 800_000,
		PaymentData: &sphinx.PaymentData{TotalMsat: 1000}}).Encode()
	route := []sphinx.Hop{{PubKey: alice.PubKey(), Payload: fwd}, {PubKey: bob.PubKey(), Payload: final}}

	// The session key must be random in real use.
	session, _ := btcec.PrivKeyFromBytes(bytes.Repeat([]byte{9}, 32))
	onion, err := sphinx.NewOnionPacket(route, session, paymentHash)
	if err != nil {
		panic(err)
	}

	// Alice forwards.
	atAlice, err := sphinx.NewRouter(sphinx.PrivKeyECDH{Key: alice}, sphinx.NewMemoryReplayLog()).
		ProcessOnionPacket(onion, paymentHash, 800_080)
	if err != nil {
		panic(err)
	}
	p, _ := sphinx.DecodeHopPayload(atAlice.Payload)
	fmt.Println("alice forwards", p.AmtToForward, "msat over", *p.ShortChannelID>>40, "final:", atAlice.IsFinal())

	// Bob is the final hop and does not know the payment.
	atBob, err := sphinx.NewRouter(sphinx.PrivKeyECDH{Key: bob}, sphinx.NewMemoryReplayLog()).
		ProcessOnionPacket(atAlice.NextPacket, paymentHash, 800_040)
	if err != nil {
		panic(err)
	}
	fmt.Println("bob final:", atBob.IsFinal())
	reason, _ := sphinx.NewFailure(atBob.SharedSecret,
		&sphinx.FailIncorrectOrUnknownPaymentDetails{HtlcMsat: 1000, Height: 800_001})
	reason = sphinx.WrapFailure(atAlice.SharedSecret, reason)

	circuit, _ := sphinx.NewCircuit(session, []*btcec.PublicKey{alice.PubKey(), bob.PubKey()})
	df, err := circuit.DecryptFailure(reason, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println("failed at hop", df.SenderIdx, "with", df.Failure.Code())
	// Output:
	// alice forwards 1000 msat over 700000 final: false
	// bob final: true
	// failed at hop 1 with incorrect_or_unknown_payment_details
}
