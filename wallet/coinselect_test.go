package wallet

import (
	"errors"
	"math/rand"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/chain"
)

var (
	p2wpkhScript = append([]byte{0x00, 0x14}, make([]byte, 20)...)
	p2trScript   = append([]byte{0x51, 0x20}, make([]byte, 32)...)
)

func testCoins(values ...btcutil.Amount) []coin {
	coins := make([]coin, len(values))
	for i, v := range values {
		coins[i] = coin{
			OutPoint: wire.OutPoint{Hash: chainhash.Hash{byte(i), byte(i >> 8)}, Index: uint32(i)},
			Value:    v,
			Weight:   inputWeight(AddressP2WPKH),
		}
	}
	return coins
}

// checkSelection verifies the accounting of a selection: inputs equal
// outputs plus change plus fee, the fee pays at least the rate for the
// transaction's weight, and change is never dust.
func checkSelection(t *testing.T, s *selection, outs []*wire.TxOut,
	rate chain.SatPerKWeight, changeScript []byte) {

	t.Helper()
	var in, out btcutil.Amount
	weights := make([]int64, len(s.Coins))
	seen := map[wire.OutPoint]bool{}
	for i, c := range s.Coins {
		if seen[c.OutPoint] {
			t.Fatalf("coin %v selected twice", c.OutPoint)
		}
		seen[c.OutPoint] = true
		in += c.Value
		weights[i] = c.Weight
	}
	all := outs
	for _, o := range outs {
		out += btcutil.Amount(o.Value)
	}
	if s.Change > 0 {
		if isDust(s.Change, changeScript) {
			t.Fatalf("dust change %v", s.Change)
		}
		all = append(append([]*wire.TxOut{}, outs...), &wire.TxOut{PkScript: changeScript})
	}
	if in != out+s.Change+s.Fee {
		t.Fatalf("in %v != out %v + change %v + fee %v", in, out, s.Change, s.Fee)
	}
	if min := txFee(rate, txWeight(weights, all)); s.Fee < min {
		t.Fatalf("fee %v below %v for the weight", s.Fee, min)
	}
}

func TestSelectCoins(t *testing.T) {
	rate := chain.SatPerKWeight(2500) // 10 sat/vB
	out := func(v int64) []*wire.TxOut { return []*wire.TxOut{wire.NewTxOut(v, p2trScript)} }
	fee1in := txFee(rate, txWeight([]int64{inputWeight(AddressP2WPKH)}, out(0)))

	tests := []struct {
		name       string
		coins      []btcutil.Amount
		amount     int64
		wantCoins  int
		wantChange bool
		wantErr    error
	}{
		{"exact single coin, no change", []btcutil.Amount{50_000, 1_000_000}, int64(50_000 - fee1in - 30), 1, false, nil},
		{"large coin with change", []btcutil.Amount{10_000_000}, 1_000_000, 1, true, nil},
		{"two coins needed", []btcutil.Amount{600_000, 600_000, 100}, 1_000_000, 2, true, nil},
		{"change would be dust: folded into fee", []btcutil.Amount{100_000}, int64(100_000 - fee1in - 400), 1, false, nil},
		{"insufficient", []btcutil.Amount{10_000, 20_000}, 40_000, 0, false, ErrInsufficientFunds},
		{"uneconomic coins ignored", []btcutil.Amount{500, 500, 500}, 1000, 0, false, ErrInsufficientFunds},
		{"no coins", nil, 1000, 0, false, ErrInsufficientFunds},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			outs := out(tc.amount)
			s, err := selectCoins(testCoins(tc.coins...), outs, rate, p2wpkhScript)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("got %v, want %v", err, tc.wantErr)
				}
				var ife *InsufficientFundsError
				if !errors.As(err, &ife) || ife.Needed <= ife.Available && len(tc.coins) > 0 && tc.name == "insufficient" {
					t.Fatalf("error %v lacks amounts", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkSelection(t, s, outs, rate, p2wpkhScript)
			if len(s.Coins) != tc.wantCoins {
				t.Fatalf("%d coins, want %d", len(s.Coins), tc.wantCoins)
			}
			if (s.Change > 0) != tc.wantChange {
				t.Fatalf("change %v, want change: %v", s.Change, tc.wantChange)
			}
		})
	}
}

func TestInsufficientFundsAmounts(t *testing.T) {
	_, err := selectCoins(testCoins(10_000, 20_000), []*wire.TxOut{wire.NewTxOut(40_000, p2wpkhScript)},
		1000, p2wpkhScript)
	var ife *InsufficientFundsError
	if !errors.As(err, &ife) {
		t.Fatalf("got %v", err)
	}
	if ife.Available != 30_000 || ife.Needed <= 40_000 {
		t.Fatalf("needed %v available %v", ife.Needed, ife.Available)
	}
}

func TestBranchAndBoundFindsChangeless(t *testing.T) {
	// 3+5 = 8 exactly; largest-first would take 10.
	got := branchAndBound([]btcutil.Amount{10, 5, 3, 1}, 8, 8)
	var sum btcutil.Amount
	vals := []btcutil.Amount{10, 5, 3, 1}
	for _, i := range got {
		sum += vals[i]
	}
	if sum != 8 {
		t.Fatalf("sum %d (%v)", sum, got)
	}
	if branchAndBound([]btcutil.Amount{10, 5}, 7, 8) != nil {
		t.Fatal("found impossible subset")
	}
	// Many equal values must not blow up the search.
	many := make([]btcutil.Amount, 500)
	for i := range many {
		many[i] = 1000
	}
	if branchAndBound(many, 1500, 1600) != nil {
		t.Fatal("found impossible subset among equal values")
	}
}

// TestSelectCoinsRandom checks the accounting invariants over random
// wallets and payments.
func TestSelectCoinsRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 2000; i++ {
		n := rng.Intn(30)
		vals := make([]btcutil.Amount, n)
		var total btcutil.Amount
		for j := range vals {
			vals[j] = btcutil.Amount(rng.Int63n(2_000_000) + 1)
			total += vals[j]
		}
		rate := chain.SatPerKWeight(253 + rng.Int63n(20_000))
		outs := []*wire.TxOut{wire.NewTxOut(rng.Int63n(int64(total)+1000)+330, p2trScript)}
		if rng.Intn(3) == 0 {
			outs = append(outs, wire.NewTxOut(rng.Int63n(100_000)+294, p2wpkhScript))
		}
		s, err := selectCoins(testCoins(vals...), outs, rate, p2wpkhScript)
		if err != nil {
			if !errors.Is(err, ErrInsufficientFunds) {
				t.Fatal(err)
			}
			continue
		}
		checkSelection(t, s, outs, rate, p2wpkhScript)
	}
}

func TestSelectAll(t *testing.T) {
	rate := chain.SatPerKWeight(1000)
	s, amt, err := selectAll(testCoins(100_000, 50_000, 200), p2wpkhScript, rate)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Coins) != 2 {
		t.Fatalf("%d coins: the uneconomic one should be left", len(s.Coins))
	}
	if amt+s.Fee != 150_000 {
		t.Fatalf("amount %v + fee %v", amt, s.Fee)
	}
	if _, _, err := selectAll(testCoins(300), p2wpkhScript, rate); !errors.Is(err, ErrInsufficientFunds) {
		t.Fatalf("dust sweep: %v", err)
	}
}

func TestDustLimits(t *testing.T) {
	if got := dustLimit(p2wpkhScript); got != 294 {
		t.Fatalf("p2wpkh dust limit %v", got)
	}
	if got := dustLimit(p2trScript); got != 330 {
		t.Fatalf("p2tr dust limit %v", got)
	}
	if err := validateOutputs([]*wire.TxOut{wire.NewTxOut(293, p2wpkhScript)}); !errors.Is(err, ErrDustAmount) {
		t.Fatalf("dust: %v", err)
	}
	for _, v := range []int64{0, -5} {
		if err := validateOutputs([]*wire.TxOut{wire.NewTxOut(v, p2wpkhScript)}); !errors.Is(err, ErrInvalidAmount) {
			t.Fatalf("%d: %v", v, err)
		}
	}
	if err := validateOutputs(nil); !errors.Is(err, ErrNoOutputs) {
		t.Fatal(err)
	}
}
