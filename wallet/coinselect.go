package wallet

import (
	"sort"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/mempool"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/chain"
)

// Transaction weights, in weight units (BIP 141).
const (
	// txOverheadWeight: version(4) and locktime(4) ×4, plus the segwit
	// marker and flag (2 WU). The input and output counts are added by
	// txWeight.
	txOverheadWeight = 8*4 + 2

	// inputBaseWeight: outpoint(36), empty script length(1), sequence(4).
	inputBaseWeight = 41 * 4

	// p2wpkhWitnessWeight: item count, a signature of at most 72 bytes
	// (DER, low-S, plus sighash byte) and a 33-byte key, each with its
	// length byte.
	p2wpkhWitnessWeight = 1 + 1 + 72 + 1 + 33

	// np2wpkhScriptSigWeight: the scriptSig of a BIP 49 input, one push
	// of the 22-byte P2WPKH redeem script (23 bytes), counted at base
	// weight. The empty script's length byte is in inputBaseWeight.
	np2wpkhScriptSigWeight = 23 * 4

	// p2trKeyWitnessWeight: item count and a 64-byte BIP 340 signature
	// with SIGHASH_DEFAULT.
	p2trKeyWitnessWeight = 1 + 1 + 64

	// maxBnBTries bounds branch-and-bound's search.
	maxBnBTries = 100_000

	// relayFeePerKB is btcd's and Core's default minimum relay fee, on
	// which the dust limits are based.
	relayFeePerKB btcutil.Amount = 1000
)

// inputWeight is the full weight an input of the given type adds.
func inputWeight(t AddressType) int64 {
	switch t {
	case AddressP2TR:
		return inputBaseWeight + p2trKeyWitnessWeight
	case AddressNP2WPKH:
		return inputBaseWeight + np2wpkhScriptSigWeight + p2wpkhWitnessWeight
	}
	return inputBaseWeight + p2wpkhWitnessWeight
}

// scriptSpendWeight is the weight of spending one of the wallet's output
// scripts later (the change output's cost of change).
func scriptSpendWeight(pkScript []byte) int64 {
	switch {
	case txscript.IsPayToTaproot(pkScript):
		return inputWeight(AddressP2TR)
	case txscript.IsPayToScriptHash(pkScript):
		return inputWeight(AddressNP2WPKH)
	}
	return inputWeight(AddressP2WPKH)
}

func varIntSize(n int) int64 { return int64(wire.VarIntSerializeSize(uint64(n))) }

func outputWeight(pkScriptLen int) int64 {
	return 4 * (8 + varIntSize(pkScriptLen) + int64(pkScriptLen))
}

// txWeight is the weight of a segwit transaction with these input weights
// and outputs.
func txWeight(inputs []int64, outputs []*wire.TxOut) int64 {
	w := int64(txOverheadWeight) + 4*(varIntSize(len(inputs))+varIntSize(len(outputs)))
	for _, iw := range inputs {
		w += iw
	}
	for _, o := range outputs {
		w += outputWeight(len(o.PkScript))
	}
	return w
}

// isDust applies the relay policy's dust rule to an output.
func isDust(value btcutil.Amount, pkScript []byte) bool {
	return mempool.IsDust(&wire.TxOut{Value: int64(value), PkScript: pkScript},
		relayFeePerKB)
}

// coin is a spendable output offered to coin selection.
type coin struct {
	OutPoint wire.OutPoint
	Value    btcutil.Amount
	Weight   int64 // weight of spending it, witness included
	Rec      *utxoRec
}

// selection is the result of coin selection.
type selection struct {
	Coins  []coin
	Change btcutil.Amount // 0: no change output
	Fee    btcutil.Amount
}

// selectCoins picks coins paying outputs at feeRate, with a change output
// paying changeScript when one is worth having. It first looks for an
// input set that needs no change (branch and bound, within the cost of a
// change output), then falls back to largest-first with change. A change
// amount below the dust limit is never created: it goes to the fee.
func selectCoins(candidates []coin, outputs []*wire.TxOut,
	feeRate chain.SatPerKWeight, changeScript []byte) (*selection, error) {

	var target btcutil.Amount
	for _, o := range outputs {
		target += btcutil.Amount(o.Value)
	}

	// Effective values: what each coin adds after paying for itself.
	type eff struct {
		c   coin
		eff btcutil.Amount
	}
	var coins []eff
	var available btcutil.Amount
	for _, c := range candidates {
		available += c.Value
		e := c.Value - feeCeil(feeRate, c.Weight)
		if e > 0 {
			coins = append(coins, eff{c, e})
		}
	}
	sort.SliceStable(coins, func(i, j int) bool { return coins[i].eff > coins[j].eff })

	// The fee of everything but the inputs; the input count's varint is
	// taken at its 3-byte size so the estimate never falls short.
	noInputs := txWeight(nil, outputs) + 2*4 + 3 // +3: vsize rounds up
	baseFee := feeCeil(feeRate, noInputs)
	changeOut := &wire.TxOut{PkScript: changeScript}
	changeFee := feeCeil(feeRate, outputWeight(len(changeScript)))
	costOfChange := changeFee + feeCeil(feeRate, scriptSpendWeight(changeScript))

	need := target + baseFee

	finish := func(chosen []coin, withChange bool) *selection {
		var total btcutil.Amount
		weights := make([]int64, len(chosen))
		for i, c := range chosen {
			total += c.Value
			weights[i] = c.Weight
		}
		outs := outputs
		if withChange {
			outs = append(append([]*wire.TxOut{}, outputs...), changeOut)
		}
		fee := txFee(feeRate, txWeight(weights, outs))
		s := &selection{Coins: chosen}
		if withChange {
			change := total - target - fee
			if change > 0 && !isDust(change, changeScript) {
				s.Change = change
				s.Fee = fee
				return s
			}
		}
		s.Fee = total - target
		return s
	}

	// Branch and bound for a changeless match in [need, need+costOfChange].
	effs := make([]btcutil.Amount, len(coins))
	for i, c := range coins {
		effs[i] = c.eff
	}
	if idx := branchAndBound(effs, need, need+costOfChange); idx != nil {
		chosen := make([]coin, len(idx))
		for i, j := range idx {
			chosen[i] = coins[j].c
		}
		return finish(chosen, false), nil
	}

	// Largest first, aiming to leave room for a change output.
	var chosen []coin
	var sum btcutil.Amount
	for _, c := range coins {
		chosen = append(chosen, c.c)
		sum += c.eff
		if sum >= need+changeFee {
			return finish(chosen, true), nil
		}
	}
	if sum >= need {
		return finish(chosen, false), nil
	}

	// Not enough. Report what paying with every coin would need.
	weights := make([]int64, len(candidates))
	for i, c := range candidates {
		weights[i] = c.Weight
	}
	return nil, &InsufficientFundsError{
		Needed:    target + txFee(feeRate, txWeight(weights, outputs)),
		Available: available,
	}
}

// txFee is the fee of a whole transaction: the rate times its virtual size
// rounded up, as relay policy measures it.
func txFee(r chain.SatPerKWeight, weight int64) btcutil.Amount {
	return r.FeeForVSize((weight + 3) / 4)
}

// feeCeil is the fee for weight rounded up, so that fees estimated piece
// by piece never add up to less than the fee of the whole.
func feeCeil(r chain.SatPerKWeight, weight int64) btcutil.Amount {
	return (btcutil.Amount(r)*btcutil.Amount(weight) + 999) / 1000
}

// branchAndBound searches, depth first with values sorted descending, for a
// subset whose sum lies in [lo, hi], preferring the smallest excess over lo.
// It returns the indexes of the best subset, or nil.
func branchAndBound(values []btcutil.Amount, lo, hi btcutil.Amount) []int {
	if lo <= 0 {
		return nil
	}
	remaining := make([]btcutil.Amount, len(values)+1)
	for i := len(values) - 1; i >= 0; i-- {
		remaining[i] = remaining[i+1] + values[i]
	}
	if remaining[0] < lo {
		return nil
	}

	var (
		best       []int
		bestExcess btcutil.Amount = -1
		cur        []int
		tries      int
	)
	var walk func(i int, sum btcutil.Amount)
	walk = func(i int, sum btcutil.Amount) {
		tries++
		if tries > maxBnBTries || bestExcess == 0 {
			return
		}
		if sum > hi {
			return
		}
		if sum >= lo {
			if ex := sum - lo; bestExcess < 0 || ex < bestExcess {
				bestExcess = ex
				best = append(best[:0], cur...)
			}
			return
		}
		if i == len(values) || sum+remaining[i] < lo {
			return
		}
		cur = append(cur, i)
		walk(i+1, sum+values[i])
		cur = cur[:len(cur)-1]
		// Skipping a value equal to the one just tried explores the
		// same sums again.
		j := i + 1
		for j < len(values) && values[j] == values[i] {
			j++
		}
		walk(j, sum)
	}
	walk(0, 0)
	if best == nil {
		return nil
	}
	return append([]int(nil), best...)
}

// spendExactly spends every one of coins to outputs, with a change output
// paying changeScript when the rest is not dust (else it goes to the fee).
// Coins that cannot pay outputs and the fee are an InsufficientFundsError.
func spendExactly(coins []coin, outputs []*wire.TxOut,
	feeRate chain.SatPerKWeight, changeScript []byte) (*selection, error) {

	var target, total btcutil.Amount
	for _, o := range outputs {
		target += btcutil.Amount(o.Value)
	}
	weights := make([]int64, len(coins))
	for i, c := range coins {
		total += c.Value
		weights[i] = c.Weight
	}
	withChange := append(append([]*wire.TxOut{}, outputs...), &wire.TxOut{PkScript: changeScript})
	fee := txFee(feeRate, txWeight(weights, withChange))
	if change := total - target - fee; change > 0 && !isDust(change, changeScript) {
		return &selection{Coins: coins, Change: change, Fee: fee}, nil
	}
	fee = txFee(feeRate, txWeight(weights, outputs))
	if total < target+fee {
		return nil, &InsufficientFundsError{Needed: target + fee, Available: total}
	}
	return &selection{Coins: coins, Fee: total - target}, nil
}

// selectAll spends every candidate to one output paying pkScript.
func selectAll(candidates []coin, pkScript []byte,
	feeRate chain.SatPerKWeight) (*selection, btcutil.Amount, error) {

	var chosen []coin
	var total btcutil.Amount
	var weights []int64
	var available btcutil.Amount
	for _, c := range candidates {
		available += c.Value
		if c.Value <= feeCeil(feeRate, c.Weight) {
			continue // costs more to spend than it is worth
		}
		chosen = append(chosen, c)
		total += c.Value
		weights = append(weights, c.Weight)
	}
	out := &wire.TxOut{PkScript: pkScript}
	fee := txFee(feeRate, txWeight(weights, []*wire.TxOut{out}))
	if len(chosen) == 0 || total-fee <= 0 {
		return nil, 0, &InsufficientFundsError{Needed: fee, Available: available}
	}
	amt := total - fee
	if isDust(amt, pkScript) {
		return nil, 0, &InsufficientFundsError{Needed: fee + dustLimit(pkScript),
			Available: available}
	}
	return &selection{Coins: chosen, Fee: fee}, amt, nil
}

// dustLimit is the smallest non-dust amount for pkScript.
func dustLimit(pkScript []byte) btcutil.Amount {
	lo, hi := btcutil.Amount(0), btcutil.Amount(1_000_000)
	for lo < hi {
		mid := (lo + hi) / 2
		if isDust(mid, pkScript) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}
