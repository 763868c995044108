package sphinx

import (
	"bufio"
	"bytes"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
)

// errorVector is testdata/onion-error-test.json (BOLT 4).
type errorVector struct {
	Generate struct {
		SessionKey     string `json:"session_key"`
		FailureMessage string `json:"failure_message"`
		Hops           []struct {
			PubKey          string `json:"pubkey"`
			HopSharedSecret string `json:"hop_shared_secret"`
			AmmagKey        string `json:"ammag_key"`
			UmKey           string `json:"um_key"`
			Payload         string `json:"payload"`
		} `json:"hops"`
	} `json:"generate"`
	ErrorPacket string `json:"errorpacket"`
}

func TestFailureVectorLegacy(t *testing.T) {
	var v errorVector
	loadJSON(t, "onion-error-test.json", &v)
	hops := v.Generate.Hops
	path := make([]*btcec.PublicKey, len(hops))
	for i, h := range hops {
		path[i] = mustPub(t, h.PubKey)
	}
	c, err := NewCircuit(mustPriv(t, v.Generate.SessionKey), path)
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range hops {
		if got := c.SharedSecrets[i]; !bytes.Equal(got[:], mustHex(t, h.HopSharedSecret)) {
			t.Fatalf("hop %d shared secret %x", i, got)
		}
		ammag := generateKey(keyAmmag, c.SharedSecrets[i][:])
		if !bytes.Equal(ammag[:], mustHex(t, h.AmmagKey)) {
			t.Fatalf("hop %d ammag key %x", i, ammag)
		}
	}

	last := len(hops) - 1
	ss := c.SharedSecrets[last]
	um := generateKey(keyUm, ss[:])
	if !bytes.Equal(um[:], mustHex(t, hops[last].UmKey)) {
		t.Fatalf("um key %x", um)
	}
	msg := mustHex(t, v.Generate.FailureMessage)
	plain, err := buildFailurePacket(ss, msg, padSizeFor(len(msg)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(plain[HMACSize:], mustHex(t, hops[last].Payload)) {
		t.Fatalf("failure payload\n got %x\nwant %s", plain[HMACSize:], hops[last].Payload)
	}

	// The failing node encrypts, every earlier hop wraps.
	decoded, err := DecodeFailureMessage(msg)
	if err != nil {
		t.Fatal(err)
	}
	reason, err := NewFailure(ss, decoded)
	if err != nil {
		t.Fatal(err)
	}
	for i := last - 1; i >= 0; i-- {
		reason = WrapFailure(c.SharedSecrets[i], reason)
	}
	if !bytes.Equal(reason, mustHex(t, v.ErrorPacket)) {
		t.Fatalf("error packet\n got %x\nwant %s", reason, v.ErrorPacket)
	}

	df, err := c.DecryptFailure(reason, nil)
	if err != nil {
		t.Fatal(err)
	}
	if df.SenderIdx != last || !df.Sender.IsEqual(path[last]) {
		t.Fatalf("sender %d", df.SenderIdx)
	}
	if !bytes.Equal(df.Message, msg) {
		t.Fatalf("message %x", df.Message)
	}
	if _, ok := df.Failure.(*FailTemporaryNodeFailure); !ok {
		t.Fatalf("decoded %T", df.Failure)
	}
}

// attrVector is the attributable failure trace of BOLT 4 "Test Vector",
// testdata/attributable-error-test.txt.
type attrVector struct {
	pubkeys   []string
	holdTimes []uint32
	session   string
	values    map[string][]string // key -> values in order of appearance
	success   map[int]string      // node -> attribution data of a fulfill
}

func loadAttrVector(t *testing.T) *attrVector {
	t.Helper()
	f, err := os.Open("testdata/attributable-error-test.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v := &attrVector{values: map[string][]string{}, success: map[int]string{}}
	kv := regexp.MustCompile(`^([a-z_ 0-9\[\]]+?)\s*[=:]\s*(?:0x)?([0-9a-f]+)$`)
	successHdr := regexp.MustCompile(`^attribution data for node (\d+):$`)
	inSuccess := false
	pending := -1
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "## Returning success" {
			inSuccess = true
			continue
		}
		if inSuccess {
			if m := successHdr.FindStringSubmatch(line); m != nil {
				pending, _ = strconv.Atoi(m[1])
			} else if pending >= 0 && line != "" {
				v.success[pending] = line
				pending = -1
			}
			continue
		}
		m := kv.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		key, val := m[1], m[2]
		switch {
		case strings.HasPrefix(key, "pubkey["):
			v.pubkeys = append(v.pubkeys, val)
		case strings.HasPrefix(key, "htlc_hold_time["):
			n, _ := strconv.Atoi(val)
			v.holdTimes = append(v.holdTimes, uint32(n))
		case key == "sessionkey":
			v.session = val
		default:
			v.values[key] = append(v.values[key], val)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(v.pubkeys) != 5 || len(v.holdTimes) != 5 || v.session == "" || len(v.success) != 5 {
		t.Fatalf("vector parse: %d keys, %d hold times, %d success", len(v.pubkeys), len(v.holdTimes), len(v.success))
	}
	return v
}

func (v *attrVector) one(t *testing.T, key string) []byte {
	t.Helper()
	vals := v.values[key]
	if len(vals) != 1 {
		t.Fatalf("%q: %d values", key, len(vals))
	}
	return mustHex(t, vals[0])
}

func (v *attrVector) circuit(t *testing.T) *Circuit {
	t.Helper()
	path := make([]*btcec.PublicKey, len(v.pubkeys))
	for i, p := range v.pubkeys {
		path[i] = mustPub(t, p)
	}
	c, err := NewCircuit(mustPriv(t, v.session), path)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFailureVectorAttributable(t *testing.T) {
	v := loadAttrVector(t)
	c := v.circuit(t)
	last := len(c.Path) - 1
	ss := c.SharedSecrets[last]

	// The failure message: incorrect_or_unknown_payment_details with a
	// trailing TLV (type 34001, 300 bytes of 0x80).
	payload := v.one(t, "payload")
	msgLen := int(payload[0])<<8 | int(payload[1])
	wantMsg := payload[2 : 2+msgLen]
	extra := append([]byte{0xfd, 0x84, 0xd1, 0xfd, 0x01, 0x2c}, bytes.Repeat([]byte{0x80}, 300)...)
	fail := &FailIncorrectOrUnknownPaymentDetails{HtlcMsat: 100, Height: 800000, Tail: Tail{ExtraData: extra}}
	msg := EncodeFailureMessage(fail)
	if !bytes.Equal(msg, wantMsg) {
		t.Fatalf("failure message\n got %x\nwant %x", msg, wantMsg)
	}
	if !bytes.Equal(payload[2:], v.one(t, "encoded_failure_message")) {
		t.Fatal("vector: payload and encoded_failure_message disagree")
	}
	padTo := len(payload) - 4
	plain, err := buildFailurePacket(ss, msg, padTo)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(plain, v.one(t, "raw_error_packet")) {
		t.Fatalf("raw error packet\n got %x\nwant %x", plain, v.one(t, "raw_error_packet"))
	}

	reason, attr, err := NewFailureRawWithAttribution(ss, msg, padTo, v.routeHoldTimes()[last])
	if err != nil {
		t.Fatal(err)
	}
	secrets := v.values["shared_secret"][1:] // the first is the creation step's
	for step, node := 0, last; node >= 0; step, node = step+1, node-1 {
		if !bytes.Equal(c.SharedSecrets[node][:], mustHex(t, secrets[step])) {
			t.Fatalf("node %d shared secret", node)
		}
		if node != last {
			reason, attr, err = WrapFailureWithAttribution(c.SharedSecrets[node], reason, attr, v.routeHoldTimes()[node])
			if err != nil {
				t.Fatal(err)
			}
		}
		key := "error packet for node " + strconv.Itoa(node)
		if !bytes.Equal(reason, v.one(t, key)) {
			t.Fatalf("%s\n got %x\nwant %x", key, reason, v.one(t, key))
		}
		key = "attribution data for node " + strconv.Itoa(node)
		if !bytes.Equal(attr, v.one(t, key)) {
			t.Fatalf("%s\n got %x\nwant %x", key, attr, v.one(t, key))
		}
	}

	df, err := c.DecryptFailure(reason, attr)
	if err != nil {
		t.Fatal(err)
	}
	if df.SenderIdx != last {
		t.Fatalf("sender %d", df.SenderIdx)
	}
	got, ok := df.Failure.(*FailIncorrectOrUnknownPaymentDetails)
	if !ok || got.HtlcMsat != 100 || got.Height != 800000 || !bytes.Equal(got.ExtraData, extra) {
		t.Fatalf("decoded %#v", df.Failure)
	}
	if !equalU32(df.HoldTimes, v.routeHoldTimes()) {
		t.Fatalf("hold times %v, want %v", df.HoldTimes, v.routeHoldTimes())
	}
}

func TestFulfillAttributionVector(t *testing.T) {
	v := loadAttrVector(t)
	c := v.circuit(t)
	var attr []byte
	for node := len(c.Path) - 1; node >= 0; node-- {
		var err error
		attr, err = AddFulfillAttribution(c.SharedSecrets[node], attr, v.routeHoldTimes()[node])
		if err != nil {
			t.Fatal(err)
		}
		if want := mustHex(t, v.success[node]); !bytes.Equal(attr, want) {
			t.Fatalf("node %d\n got %x\nwant %x", node, attr, want)
		}
	}
	hts, err := c.FulfillHoldTimes(attr)
	if err != nil {
		t.Fatal(err)
	}
	if !equalU32(hts, v.routeHoldTimes()) {
		t.Fatalf("hold times %v, want %v", hts, v.routeHoldTimes())
	}
}

// routeHoldTimes returns the vector's hold times in route order. The trace
// lists htlc_hold_time[i] beside pubkey[i], but its bytes are reproduced only
// when hold time i is reported by the i-th node counted back from the
// failing node (node 4 reports 1, node 0 reports 5).
func (v *attrVector) routeHoldTimes() []uint32 {
	out := make([]uint32, len(v.holdTimes))
	for i, ht := range v.holdTimes {
		out[len(out)-1-i] = ht
	}
	return out
}

func equalU32(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
