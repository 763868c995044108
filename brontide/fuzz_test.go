package brontide

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// vectorPair returns the two Machines of the Appendix A successful
// handshakes, before act one. Their fixed keys make the vector acts valid
// seeds.
func vectorPair(tb testing.TB) (ini, resp *Machine) {
	tb.Helper()
	hs, _ := loadVectors(tb)
	for _, v := range hs {
		if !strings.HasSuffix(v.name, "successful handshake") {
			continue
		}
		if v.section == "Initiator Tests" {
			ini = vectorMachine(tb, v)
		} else {
			resp = vectorMachine(tb, v)
		}
	}
	if ini == nil || resp == nil {
		tb.Fatal("successful handshake vectors not found")
	}
	return ini, resp
}

// addVectorInputs seeds f with every act the vectors feed to a responder
// for the given act ("act1" or "act3").
func addVectorInputs(f *testing.F, act int) {
	hs, _ := loadVectors(f)
	for _, v := range hs {
		if v.section != "Responder Tests" {
			continue
		}
		var inputs []vectorStep
		for _, s := range v.steps {
			if s.input {
				inputs = append(inputs, s)
			}
		}
		idx := 0
		if act == 3 {
			idx = 1
		}
		if idx < len(inputs) {
			f.Add(unhex(f, inputs[idx].value))
		}
	}
}

// Each fuzz iteration works on a copy of a prepared Machine: a Machine
// holds only values and immutable pointees, and every step replaces rather
// than mutates what it points to, so a struct copy is an independent
// state.

// FuzzRecvActOne: a responder fed arbitrary act one bytes returns an error
// or carries on; it never panics, and accepts only a well-formed act.
func FuzzRecvActOne(f *testing.F) {
	addVectorInputs(f, 1)
	_, base := vectorPair(f)
	f.Fuzz(func(t *testing.T, act []byte) {
		resp := *base
		err := resp.RecvActOne(act)
		if err != nil {
			if _, err2 := resp.GenActTwo(); !errors.Is(err2, ErrWrongState) {
				t.Fatalf("failed machine went on: %v", err2)
			}
			return
		}
		if len(act) != ActOneSize || act[0] != 0 {
			t.Fatalf("accepted malformed act one %x", act)
		}
		if _, err := resp.GenActTwo(); err != nil {
			t.Fatalf("GenActTwo after valid act one: %v", err)
		}
	})
}

// FuzzRecvActTwo: an initiator past act one fed arbitrary act two bytes
// never panics, and only a well-formed act lets it produce act three.
func FuzzRecvActTwo(f *testing.F) {
	hs, _ := loadVectors(f)
	for _, v := range hs {
		for _, s := range v.steps {
			if v.section == "Initiator Tests" && s.input {
				f.Add(unhex(f, s.value))
			}
		}
	}
	base, _ := vectorPair(f)
	if _, err := base.GenActOne(); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, act []byte) {
		ini := *base
		if err := ini.RecvActTwo(act); err != nil {
			if _, err2 := ini.GenActThree(); !errors.Is(err2, ErrWrongState) {
				t.Fatalf("failed machine went on: %v", err2)
			}
			return
		}
		if len(act) != ActTwoSize || act[0] != 0 {
			t.Fatalf("accepted malformed act two %x", act)
		}
		if _, err := ini.GenActThree(); err != nil {
			t.Fatalf("GenActThree after valid act two: %v", err)
		}
	})
}

// FuzzRecvActThree: a responder past act two fed arbitrary act three bytes
// never panics, and only a well-formed act completes the handshake.
func FuzzRecvActThree(f *testing.F) {
	addVectorInputs(f, 3)
	ini, base := vectorPair(f)
	act1, err := ini.GenActOne()
	if err != nil {
		f.Fatal(err)
	}
	if err := base.RecvActOne(act1[:]); err != nil {
		f.Fatal(err)
	}
	if _, err := base.GenActTwo(); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, act []byte) {
		resp := *base
		err := resp.RecvActThree(act)
		if err != nil {
			if resp.HandshakeComplete() {
				t.Fatal("handshake complete after an error")
			}
			return
		}
		if len(act) != ActThreeSize || act[0] != 0 || !resp.HandshakeComplete() {
			t.Fatalf("accepted malformed act three %x", act)
		}
		if !resp.RemotePub().IsEqual(ini.LocalPub()) {
			t.Fatal("accepted act three with a forged static key")
		}
	})
}

// fuzzTransport holds the two Machines of a completed vector handshake;
// each fuzz iteration works on copies.
type fuzzTransport struct {
	sender, receiver Machine
}

func newFuzzTransport(tb testing.TB) *fuzzTransport {
	ini, resp := vectorPair(tb)
	completeHandshake(tb, ini, resp)
	return &fuzzTransport{sender: *ini, receiver: *resp}
}

// addMessageSeeds seeds f with the Appendix A message packets (valid for
// the vector handshake) and a few made-up ones.
func addMessageSeeds(f *testing.F) {
	_, msgs := loadVectors(f)
	out0 := unhex(f, msgs[0].outputs[0])
	out1 := unhex(f, msgs[0].outputs[1])
	f.Add(out0)
	f.Add(append(bytes.Clone(out0), out1...))
	f.Add(out0[:LengthHeaderSize])
	f.Add(out1)
	f.Add([]byte{})
}

// FuzzDecryptMessage: arbitrary bytes after a real handshake, decoded as a
// packet stream, never panic; whatever decrypts must be exactly what the
// sender would have produced at that point.
func FuzzDecryptMessage(f *testing.F) {
	addMessageSeeds(f)
	base := newFuzzTransport(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		sender, receiver := base.sender, base.receiver

		if len(data) >= LengthHeaderSize {
			// The whole-packet decoder on a copy.
			r := base.receiver
			if msg, err := r.DecryptMessage(data); err == nil {
				s := base.sender
				pkt, _ := s.EncryptMessage(nil, msg)
				if !bytes.Equal(pkt, data) {
					t.Fatalf("accepted a packet the sender did not make")
				}
			}
		}

		for len(data) >= LengthHeaderSize {
			n, err := receiver.DecryptHeader(data[:LengthHeaderSize])
			if err != nil {
				return
			}
			if n > MaxMessageSize {
				t.Fatalf("length %d out of range", n)
			}
			if len(data) < LengthHeaderSize+n+macSize {
				return
			}
			body := bytes.Clone(data[LengthHeaderSize : LengthHeaderSize+n+macSize])
			msg, err := receiver.DecryptBody(body[:0], body)
			if err != nil {
				return
			}
			want, err := sender.EncryptMessage(nil, msg)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(want, data[:len(want)]) {
				t.Fatalf("accepted a packet the sender did not make")
			}
			data = data[len(want):]
		}
	})
}

// chunkConn is a read-only net.Conn over a byte slice that returns at most
// chunk bytes per Read, to exercise Conn's partial-read handling.
type chunkConn struct {
	net.Conn // nil; only Read is used
	data     []byte
	chunk    int
}

func (c *chunkConn) Read(b []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := copy(b[:min(len(b), c.chunk)], c.data)
	c.data = c.data[n:]
	return n, nil
}

func (c *chunkConn) SetReadDeadline(time.Time) error { return nil }

// FuzzConnReadMessage: Conn.ReadMessage over arbitrary bytes arriving in
// arbitrary pieces never panics and ends in an error, only after
// returning exactly what the sender would have sent.
func FuzzConnReadMessage(f *testing.F) {
	_, msgs := loadVectors(f)
	f.Add(uint8(1), unhex(f, msgs[0].outputs[0]))
	f.Add(uint8(7), append(unhex(f, msgs[0].outputs[0]), unhex(f, msgs[0].outputs[1])...))
	f.Add(uint8(255), []byte("garbage"))
	base := newFuzzTransport(f)
	f.Fuzz(func(t *testing.T, chunk uint8, data []byte) {
		sender, receiver := base.sender, base.receiver
		c := newConn(&chunkConn{data: data, chunk: int(chunk) + 1}, &receiver)
		consumed := 0
		for {
			msg, err := c.ReadMessage()
			if err != nil {
				if _, err2 := c.ReadMessage(); err2 == nil {
					t.Fatal("read succeeded after an error")
				}
				return
			}
			want, _ := sender.EncryptMessage(nil, msg)
			if !bytes.Equal(want, data[consumed:consumed+len(want)]) {
				t.Fatal("accepted a packet the sender did not make")
			}
			consumed += len(want)
		}
	})
}
