package lnwire

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// loadVectors reads testdata/name, a JSON object with a "source" naming
// the BOLT section and "vectors" decoded into v.
func loadVectors(t *testing.T, name string, v any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Source  string          `json:"source"`
		Vectors json.RawMessage `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if file.Source == "" {
		t.Fatalf("%s: no source named", name)
	}
	if err := json.Unmarshal(file.Vectors, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// roundTrip serialises msg, checks ReadMessage and Decode both give back an
// equal message, and that it re-encodes to the same bytes. It returns the
// encoding.
func roundTrip(t *testing.T, msg Message) []byte {
	t.Helper()
	b, err := Serialize(msg)
	if err != nil {
		t.Fatalf("serialize %T: %v", msg, err)
	}
	var w bytes.Buffer
	n, err := WriteMessage(&w, msg)
	if err != nil || n != len(b) || !bytes.Equal(w.Bytes(), b) {
		t.Fatalf("WriteMessage: n=%d err=%v", n, err)
	}
	got, err := ReadMessage(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("read %T: %v", msg, err)
	}
	if got.MsgType() != msg.MsgType() {
		t.Fatalf("type %v, want %v", got.MsgType(), msg.MsgType())
	}
	b2, err := Serialize(got)
	if err != nil {
		t.Fatalf("re-serialize: %v", err)
	}
	if !bytes.Equal(b, b2) {
		t.Fatalf("re-encode differs:\n%x\n%x", b, b2)
	}
	// Decode through the public io.Reader path too.
	fresh, _ := NewMessage(msg.MsgType())
	if err := fresh.Decode(bytes.NewReader(b[2:])); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	b3, _ := Serialize(fresh)
	if !bytes.Equal(b, b3) {
		t.Fatalf("Decode path re-encodes differently")
	}
	return b
}

// assertEqualMsg compares two messages by their encodings and, for
// readability of failures, by reflection.
func assertEqualMsg(t *testing.T, want, got Message) {
	t.Helper()
	bw, err1 := Serialize(want)
	bg, err2 := Serialize(got)
	if err1 != nil || err2 != nil {
		t.Fatalf("serialize: %v %v", err1, err2)
	}
	if !bytes.Equal(bw, bg) {
		t.Fatalf("messages differ:\nwant %#v\ngot  %#v", want, got)
	}
	_ = reflect.DeepEqual
}
