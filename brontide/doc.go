// Package brontide implements the BOLT 8 encrypted and authenticated
// transport that Lightning nodes speak to each other: the
// Noise_XK_secp256k1_ChaChaPoly_SHA256 handshake followed by a stream of
// length-prefixed ChaCha20-Poly1305 packets whose keys rotate every 1000
// uses.
//
// The package has three layers:
//
//   - Machine is the handshake and cipher state with no I/O at all. An
//     initiator calls GenActOne, RecvActTwo and GenActThree; a responder
//     calls RecvActOne, GenActTwo and RecvActThree. Afterwards
//     EncryptMessage, DecryptHeader and DecryptBody turn Lightning messages
//     into wire packets and back. Because it works on byte slices, it is
//     tested against the BOLT 8 Appendix A vectors without a socket.
//
//   - Conn wraps a net.Conn once the handshake is done. WriteMessage and
//     ReadMessage move whole Lightning messages (at most 65535 bytes);
//     Read and Write give a plain byte-stream view on top of them. One
//     reader and one writer may use a Conn concurrently.
//
//   - Dial and Listener establish Conns. Dial accepts any DialFunc, so a
//     SOCKS (Tor) dialer works as well as plain TCP. A Listener runs each
//     inbound handshake in its own goroutine under a deadline, so a client
//     that never speaks can neither block Accept nor hold a slot for long.
//
// The node's static key is used only through the ECDH interface, so the
// private key may live in a wallet or hardware signer; PrivKeyECDH adapts a
// plain *btcec.PrivateKey.
//
// The package carries raw message bytes and knows nothing about message
// types; decoding them is the job of lnwire.
package brontide
