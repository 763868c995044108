package wallet

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/mempool"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	"lnd.xprv/channeldb/kvdb"

	"lnd.xprv/chain"
)

// LockID names the owner of output leases, as lnd's FundPsbt lock ids do.
type LockID [32]byte

// DefaultLeaseDuration is how long Fund and LeaseOutput hold coins when
// the caller gives no duration.
const DefaultLeaseDuration = 10 * time.Minute

// FeePreference is a fee rate given explicitly or as a confirmation
// target for the backend's estimator. The zero value means
// DefaultConfTarget.
type FeePreference struct {
	// SatPerKWeight, if set, is the rate exactly (lnd's sat_per_kw).
	SatPerKWeight chain.SatPerKWeight
	SatPerVByte   chain.SatPerVByte
	ConfTarget    uint32
}

// maxSatPerVByte guards against typos in fee rates; it is not a policy.
const maxSatPerVByte = 100_000

// FeeRate resolves a fee preference. Rates below the backend's relay floor
// are raised to it.
func (w *Wallet) FeeRate(ctx context.Context, pref FeePreference) (chain.SatPerKWeight, error) {
	if w.cfg.Chain == nil {
		return 0, errors.New("wallet: no chain backend")
	}
	if pref.SatPerVByte < 0 || pref.SatPerKWeight < 0 {
		return 0, fmt.Errorf("negative fee rate %+v", pref)
	}
	if pref.SatPerVByte > maxSatPerVByte ||
		pref.SatPerKWeight > chain.SatPerVByte(maxSatPerVByte).FeePerKWeight() {
		return 0, fmt.Errorf("fee rate %+v above the %d sat/vB sanity limit",
			pref, maxSatPerVByte)
	}
	var rate chain.SatPerKWeight
	switch {
	case pref.SatPerKWeight > 0:
		rate = pref.SatPerKWeight
	case pref.SatPerVByte > 0:
		rate = pref.SatPerVByte.FeePerKWeight()
	default:
		target := pref.ConfTarget
		if target == 0 {
			target = DefaultConfTarget
		}
		var err error
		if rate, err = w.cfg.Chain.EstimateFeePerKW(ctx, target); err != nil {
			return 0, fmt.Errorf("estimate fee for %d blocks: %w", target, err)
		}
	}
	floor := max(w.cfg.Chain.RelayFeePerKW(), chain.FeePerKwFloor)
	return max(rate, floor), nil
}

// ParseAddress decodes an address for the wallet's network. An address
// of another network is ErrWrongNetwork, anything else unreadable
// ErrInvalidAddress (both match ErrInvalidAddress).
func (w *Wallet) ParseAddress(s string) (btcutil.Address, error) {
	return parseAddress(s, w.cfg.Net)
}

func parseAddress(s string, net *chaincfg.Params) (btcutil.Address, error) {
	addr, err := btcutil.DecodeAddress(s, net)
	if err == nil && addr.IsForNet(net) {
		return addr, nil
	}
	for _, other := range []*chaincfg.Params{&chaincfg.MainNetParams,
		&chaincfg.TestNet3Params, &chaincfg.RegressionNetParams,
		&chaincfg.SigNetParams, &chaincfg.SimNetParams} {
		if other.Net == net.Net {
			continue
		}
		if a, err := btcutil.DecodeAddress(s, other); err == nil && a.IsForNet(other) {
			return nil, fmt.Errorf("%w: %w: %q is a %s address, wallet is on %s",
				ErrInvalidAddress, ErrWrongNetwork, s, other.Name, net.Name)
		}
	}
	if err == nil {
		err = errors.New("not for this network")
	}
	return nil, fmt.Errorf("%w: %q: %v", ErrInvalidAddress, s, err)
}

// validateOutputs refuses empty sends, non-positive and dust amounts.
func validateOutputs(outs []*wire.TxOut) error {
	if len(outs) == 0 {
		return ErrNoOutputs
	}
	for i, o := range outs {
		if o.Value <= 0 || o.Value > btcutil.MaxSatoshi {
			return fmt.Errorf("%w: output %d is %d sat", ErrInvalidAmount, i, o.Value)
		}
		if len(o.PkScript) == 0 {
			return fmt.Errorf("output %d has no script", i)
		}
		if txscript.IsUnspendable(o.PkScript) {
			continue // OP_RETURN carries no value rule here
		}
		if isDust(btcutil.Amount(o.Value), o.PkScript) {
			return fmt.Errorf("%w: output %d of %v is below the dust "+
				"limit %v", ErrDustAmount, i, btcutil.Amount(o.Value),
				dustLimit(o.PkScript))
		}
	}
	return nil
}

// tipHeight returns the height of the last scanned block (-1 if none).
func tipHeight(tx kvdb.RTx) (int32, error) {
	t, ok, err := getTip(tx)
	if err != nil || !ok {
		return -1, err
	}
	return t.Height, nil
}

// confirmations of an output or transaction at height, seen from tip.
func confirmations(height, tip int32) int32 {
	if height == unconfirmed || tip < height {
		return 0
	}
	return tip - height + 1
}

// spendable returns the wallet's outputs that may be spent now: at least
// minConfs deep, mature if coinbase, not leased.
func (w *Wallet) spendable(tx kvdb.RTx, minConfs int32) ([]coin, error) {
	tipH, err := tipHeight(tx)
	if err != nil {
		return nil, err
	}
	now := w.now()
	var coins []coin
	err = tx.ReadBucket(bucketUtxos).ForEach(func(k, v []byte) error {
		op, err := parseOutpointKey(k)
		if err != nil {
			return err
		}
		u, err := decodeUtxo(v, false)
		if err != nil {
			return err
		}
		confs := confirmations(u.Height, tipH)
		if confs < minConfs {
			return nil
		}
		if u.Coinbase && confs < int32(w.cfg.Net.CoinbaseMaturity) {
			return nil
		}
		l, err := getLease(tx, op)
		if err != nil {
			return err
		}
		if l != nil && now.Before(l.Expiry) {
			return nil
		}
		coins = append(coins, coin{OutPoint: op, Value: u.Value,
			Weight: inputWeight(u.Deriv.Type), Rec: u})
		return nil
	})
	return coins, err
}

// peekAddress returns the next unused derivation of a branch. Called
// with mu held.
func (w *Wallet) peekAddress(tx kvdb.RTx, t AddressType, branch uint8) (derivation, []byte, error) {
	id := [2]uint8{uint8(t), branch}
	// Never hand out an address seen used on chain (a restored wallet
	// knows of use before it hands anything out).
	idx := max(getUint32(tx.ReadBucket(bucketAddrs), id[:]),
		getUint32(tx.ReadBucket(bucketUsed), id[:]))
	if idx >= hardened {
		return derivation{}, nil, errors.New("address index space exhausted")
	}
	d := derivation{Type: t, Branch: branch, Index: idx}
	script, err := w.scriptFor(d)
	if err != nil {
		return d, nil, err
	}
	return d, script, nil
}

// nextAddress is peekAddress that also advances the branch's counter.
func (w *Wallet) nextAddress(tx kvdb.RwTx, t AddressType, branch uint8) (derivation, []byte, error) {
	d, script, err := w.peekAddress(tx, t, branch)
	if err != nil {
		return d, nil, err
	}
	id := [2]uint8{uint8(t), branch}
	if err := tx.ReadWriteBucket(bucketAddrs).Put(id[:], u32(d.Index+1)); err != nil {
		return d, nil, err
	}
	return d, script, nil
}

// buildTx assembles an unsigned transaction from a selection, placing the
// change output (if any) at a random position, with lock time and every
// input's sequence as given. Returns the change index or -1.
func buildTx(sel *selection, outputs []*wire.TxOut, changeScript []byte,
	lockTime, sequence uint32) (*wire.MsgTx, int, error) {

	msg := wire.NewMsgTx(2)
	msg.LockTime = lockTime
	for _, c := range sel.Coins {
		in := wire.NewTxIn(&c.OutPoint, nil, nil)
		in.Sequence = sequence
		msg.AddTxIn(in)
	}
	for _, o := range outputs {
		msg.AddTxOut(wire.NewTxOut(o.Value, o.PkScript))
	}
	changeIdx := -1
	if sel.Change > 0 {
		n, err := randInt(int64(len(outputs) + 1))
		if err != nil {
			return nil, 0, err
		}
		changeIdx = int(n)
		out := wire.NewTxOut(int64(sel.Change), changeScript)
		msg.TxOut = append(msg.TxOut, nil)
		copy(msg.TxOut[changeIdx+1:], msg.TxOut[changeIdx:])
		msg.TxOut[changeIdx] = out
	}
	return msg, changeIdx, nil
}

// randInt is a uniform integer in [0, n) from crypto/rand.
func randInt(n int64) (int64, error) {
	v, err := rand.Int(rand.Reader, big.NewInt(n))
	if err != nil {
		return 0, err
	}
	return v.Int64(), nil
}

// Anti-fee-sniping, as Bitcoin Core's wallet does it (DiscourageFeeSniping).
const (
	// maxFeeSnipingTipAge: a tip older than this means the wallet is
	// catching up, and the lock time is left at 0.
	maxFeeSnipingTipAge = 8 * time.Hour

	// feeSnipingBackdate: one transaction in feeSnipingOneIn gets a
	// lock time up to feeSnipingBackdate-1 blocks below the tip.
	feeSnipingBackdate = 100
	feeSnipingOneIn    = 10

	// sendSequence is the sequence of every input of a wallet send:
	// not final, so that the lock time is enforced, and signalling
	// BIP 125 replaceability, as Core's wallet does by default
	// (walletrbf=1).
	sendSequence = mempool.MaxRBFSequence
)

// feeSnipingLockTime is the nLockTime of a new send. The tip height makes
// the transaction valid only in the next block, so a miner re-mining the
// tip to take its fee gains nothing; one time in ten it is up to 99 blocks
// lower, so that transactions whose sending was delayed do not stand out.
// With no recent tip (the wallet catching up) it is 0, as in Core.
func feeSnipingLockTime(tip int32, tipTime, now time.Time,
	randn func(int64) (int64, error)) (uint32, error) {

	if tip <= 0 || tipTime.IsZero() || now.Sub(tipTime) > maxFeeSnipingTipAge {
		return 0, nil
	}
	lock := int64(tip)
	n, err := randn(feeSnipingOneIn)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		back, err := randn(feeSnipingBackdate)
		if err != nil {
			return 0, err
		}
		lock = max(0, lock-back)
	}
	return uint32(lock), nil
}

// sendLockTime is feeSnipingLockTime at the wallet's tip. Called with mu
// held.
func (w *Wallet) sendLockTime(tx kvdb.RwTx) (uint32, error) {
	tipH, err := tipHeight(tx)
	if err != nil {
		return 0, err
	}
	return feeSnipingLockTime(tipH, w.tipTime, w.now(), randInt)
}

// signInputs signs every input of msg; each must spend a wallet output
// (unspent, or leased to the caller). Called with mu held.
func (w *Wallet) signInputs(tx kvdb.RTx, msg *wire.MsgTx) error {
	if w.keys == nil {
		return ErrLocked
	}
	prevs := make(map[wire.OutPoint]*wire.TxOut, len(msg.TxIn))
	recs := make([]*utxoRec, len(msg.TxIn))
	for i, in := range msg.TxIn {
		v := tx.ReadBucket(bucketUtxos).Get(outpointKey(in.PreviousOutPoint))
		if v == nil {
			return fmt.Errorf("%w: input %d spends %v", ErrUnknownOutput,
				i, in.PreviousOutPoint)
		}
		u, err := decodeUtxo(v, false)
		if err != nil {
			return err
		}
		recs[i] = u
		prevs[in.PreviousOutPoint] = wire.NewTxOut(int64(u.Value), u.PkScript)
	}
	fetcher := txscript.NewMultiPrevOutFetcher(prevs)
	hashes := txscript.NewTxSigHashes(msg, fetcher)
	for i, u := range recs {
		wit, sigScript, err := w.signInput(msg, hashes, i, u)
		if err != nil {
			return err
		}
		msg.TxIn[i].Witness, msg.TxIn[i].SignatureScript = wit, sigScript
	}
	// Verify what we signed before anything leaves: a bad signature
	// found here is a bug, found by the network it is a stuck payment.
	for i, u := range recs {
		if err := verifyInput(msg, hashes, fetcher, i, u); err != nil {
			return err
		}
	}
	return nil
}

// signInput returns the witness and scriptSig (nil unless nested) of
// input i, which spends the wallet output u. msg is not changed. Called
// with mu held and the wallet unlocked.
func (w *Wallet) signInput(msg *wire.MsgTx, hashes *txscript.TxSigHashes,
	i int, u *utxoRec) (wire.TxWitness, []byte, error) {

	priv, err := w.keys.walletKey(u.Deriv)
	if err != nil {
		return nil, nil, err
	}
	var (
		wit       wire.TxWitness
		sigScript []byte
	)
	switch u.Deriv.Type {
	case AddressP2WPKH:
		wit, err = txscript.WitnessSignature(msg, hashes, i,
			int64(u.Value), u.PkScript, txscript.SigHashAll, priv, true)
	case AddressNP2WPKH:
		// BIP 49: the witness is P2WPKH's, and the scriptSig pushes
		// the P2WPKH program as the redeem script, which is also the
		// script signed for.
		var redeem []byte
		if redeem, err = witnessKeyHashScript(priv.PubKey()); err != nil {
			break
		}
		wit, err = txscript.WitnessSignature(msg, hashes, i,
			int64(u.Value), redeem, txscript.SigHashAll, priv, true)
		if err != nil {
			break
		}
		sigScript, err = txscript.NewScriptBuilder().AddData(redeem).Script()
	case AddressP2TR:
		wit, err = txscript.TaprootWitnessSignature(msg, hashes, i,
			int64(u.Value), u.PkScript, txscript.SigHashDefault, priv)
	default:
		err = fmt.Errorf("%w: address type %v", ErrUnknownKey, u.Deriv.Type)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("sign input %d: %w", i, err)
	}
	return wit, sigScript, nil
}

// verifyInput runs the script of input i, which spends u.
func verifyInput(msg *wire.MsgTx, hashes *txscript.TxSigHashes,
	fetcher txscript.PrevOutputFetcher, i int, u *utxoRec) error {

	vm, err := txscript.NewEngine(u.PkScript, msg, i,
		txscript.StandardVerifyFlags, nil, hashes, int64(u.Value), fetcher)
	if err != nil {
		return fmt.Errorf("verify input %d: %w", i, err)
	}
	if err := vm.Execute(); err != nil {
		return fmt.Errorf("verify input %d: %w", i, err)
	}
	return nil
}

// sendChangeType is the change of SendOutputs: P2TR whatever the inputs,
// as lnd's SendCoins and SendOutputs make it for the default account
// (btcwallet falls back to the BIP 86 scope when no change scope is given).
// lnd matches change to inputs only for a custom account of one type,
// which xlnd does not have. Fund (lnd's FundPsbt) uses P2WPKH unless asked.
const sendChangeType = AddressP2TR

// SendOutputs pays outputs from coins at least minConfs deep, with change
// back to the wallet, signs, records and broadcasts the transaction. The
// record is on disk before the broadcast, so a crash between the two is
// repaired by the rebroadcast at the next start.
func (w *Wallet) SendOutputs(ctx context.Context, outputs []*wire.TxOut,
	fee FeePreference, minConfs int32, label string) (*wire.MsgTx, error) {

	if err := validateOutputs(outputs); err != nil {
		return nil, err
	}
	rate, err := w.FeeRate(ctx, fee)
	if err != nil {
		return nil, err
	}
	return w.sendRecorded(ctx, label, func(tx kvdb.RwTx) (*wire.MsgTx, error) {
		coins, err := w.spendable(tx, minConfs)
		if err != nil {
			return nil, err
		}
		changeD, changeScript, err := w.peekAddress(tx, sendChangeType,
			branchChange)
		if err != nil {
			return nil, err
		}
		sel, err := selectCoins(coins, outputs, rate, changeScript)
		if err != nil {
			return nil, err
		}
		lockTime, err := w.sendLockTime(tx)
		if err != nil {
			return nil, err
		}
		msg, _, err := buildTx(sel, outputs, changeScript, lockTime, sendSequence)
		if err != nil {
			return nil, err
		}
		if sel.Change > 0 {
			if _, _, err := w.nextAddress(tx, changeD.Type, changeD.Branch); err != nil {
				return nil, err
			}
		}
		return msg, w.signInputs(tx, msg)
	})
}

// EstimateFee returns the fee and rate a SendOutputs with the same
// arguments would pay now, without spending or locking anything.
func (w *Wallet) EstimateFee(ctx context.Context, outputs []*wire.TxOut,
	fee FeePreference, minConfs int32) (btcutil.Amount, chain.SatPerKWeight, error) {

	if err := validateOutputs(outputs); err != nil {
		return 0, 0, err
	}
	rate, err := w.FeeRate(ctx, fee)
	if err != nil {
		return 0, 0, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var total btcutil.Amount
	err = w.db.View(func(tx kvdb.RTx) error {
		coins, err := w.spendable(tx, minConfs)
		if err != nil {
			return err
		}
		_, changeScript, err := w.peekAddress(tx, sendChangeType, branchChange)
		if err != nil {
			return err
		}
		sel, err := selectCoins(coins, outputs, rate, changeScript)
		if err != nil {
			return err
		}
		total = sel.Fee
		return nil
	})
	return total, rate, err
}

// SendToAddress pays amt to an address string.
func (w *Wallet) SendToAddress(ctx context.Context, address string,
	amt btcutil.Amount, fee FeePreference, minConfs int32,
	label string) (*wire.MsgTx, error) {

	addr, err := w.ParseAddress(address)
	if err != nil {
		return nil, err
	}
	script, err := txscript.PayToAddrScript(addr)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidAddress, err)
	}
	return w.SendOutputs(ctx, []*wire.TxOut{wire.NewTxOut(int64(amt), script)},
		fee, minConfs, label)
}

// SendAll sweeps every spendable coin at least minConfs deep (leased coins
// excepted) to one address, less the fee.
func (w *Wallet) SendAll(ctx context.Context, address string,
	fee FeePreference, minConfs int32, label string) (*wire.MsgTx, error) {

	return w.sendAll(ctx, address, fee, minConfs, label, nil)
}

// SendAllFrom is SendAll of exactly the wallet outputs ops, confirmed or
// not (lnd's SendCoins with send_all and outpoints; a child paying for
// its unconfirmed parent). Each must be a spendable wallet output that is
// not leased.
func (w *Wallet) SendAllFrom(ctx context.Context, address string,
	fee FeePreference, ops []wire.OutPoint, label string) (*wire.MsgTx, error) {

	if len(ops) == 0 {
		return nil, ErrNoOutputs
	}
	return w.sendAll(ctx, address, fee, 0, label, ops)
}

// sendAll sends the spendable coins of minConfs confirmations, or only
// the outputs ops of them (nil: all), to address, less the fee.
func (w *Wallet) sendAll(ctx context.Context, address string, fee FeePreference,
	minConfs int32, label string, ops []wire.OutPoint) (*wire.MsgTx, error) {

	addr, err := w.ParseAddress(address)
	if err != nil {
		return nil, err
	}
	script, err := txscript.PayToAddrScript(addr)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidAddress, err)
	}
	rate, err := w.FeeRate(ctx, fee)
	if err != nil {
		return nil, err
	}
	return w.sendRecorded(ctx, label, func(tx kvdb.RwTx) (*wire.MsgTx, error) {
		coins, err := w.spendable(tx, minConfs)
		if err != nil {
			return nil, err
		}
		if ops != nil {
			if coins, err = w.pickCoins(tx, coins, ops); err != nil {
				return nil, err
			}
		}
		sel, amt, err := selectAll(coins, script, rate)
		if err != nil {
			return nil, err
		}
		lockTime, err := w.sendLockTime(tx)
		if err != nil {
			return nil, err
		}
		msg, _, err := buildTx(sel, []*wire.TxOut{wire.NewTxOut(int64(amt), script)},
			nil, lockTime, sendSequence)
		if err != nil {
			return nil, err
		}
		return msg, w.signInputs(tx, msg)
	})
}

// broadcastRecorded broadcasts a transaction already recorded. A refusal
// by the backend undoes the record (the coins are free again); any other
// failure leaves it for the rebroadcast at the next start.
func (w *Wallet) broadcastRecorded(ctx context.Context, msg *wire.MsgTx) error {
	if hook := w.beforeBroadcast; hook != nil {
		if err := hook(msg); err != nil {
			return err
		}
	}
	err := w.cfg.Chain.Broadcast(ctx, msg)
	switch {
	case err == nil, errors.Is(err, chain.ErrTxAlreadyKnown):
		return nil
	case errors.Is(err, chain.ErrTxRejected):
		w.mu.Lock()
		defer w.mu.Unlock()
		if rerr := w.db.Update(func(tx kvdb.RwTx) error {
			// Only an unconfirmed record is undone: a refusal of a
			// transaction the chain already holds changes nothing.
			r, err := getTxRec(tx, msg.TxHash())
			if err != nil || r == nil || r.Height != unconfirmed {
				return err
			}
			return w.removeTx(tx, msg.TxHash())
		}); rerr != nil {
			w.log.Error("undo rejected transaction", "txid", msg.TxHash(), "err", rerr)
		}
		return fmt.Errorf("broadcast: %w", err)
	default:
		w.log.Warn("broadcast failed; recorded, will rebroadcast",
			"txid", msg.TxHash(), "err", err)
		return fmt.Errorf("broadcast (transaction recorded, will be "+
			"rebroadcast): %w", err)
	}
}

// FundRequest asks Fund for inputs and change for a set of outputs.
type FundRequest struct {
	Outputs  []*wire.TxOut
	FeeRate  chain.SatPerKWeight
	MinConfs int32

	// LockID owns the leases; zero picks a random one.
	LockID LockID

	// LeaseDuration defaults to DefaultLeaseDuration.
	LeaseDuration time.Duration

	// ChangeType is the type of the change output; the zero value is
	// P2WPKH, lnd's FundPsbt default (CHANGE_ADDRESS_TYPE_UNSPECIFIED).
	ChangeType AddressType

	// Inputs, if any, are the coins to spend, all of them and no other,
	// in this order (lnd's FundPsbt with a template that names inputs).
	// Each must be a wallet output spendable now: MinConfs deep, mature,
	// not leased.
	Inputs []wire.OutPoint
}

// FundedTx is an unsigned transaction whose inputs are leased to its
// LockID until Expiry.
type FundedTx struct {
	Tx          *wire.MsgTx
	Inputs      []Utxo
	ChangeIndex int // -1: no change output
	Fee         btcutil.Amount
	LockID      LockID
	Expiry      time.Time
}

// Fund selects and leases coins for outputs and adds change, returning
// the unsigned transaction (as lnd's FundPsbt). Concurrent Fund calls never
// select the same coin. Sign it with SignTx and publish it with PublishTx,
// or give the coins back with ReleaseOutput.
func (w *Wallet) Fund(ctx context.Context, req FundRequest) (*FundedTx, error) {
	if err := validateOutputs(req.Outputs); err != nil {
		return nil, err
	}
	if !req.ChangeType.valid() {
		return nil, fmt.Errorf("unknown change type %d", req.ChangeType)
	}
	if w.cfg.Chain != nil {
		req.FeeRate = max(req.FeeRate, w.cfg.Chain.RelayFeePerKW())
	}
	req.FeeRate = max(req.FeeRate, chain.FeePerKwFloor)
	if req.LeaseDuration <= 0 {
		req.LeaseDuration = DefaultLeaseDuration
	}
	if req.LockID == (LockID{}) {
		if _, err := rand.Read(req.LockID[:]); err != nil {
			return nil, err
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	res := &FundedTx{LockID: req.LockID, Expiry: w.now().Add(req.LeaseDuration)}
	var watch [][]byte
	err := w.updateIndexed(func(tx kvdb.RwTx) error {
		coins, err := w.spendable(tx, req.MinConfs)
		if err != nil {
			return err
		}
		changeD, changeScript, err := w.peekAddress(tx, req.ChangeType, branchChange)
		if err != nil {
			return err
		}
		var sel *selection
		if len(req.Inputs) > 0 {
			if coins, err = w.pickCoins(tx, coins, req.Inputs); err != nil {
				return err
			}
			sel, err = spendExactly(coins, req.Outputs, req.FeeRate, changeScript)
		} else {
			sel, err = selectCoins(coins, req.Outputs, req.FeeRate, changeScript)
		}
		if err != nil {
			return err
		}
		// The caller signs and publishes: lock time and sequences are
		// the plain ones of lnd's FundPsbt, for the caller to change.
		res.Tx, res.ChangeIndex, err = buildTx(sel, req.Outputs, changeScript,
			0, wire.MaxTxInSequenceNum)
		if err != nil {
			return err
		}
		res.Fee = sel.Fee
		if sel.Change > 0 {
			if _, _, err := w.nextAddress(tx, changeD.Type, changeD.Branch); err != nil {
				return err
			}
			// The change output is the wallet's from now on, so a
			// published funding transaction is recognised.
			watch, err = w.extendHorizon(tx)
			if err != nil {
				return err
			}
		}
		tipH, err := tipHeight(tx)
		if err != nil {
			return err
		}
		for _, c := range sel.Coins {
			if err := putLease(tx, c.OutPoint, lease{ID: req.LockID,
				Expiry: res.Expiry}); err != nil {
				return err
			}
			res.Inputs = append(res.Inputs, w.utxoView(c.OutPoint, c.Rec, tipH, true))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	w.watch(watch, nil)
	return res, nil
}

// pickCoins returns the coins named by ops, in that order, from the
// spendable ones. A coin not among them is leased (ErrOutputLeased) or
// not a spendable wallet output (ErrUnknownOutput). Called with mu held.
func (w *Wallet) pickCoins(tx kvdb.RwTx, spendable []coin, ops []wire.OutPoint) ([]coin, error) {
	byOutpoint := make(map[wire.OutPoint]coin, len(spendable))
	for _, c := range spendable {
		byOutpoint[c.OutPoint] = c
	}
	picked := make([]coin, 0, len(ops))
	for _, op := range ops {
		c, ok := byOutpoint[op]
		if ok {
			picked = append(picked, c)
			delete(byOutpoint, op) // a second mention is refused below
			continue
		}
		l, err := getLease(tx, op)
		if err != nil {
			return nil, err
		}
		if l != nil && w.now().Before(l.Expiry) {
			return nil, fmt.Errorf("%w: %v until %v", ErrOutputLeased, op, l.Expiry)
		}
		return nil, fmt.Errorf("%w: %v is not a wallet output spendable now "+
			"(or is named twice)", ErrUnknownOutput, op)
	}
	return picked, nil
}

// SignTx signs every input of msg. Each must spend an unspent wallet
// output (typically leased by Fund).
func (w *Wallet) SignTx(msg *wire.MsgTx) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.db.View(func(tx kvdb.RTx) error { return w.signInputs(tx, msg) })
}

// PublishTx records a signed transaction (its wallet inputs spent, its
// wallet outputs added, unconfirmed) and then broadcasts it. A refusal by
// the backend undoes the record.
func (w *Wallet) PublishTx(ctx context.Context, msg *wire.MsgTx, label string) error {
	_, err := w.sendRecorded(ctx, label, func(kvdb.RwTx) (*wire.MsgTx, error) {
		return msg, nil
	})
	return err
}

// sendRecorded is how every send ends. In one database transaction, build
// makes (and signs) the transaction and it is recorded as the wallet's:
// its inputs spent, its outputs added, unconfirmed. Only then is it
// watched and broadcast, so a crash in between is repaired by the
// rebroadcast at the next start; a refusal by the backend undoes the
// record.
func (w *Wallet) sendRecorded(ctx context.Context, label string,
	build func(tx kvdb.RwTx) (*wire.MsgTx, error)) (*wire.MsgTx, error) {

	w.mu.Lock()
	var (
		msg   *wire.MsgTx
		watch [][]byte
		ops   []wire.OutPoint
	)
	err := w.updateIndexed(func(tx kvdb.RwTx) error {
		var err error
		if msg, err = build(tx); err != nil {
			return err
		}
		res, err := w.addTx(tx, msg, nil, true, label)
		if err != nil {
			return err
		}
		ops = res.newOutpoints
		watch, err = w.extendHorizon(tx)
		return err
	})
	w.mu.Unlock()
	if err != nil {
		return nil, err
	}
	w.watch(watch, ops)
	return msg, w.broadcastRecorded(ctx, msg)
}

// LeaseOutput locks a wallet output for id until now+duration (default
// DefaultLeaseDuration), so coin selection skips it. Renewing one's own
// lease is allowed; another id's live lease is ErrOutputLeased.
func (w *Wallet) LeaseOutput(id LockID, op wire.OutPoint, duration time.Duration) (time.Time, error) {
	if duration <= 0 {
		duration = DefaultLeaseDuration
	}
	expiry := w.now().Add(duration)
	w.mu.Lock()
	defer w.mu.Unlock()
	err := w.db.Update(func(tx kvdb.RwTx) error {
		if tx.ReadWriteBucket(bucketUtxos).Get(outpointKey(op)) == nil {
			return fmt.Errorf("%w: %v", ErrUnknownOutput, op)
		}
		l, err := getLease(tx, op)
		if err != nil {
			return err
		}
		if l != nil && l.ID != id && w.now().Before(l.Expiry) {
			return fmt.Errorf("%w: %v until %v", ErrOutputLeased, op, l.Expiry)
		}
		return putLease(tx, op, lease{ID: id, Expiry: expiry})
	})
	return expiry, err
}

// ReleaseOutput ends id's lease on op. Releasing an output that is not
// leased is not an error; releasing another id's live lease is.
func (w *Wallet) ReleaseOutput(id LockID, op wire.OutPoint) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.db.Update(func(tx kvdb.RwTx) error {
		l, err := getLease(tx, op)
		if err != nil || l == nil {
			return err
		}
		if l.ID != id && w.now().Before(l.Expiry) {
			return fmt.Errorf("%w: %v", ErrLockIDMismatch, op)
		}
		return tx.ReadWriteBucket(bucketLeases).Delete(outpointKey(op))
	})
}

// Lease is a live lock on a wallet output.
type Lease struct {
	LockID   LockID
	OutPoint wire.OutPoint
	Value    btcutil.Amount
	PkScript []byte
	Expiry   time.Time
}

// ListLeases returns the live leases.
func (w *Wallet) ListLeases() ([]Lease, error) {
	now := w.now()
	var out []Lease
	err := w.db.View(func(tx kvdb.RTx) error {
		return tx.ReadBucket(bucketLeases).ForEach(func(k, _ []byte) error {
			op, err := parseOutpointKey(k)
			if err != nil {
				return err
			}
			l, err := getLease(tx, op)
			if err != nil || !now.Before(l.Expiry) {
				return err
			}
			v := tx.ReadBucket(bucketUtxos).Get(k)
			if v == nil {
				return nil
			}
			u, err := decodeUtxo(v, false)
			if err != nil {
				return err
			}
			out = append(out, Lease{LockID: l.ID, OutPoint: op,
				Value: u.Value, PkScript: u.PkScript, Expiry: l.Expiry})
			return nil
		})
	})
	return out, err
}
