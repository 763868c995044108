package channeldb

import (
	"bytes"
	"errors"
	"testing"

	"lnd.xprv/lnwire"
)

// fuzzRecord checks a decoder on arbitrary bytes: it never panics, every
// failure is a corrupt-record error, and what it accepts re-encodes to a
// record that decodes and re-encodes to the same bytes.
func fuzzRecord[T any](t *testing.T, data []byte, decode func([]byte) (T, error),
	encode func(T) ([]byte, error), named bool) {

	v, err := decode(data)
	if err != nil {
		if named && !errors.Is(err, ErrCorruptRecord) {
			t.Fatalf("error %v is not a corrupt-record error", err)
		}
		return
	}
	enc, err := encode(v)
	if err != nil {
		t.Fatalf("decoded record does not encode: %v", err)
	}
	v2, err := decode(enc)
	if err != nil {
		t.Fatalf("re-encoded record does not decode: %v", err)
	}
	enc2, err := encode(v2)
	if err != nil || !bytes.Equal(enc, enc2) {
		t.Fatalf("encoding not stable: %x then %x (%v)", enc, enc2, err)
	}
}

// must is for encoding the seed corpus, which cannot fail.
func must(enc []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return enc
}

func FuzzDecodeLinkNode(f *testing.F) {
	key := samplePub(1).SerializeCompressed()
	f.Add(must(encodeLinkNode(sampleLinkNode())))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRecord(t, data, func(b []byte) (*LinkNode, error) { return DecodeLinkNode(key, b) },
			encodeLinkNode, true)
	})
}

func FuzzDecodeClosedChannel(f *testing.F) {
	key := outpointKey(sampleOutpoint(7))
	f.Add(must(encodeClosed(sampleClosed())))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRecord(t, data, func(b []byte) (*ChannelCloseSummary, error) { return DecodeClosedChannel(key, b) },
			encodeClosed, true)
	})
}

func FuzzDecodeCoopClose(f *testing.F) {
	c := sampleCoopClose()
	key := outpointKey(c.ChanPoint)
	f.Add(must(encodeCoopClose(c)))
	c.ClosingTx, c.RemoteScript = nil, nil
	f.Add(must(encodeCoopClose(c)))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRecord(t, data, func(b []byte) (*CoopClose, error) { return DecodeCoopClose(key, b) },
			encodeCoopClose, true)
	})
}

func FuzzDecodePendingChannel(f *testing.F) {
	p := samplePending()
	f.Add(must(encodePending(p)))
	p.ChanPoint, p.FundingTx = nil, nil
	f.Add(must(encodePending(p)))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRecord(t, data, func(b []byte) (*PendingChannel, error) { return DecodePendingChannel(p.PendingChanID[:], b) },
			encodePending, true)
	})
}

func FuzzDecodeRevocationLogEntry(f *testing.F) {
	for _, n := range []int{0, 3, 10} {
		f.Add(must(EncodeRevocationLogEntry(sampleRevLog(7, n))))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// The bare decoder leaves naming to its caller (decodeRevLog).
		fuzzRecord(t, data, DecodeRevocationLogEntry, EncodeRevocationLogEntry, false)
		if _, err := decodeRevLog([]byte{1}, u64Key(7), data); err != nil && !errors.Is(err, ErrCorruptRecord) {
			t.Fatalf("stored entry error %v is not a corrupt-record error", err)
		}
	})
}

func FuzzDecodeCircuit(f *testing.F) {
	c := sampleCircuit()
	f.Add(must(encodeCircuit(c)))
	c.Outgoing = nil
	f.Add(must(encodeCircuit(c)))
	key := c.Incoming.bytes()
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRecord(t, data, func(b []byte) (*PaymentCircuit, error) { return DecodeCircuit(key, b) },
			encodeCircuit, true)
	})
}

func FuzzDecodeFwdPkg(f *testing.F) {
	p := sampleFwdPkg()
	f.Add(must(encodeFwdPkg(p)))
	p.SettleFails[0].Msg = &lnwire.UpdateFailHTLC{ID: 3, Reason: []byte{1, 2, 3}}
	f.Add(must(encodeFwdPkg(p)))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRecord(t, data, func(b []byte) (*FwdPkg, error) { return DecodeFwdPkg(p.Source, u64Key(p.Height), b) },
			encodeFwdPkg, true)
	})
}

func FuzzDecodeForwardingEvent(f *testing.F) {
	ev := sampleFwdEvent(1_700_000_000_000_000_000)
	f.Add(encodeFwdEvent(&ev))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRecord(t, data, func(b []byte) (*ForwardingEvent, error) { return DecodeForwardingEvent(u64Key(7), b) },
			func(e *ForwardingEvent) ([]byte, error) { return encodeFwdEvent(e), nil }, true)
	})
}

func FuzzDecodeGraphNode(f *testing.F) {
	ann := sampleNodeAnn(1, 100)
	f.Add(must(encodeGraphNode(&GraphNode{Announcement: ann})))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRecord(t, data, func(b []byte) (*GraphNode, error) { return DecodeGraphNode(ann.NodeID[:], b) },
			encodeGraphNode, true)
	})
}

func FuzzDecodeGraphChannel(f *testing.F) {
	c := sampleGraphChannel(800_000<<40 | 5<<16 | 1)
	key := u64Key(c.ID.ToUint64())
	f.Add(must(encodeGraphChannel(c)))
	c.Announcement = nil
	f.Add(must(encodeGraphChannel(c)))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRecord(t, data, func(b []byte) (*GraphChannel, error) { return DecodeGraphChannel(key, b) },
			encodeGraphChannel, true)
	})
}

func FuzzDecodeChannelUpdate(f *testing.F) {
	u := sampleUpdate(800_000<<40|5<<16|1, 1, 300)
	key := policyKey(u.ShortChannelID, 1)
	f.Add(append([]byte{graphPolicyVersion, 0}, must(lnwire.Serialize(u))...))
	enc := func(u *lnwire.ChannelUpdate) ([]byte, error) {
		raw, err := lnwire.Serialize(u)
		if err != nil {
			return nil, err
		}
		w := recWriter{}
		w.u8(graphPolicyVersion)
		w.bytes(raw)
		return w.b, nil
	}
	f.Add(must(enc(u)))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRecord(t, data, func(b []byte) (*lnwire.ChannelUpdate, error) { return DecodeChannelUpdate(key, b) },
			enc, true)
	})
}

func FuzzDecodeInvoice(f *testing.F) {
	inv := sampleInvoice(1)
	inv.AddIndex, inv.SettleIndex = 7, 3
	f.Add(must(encodeInvoice(inv)))
	inv.Preimage, inv.HTLCs, inv.IsKeysend = nil, nil, true
	f.Add(must(encodeInvoice(inv)))
	key := inv.PaymentHash[:]
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRecord(t, data, func(b []byte) (*Invoice, error) { return DecodeInvoice(key, b) },
			encodeInvoice, true)
		// UpdateInvoice's peek reads what the decoder reads first:
		// it agrees with every record the decoder takes.
		inv, err := DecodeInvoice(key, data)
		if err != nil {
			return
		}
		s, err := peekInvoice(key, data)
		want := storedInvoice{PaymentAddr: inv.PaymentAddr, State: inv.State,
			AddIndex: inv.AddIndex, SettleIndex: inv.SettleIndex}
		if err != nil || s != want {
			t.Fatalf("peek %+v %v, decoded %+v", s, err, want)
		}
	})
}

func FuzzDecodeMissionControlResult(f *testing.F) {
	r := sampleMCResult(1, 2, 1_800_000_000)
	key := mcKey(&r)
	f.Add(must(encodeMCResult(&r)))
	f.Add(must(encodeMCResult(&MissionControlResult{From: r.From, To: r.To})))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRecord(t, data, func(b []byte) (*MissionControlResult, error) { return DecodeMissionControlResult(key, b) },
			encodeMCResult, true)
	})
}
