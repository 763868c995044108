package lnwallet

import (
	"bytes"
	"errors"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/lnwallet/chainfee"
	"lnd.xprv/lnwire"
)

func TestCheckShutdownScript(t *testing.T) {
	p2wpkh := append([]byte{0x00, 20}, make([]byte, 20)...)
	p2wsh := append([]byte{0x00, 32}, make([]byte, 32)...)
	p2tr := append([]byte{0x51, 32}, make([]byte, 32)...)
	p2pkh := append(append([]byte{0x76, 0xa9, 20}, make([]byte, 20)...), 0x88, 0xac)
	p2sh := append(append([]byte{0xa9, 20}, make([]byte, 20)...), 0x87)
	for _, tc := range []struct {
		name      string
		script    []byte
		anySegwit bool
		ok        bool
	}{
		{"p2wpkh", p2wpkh, false, true},
		{"p2wsh", p2wsh, false, true},
		{"p2tr without anysegwit", p2tr, false, false},
		{"p2tr with anysegwit", p2tr, true, true},
		{"v16 2 bytes", []byte{0x60, 2, 1, 2}, true, true},
		{"v1 41 bytes", append([]byte{0x51, 41}, make([]byte, 41)...), true, false},
		{"v1 1 byte", []byte{0x51, 1, 1}, true, false},
		{"p2pkh", p2pkh, false, true},
		{"p2sh", p2sh, false, true},
		{"p2wpkh wrong push", append([]byte{0x00, 21}, make([]byte, 21)...), true, false},
		{"empty", nil, true, false},
		{"op_return", []byte{0x6a, 1, 1}, true, false},
		{"length mismatch", []byte{0x51, 32, 1}, true, false},
	} {
		err := CheckShutdownScript(tc.script, tc.anySegwit)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrShutdownScript) {
			t.Errorf("%s: %v is not ErrShutdownScript", tc.name, err)
		}
	}
}

func TestClosingTxWeight(t *testing.T) {
	// A closing transaction paying two P2WPKH outputs, as built: its
	// real weight with 73-byte signatures is the estimate.
	tp := newTestPair(t, ChannelTypeAnchors)
	s := WitnessPubKeyHash(tp.alice.payment.PubKey())
	tx, err := NewLegacyClosingTx(tp.aliceParams.FundingOutpoint,
		ClosingOutput{s, 1000}, ClosingOutput{s, 2000}, 0)
	if err != nil {
		t.Fatal(err)
	}
	ws, _, _ := tp.aliceParams.FundingScript()
	tx.TxIn[0].Witness = wire.TxWitness{nil, make([]byte, 73),
		make([]byte, 73), ws}
	w := int64(tx.SerializeSizeStripped()*3 + tx.SerializeSize())
	if got := ClosingTxWeight(s, s); got != w {
		t.Fatalf("weight %d, transaction %d", got, w)
	}
}

// closeSide is one party of a negotiation test.
type closeSide struct {
	n     *CloseNegotiation
	plain bool // strips fee_range from what it sends, as lnd
}

func newCloseSides(t testing.TB, alice, bob CloseFees, localMsat,
	remoteMsat uint64) (*testPair, *CloseNegotiation, *CloseNegotiation) {

	t.Helper()
	tp := newTestPair(t, ChannelTypeAnchors)
	as := WitnessPubKeyHash(tp.alice.payment.PubKey())
	bs := WitnessPubKeyHash(tp.bob.payment.PubKey())
	a, err := NewCloseNegotiation(CloseTerms{Params: tp.aliceParams,
		LocalBalanceMsat: localMsat, RemoteBalanceMsat: remoteMsat,
		LocalScript: as, RemoteScript: bs}, alice, tp.alice.signer())
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewCloseNegotiation(CloseTerms{Params: tp.bobParams,
		LocalBalanceMsat: remoteMsat, RemoteBalanceMsat: localMsat,
		LocalScript: bs, RemoteScript: as}, bob, tp.bob.signer())
	if err != nil {
		t.Fatal(err)
	}
	return tp, a, b
}

// negotiate runs the exchange from the opener's first offer; it returns
// the error that stopped it, if any, and the number of messages.
func negotiate(opener, other *closeSide) (int, error) {
	msg, err := opener.n.Start()
	if err != nil {
		return 0, err
	}
	from, to := opener, other
	count := 0
	for msg != nil && count < 50 {
		count++
		if from.plain || to.plain {
			// lnd neither sends nor reads fee_range.
			msg.FeeRange = nil
		}
		step, err := to.n.Receive(msg)
		if err != nil {
			return count, err
		}
		msg = step.Reply
		from, to = to, from
	}
	return count, nil
}

func TestCloseNegotiation(t *testing.T) {
	const local, remote = 6_000_000_000, 4_000_000_000
	fees := func(ideal, maxFee btcutil.Amount) CloseFees {
		return CloseFees{Ideal: ideal, Min: 200, Max: maxFee}
	}
	for _, tc := range []struct {
		name         string
		alice, bob   CloseFees
		alicePlain   bool
		bobPlain     bool
		wantFee      btcutil.Amount
		wantMessages int
	}{
		// Both send fee_range: bob takes alice's offer at once.
		{"ranges, same ideal", fees(1000, 3000), fees(1000, 3000), false, false, 1000, 2},
		{"ranges, bob wants more", fees(1000, 3000), fees(5000, 15000), false, false, 1000, 2},
		// Bob (not paying) accepts anything above his minimum.
		// Alice's offer is below bob's minimum: he proposes his
		// minimum, inside both ranges, and alice echoes it.
		{"ranges, below bob's minimum", fees(150, 3000),
			CloseFees{Ideal: 500, Min: 400, Max: 1500}, false, false, 400, 3},
		// lnd as opener: no range; bob accepts its ideal.
		{"opener without range", fees(2000, 6000), fees(700, 2100), true, false, 2000, 2},
		// lnd as the other party: it answers with its own ideal
		// without a range; alice accepts it within her max and echoes.
		{"other without range", fees(1000, 3000),
			CloseFees{Ideal: 2500, Min: 2500, Max: 7500}, false, true, 2500, 3},
		{"other without range, above max", fees(1000, 3000),
			CloseFees{Ideal: 4000, Min: 4000, Max: 12000}, false, true, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp, a, b := newCloseSides(t, tc.alice, tc.bob, local, remote)
			n, err := negotiate(&closeSide{a, tc.alicePlain},
				&closeSide{b, tc.bobPlain})
			if tc.wantFee == 0 {
				if err == nil || !errors.Is(err, ErrCloseFee) {
					t.Fatalf("negotiation ended with %v", err)
				}
				if a.Done() && b.Done() {
					t.Fatal("both agreed despite the error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !a.Done() || !b.Done() {
				t.Fatalf("not done after %d messages", n)
			}
			if n != tc.wantMessages {
				t.Errorf("%d messages, want %d", n, tc.wantMessages)
			}
			atx, afee := a.Final()
			btx, bfee := b.Final()
			if afee != tc.wantFee || bfee != tc.wantFee {
				t.Fatalf("fees %v %v, want %v", afee, bfee, tc.wantFee)
			}
			if atx.TxHash() != btx.TxHash() {
				t.Fatal("the two sides built different transactions")
			}
			_, pk, _ := tp.aliceParams.FundingScript()
			checkSpends(t, atx, pk, int64(tp.aliceParams.Capacity))
			checkSpends(t, btx, pk, int64(tp.aliceParams.Capacity))
			var out int64
			for _, o := range atx.TxOut {
				out += o.Value
			}
			if got := btcutil.Amount(10_000_000 - out); got != tc.wantFee {
				t.Fatalf("transaction pays %v fee", got)
			}
			as := WitnessPubKeyHash(tp.alice.payment.PubKey())
			if SettledBalance(atx, as) != 6_000_000-tc.wantFee {
				t.Fatalf("alice settles %v", SettledBalance(atx, as))
			}
			if !IsCooperativeClose(atx) {
				t.Fatal("closing tx not recognised as cooperative")
			}
		})
	}
}

func TestCloseNegotiationDust(t *testing.T) {
	// Bob's balance is below his dust limit (354): the closing
	// transaction has alice's output only, on both sides.
	fees := CloseFees{Ideal: 1000, Min: 200, Max: 3000}
	_, a, b := newCloseSides(t, fees, fees, 9_999_700_000, 300_000)
	if _, err := negotiate(&closeSide{n: a}, &closeSide{n: b}); err != nil {
		t.Fatal(err)
	}
	tx, _ := a.Final()
	if len(tx.TxOut) != 1 || tx.TxOut[0].Value != 9_999_700-1000 {
		t.Fatalf("outputs %v", tx.TxOut)
	}
}

func TestCloseNegotiationRefusals(t *testing.T) {
	fees := CloseFees{Ideal: 1000, Min: 200, Max: 3000}
	const local, remote = 6_000_000_000, 4_000_000_000

	t.Run("bad signature", func(t *testing.T) {
		_, a, b := newCloseSides(t, fees, fees, local, remote)
		msg, _ := a.Start()
		msg.Signature[40] ^= 1
		_, err := b.Receive(msg)
		if !errors.Is(err, ErrClosingSig) || IsFatal(err) {
			t.Fatalf("got %v, want a warning for the signature", err)
		}
		if b.Done() {
			t.Fatal("agreed on a bad signature")
		}
	})
	t.Run("fee over the opener's balance", func(t *testing.T) {
		_, a, b := newCloseSides(t, fees, fees, local, remote)
		msg, _ := a.Start()
		msg.FeeSatoshis = 6_000_001
		if _, err := b.Receive(msg); !errors.Is(err, ErrCloseFee) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("fee changed after signing", func(t *testing.T) {
		_, a, b := newCloseSides(t, fees, fees, local, remote)
		msg, _ := a.Start()
		msg.FeeSatoshis++
		if _, err := b.Receive(msg); !errors.Is(err, ErrClosingSig) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("opener gets a fee outside the overlap", func(t *testing.T) {
		_, a, b := newCloseSides(t, fees, CloseFees{Ideal: 5000,
			Min: 200, Max: 15000}, local, remote)
		if _, err := a.Start(); err != nil {
			t.Fatal(err)
		}
		// Bob proposes 5000 with his wide range: above alice's max.
		reply, err := b.offer(5000, false)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Receive(reply); !IsFatal(err) ||
			!errors.Is(err, ErrCloseFee) {

			t.Fatalf("got %v, want the channel failed", err)
		}
	})
	t.Run("no overlap", func(t *testing.T) {
		_, a, b := newCloseSides(t, fees, fees, local, remote)
		msg, _ := a.Start()
		msg.FeeRange = &lnwire.FeeRange{MinFeeSats: 7_000_000,
			MaxFeeSats: 8_000_000}
		_, err := b.Receive(msg)
		if !errors.Is(err, ErrClosingSig) && !errors.Is(err, ErrCloseFee) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("wrong channel", func(t *testing.T) {
		_, a, b := newCloseSides(t, fees, fees, local, remote)
		msg, _ := a.Start()
		msg.ChanID[0] ^= 1
		if _, err := b.Receive(msg); !errors.Is(err, ErrWrongChannel) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestFeesForRate(t *testing.T) {
	tp := newTestPair(t, ChannelTypeAnchors)
	s := WitnessPubKeyHash(tp.alice.payment.PubKey())
	terms := &CloseTerms{Params: tp.aliceParams, LocalBalanceMsat: 5e9,
		RemoteBalanceMsat: 5e9, LocalScript: s, RemoteScript: s}
	w := ClosingTxWeight(s, s)
	f := FeesForRate(terms, 2500, 0)
	if f.Ideal != chainfee.SatPerKWeight(2500).FeeForWeight(w) ||
		f.Max != 3*f.Ideal ||
		f.Min != chainfee.FeePerKwFloor.FeeForWeight(w) {

		t.Fatalf("fees %+v for weight %d", f, w)
	}
	// 1 sat/vB (250 sat/kw) is below the relay floor: raised to it.
	if f := FeesForRate(terms, 250, 250); f.Max != f.Min || f.Ideal != f.Min {
		t.Fatalf("fees below the floor: %+v", f)
	}
	f = FeesForRate(terms, 2500, 1000)
	if f.Ideal != f.Max || f.Max != chainfee.SatPerKWeight(1000).FeeForWeight(w) {
		t.Fatalf("ideal not capped at max: %+v", f)
	}
}

// FuzzCloseNegotiation feeds fuzzed closing_signed messages to both sides
// of a negotiation: no panic, and any agreed transaction spends the
// funding output with valid signatures.
func FuzzCloseNegotiation(f *testing.F) {
	fees := CloseFees{Ideal: 1000, Min: 200, Max: 3000}
	seedPair := func() (*CloseNegotiation, *CloseNegotiation) {
		_, a, b := newCloseSides(f, fees, fees, 6_000_000_000, 4_000_000_000)
		return a, b
	}
	a, _ := seedPair()
	msg, _ := a.Start()
	var buf bytes.Buffer
	if err := msg.Encode(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes(), false)
	f.Add(buf.Bytes(), true)
	msg.FeeRange = nil
	buf.Reset()
	_ = msg.Encode(&buf)
	f.Add(buf.Bytes(), true)
	f.Fuzz(func(t *testing.T, data []byte, toOpener bool) {
		var m lnwire.ClosingSigned
		if err := m.Decode(bytes.NewReader(data)); err != nil {
			return
		}
		tp, a, b := newCloseSides(t, fees, fees, 6_000_000_000, 4_000_000_000)
		n := b
		if toOpener {
			n = a
			if _, err := a.Start(); err != nil {
				t.Fatal(err)
			}
		}
		m.ChanID = n.chanID
		for i := 0; i < 2; i++ {
			step, err := n.Receive(&m)
			if err != nil {
				var pe *PeerError
				if !errors.As(err, &pe) {
					t.Fatalf("error not a peer violation: %v", err)
				}
				continue
			}
			if step.Tx != nil {
				_, pk, _ := tp.aliceParams.FundingScript()
				checkSpends(t, step.Tx, pk, int64(tp.aliceParams.Capacity))
			}
		}
	})
}
