package lnwire_test

import (
	"bytes"
	"fmt"

	"lnd.xprv/lnwire"
)

// A ping goes out and comes back in; an unknown odd message is handed to the
// caller instead of failing.
func Example() {
	var wire bytes.Buffer
	if _, err := lnwire.WriteMessage(&wire, lnwire.NewPing(4, 0)); err != nil {
		panic(err)
	}
	fmt.Printf("%x\n", wire.Bytes())

	msg, err := lnwire.ReadMessage(&wire)
	if err != nil {
		panic(err)
	}
	ping := msg.(*lnwire.Ping)
	fmt.Println(ping.MsgType(), ping.NumPongBytes, ping.WantsPong())

	msg, err = lnwire.ReadMessage(bytes.NewReader([]byte{0x80, 0x01, 0xaa}))
	fmt.Printf("%T %v\n", msg, err)

	_, err = lnwire.ReadMessage(bytes.NewReader([]byte{0x80, 0x00}))
	fmt.Println(err)
	// Output:
	// 001200040000
	// ping 4 true
	// *lnwire.UnknownMessage <nil>
	// lnwire: unknown even message type: 32768
}

// Feature vectors: what a peer's init offers, and whether it is acceptable.
func ExampleFeatureVector() {
	raw := lnwire.NewRawFeatureVector(lnwire.TLVOnionPayloadRequired,
		lnwire.PaymentAddrRequired, lnwire.MPPOptional, 70)
	fv := lnwire.NewFeatureVector(raw)
	fmt.Println(fv.HasFeature(lnwire.MPPRequired))
	fmt.Println(fv.UnknownRequiredFeatures())
	fmt.Println(lnwire.ValidateDeps(raw))
	fmt.Println(lnwire.ValidateContext(lnwire.ContextInit, raw))
	// Output:
	// true
	// [unknown(70)]
	// <nil>
	// <nil>
}

func ExampleParseShortChannelID() {
	id, err := lnwire.ParseShortChannelID("539268x845x1")
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d %#x %v\n", id.BlockHeight, id.ToUint64(), id)
	// Output: 539268 0x83a8400034d0001 539268x845x1
}
