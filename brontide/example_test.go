package brontide_test

import (
	"fmt"
	"log"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"

	"lnd.xprv/brontide"
)

// Example shows a node listening for peers and another dialling it, then
// one Lightning message each way.
func Example() {
	serverPriv, err := btcec.NewPrivateKey()
	if err != nil {
		log.Fatal(err)
	}
	clientPriv, err := btcec.NewPrivateKey()
	if err != nil {
		log.Fatal(err)
	}
	serverKey := &brontide.PrivKeyECDH{PrivKey: serverPriv}
	clientKey := &brontide.PrivKeyECDH{PrivKey: clientPriv}

	l, err := brontide.Listen(serverKey, "tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()

	go func() {
		conn, err := l.AcceptConn()
		if err != nil {
			return
		}
		defer conn.Close()
		msg, err := conn.ReadMessage()
		if err != nil {
			return
		}
		conn.WriteMessage(append([]byte("re: "), msg...))
	}()

	conn, err := brontide.Dial(clientKey, &brontide.NetAddress{
		IdentityKey: serverKey.PubKey(),
		Address:     l.Addr(),
	}, 10*time.Second, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()

	if err := conn.WriteMessage([]byte("hello")); err != nil {
		log.Fatal(err)
	}
	reply, err := conn.ReadMessage()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(reply))
	// Output: re: hello
}
