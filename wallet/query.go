package wallet

import (
	"fmt"
	"sort"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	"lnd.xprv/channeldb/kvdb"
)

// Utxo is an unspent output of the wallet.
type Utxo struct {
	OutPoint      wire.OutPoint
	Value         btcutil.Amount
	PkScript      []byte
	Address       string
	AddressType   AddressType
	Change        bool
	Height        int32 // 0 when unconfirmed
	Confirmations int32
	Coinbase      bool
	Leased        bool
}

func (w *Wallet) utxoView(op wire.OutPoint, u *utxoRec, tipH int32, leased bool) Utxo {
	h := u.Height
	if h == unconfirmed {
		h = 0
	}
	return Utxo{
		OutPoint:      op,
		Value:         u.Value,
		PkScript:      u.PkScript,
		Address:       scriptAddress(u.PkScript, w),
		AddressType:   u.Deriv.Type,
		Change:        u.Deriv.Branch == branchChange,
		Height:        h,
		Confirmations: confirmations(u.Height, tipH),
		Coinbase:      u.Coinbase,
		Leased:        leased,
	}
}

func scriptAddress(pkScript []byte, w *Wallet) string {
	_, addrs, _, err := txscript.ExtractPkScriptAddrs(pkScript, w.cfg.Net)
	if err != nil || len(addrs) != 1 {
		return ""
	}
	return addrs[0].EncodeAddress()
}

// ListUnspent returns the wallet's unspent outputs with between minConfs
// and maxConfs confirmations (maxConfs <= 0: no upper bound), leased ones
// included and flagged, sorted by value, largest first.
func (w *Wallet) ListUnspent(minConfs, maxConfs int32) ([]Utxo, error) {
	now := w.now()
	var out []Utxo
	err := w.db.View(func(tx kvdb.RTx) error {
		tipH, err := tipHeight(tx)
		if err != nil {
			return err
		}
		return tx.ReadBucket(bucketUtxos).ForEach(func(k, v []byte) error {
			op, err := parseOutpointKey(k)
			if err != nil {
				return err
			}
			u, err := decodeUtxo(v, false)
			if err != nil {
				return err
			}
			confs := confirmations(u.Height, tipH)
			if confs < minConfs || (maxConfs > 0 && confs > maxConfs) {
				return nil
			}
			l, err := getLease(tx, op)
			if err != nil {
				return err
			}
			out = append(out, w.utxoView(op, u, tipH, l != nil && now.Before(l.Expiry)))
			return nil
		})
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Value > out[j].Value })
	return out, err
}

// Balance splits the wallet's unspent outputs. Leased outputs count in
// Locked only; immature coinbase outputs in Immature only.
type Balance struct {
	Confirmed   btcutil.Amount // at least one confirmation
	Unconfirmed btcutil.Amount // in the mempool
	Locked      btcutil.Amount // leased (Fund, LeaseOutput)
	Immature    btcutil.Amount // coinbase outputs not yet spendable
}

// Total is everything the wallet holds.
func (b Balance) Total() btcutil.Amount {
	return b.Confirmed + b.Unconfirmed + b.Locked + b.Immature
}

// Balance returns the wallet's balances.
func (w *Wallet) Balance() (Balance, error) {
	utxos, err := w.ListUnspent(0, 0)
	if err != nil {
		return Balance{}, err
	}
	var b Balance
	for _, u := range utxos {
		switch {
		case u.Leased:
			b.Locked += u.Value
		case u.Coinbase && u.Confirmations < int32(w.cfg.Net.CoinbaseMaturity):
			b.Immature += u.Value
		case u.Confirmations > 0:
			b.Confirmed += u.Value
		default:
			b.Unconfirmed += u.Value
		}
	}
	return b, nil
}

// Transaction is an entry of the wallet's history.
type Transaction struct {
	Hash chainhash.Hash
	Tx   *wire.MsgTx

	// Amount is the change of the wallet's balance: received minus
	// spent (a send to oneself is minus the fee).
	Amount btcutil.Amount

	// Fee is known (FeeKnown) when every input was the wallet's.
	Fee      btcutil.Amount
	FeeKnown bool

	Confirmations int32
	BlockHeight   int32          // 0 when unconfirmed
	BlockHash     chainhash.Hash // zero when unconfirmed

	// Timestamp is the block time once confirmed, else when first seen.
	Timestamp time.Time

	// DestAddresses are the addresses of every output.
	DestAddresses []string
	Label         string

	// Own is set for transactions this wallet created.
	Own bool

	// Failed: it can no longer confirm (double spent, or dropped by the
	// network); it no longer counts in the balance. FailedBy is the
	// conflicting transaction when known.
	Failed   bool
	FailedBy chainhash.Hash
	FailedAt time.Time
}

// Transactions returns the history, oldest first (unconfirmed and failed
// last).
func (w *Wallet) Transactions() ([]Transaction, error) {
	var out []Transaction
	err := w.db.View(func(tx kvdb.RTx) error {
		tipH, err := tipHeight(tx)
		if err != nil {
			return err
		}
		return tx.ReadBucket(bucketTxs).ForEach(func(_, v []byte) error {
			r, err := decodeTx(v)
			if err != nil {
				return err
			}
			out = append(out, w.txView(r, tipH))
			return nil
		})
	})
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if (a.BlockHeight == 0) != (b.BlockHeight == 0) {
			return b.BlockHeight == 0
		}
		if a.BlockHeight != b.BlockHeight {
			return a.BlockHeight < b.BlockHeight
		}
		return a.Timestamp.Before(b.Timestamp)
	})
	return out, err
}

// Transaction returns one wallet transaction, or ErrUnknownTx.
func (w *Wallet) Transaction(txid chainhash.Hash) (Transaction, error) {
	var t Transaction
	err := w.db.View(func(tx kvdb.RTx) error {
		r, err := getTxRec(tx, txid)
		if err != nil {
			return err
		}
		if r == nil {
			return fmt.Errorf("%w: %v", ErrUnknownTx, txid)
		}
		tipH, err := tipHeight(tx)
		t = w.txView(r, tipH)
		return err
	})
	return t, err
}

func (w *Wallet) txView(r *txRec, tipH int32) Transaction {
	t := Transaction{
		Hash:          r.Tx.TxHash(),
		Tx:            r.Tx,
		Amount:        r.Credit - r.Debit,
		Fee:           max(r.Fee, 0),
		FeeKnown:      r.Fee >= 0,
		Confirmations: confirmations(r.Height, tipH),
		Timestamp:     time.Unix(r.Received, 0),
		Label:         r.Label,
		Own:           r.Ours,
		Failed:        r.Failed,
		FailedBy:      r.FailedBy,
	}
	if r.Failed {
		t.FailedAt = time.Unix(r.FailedAt, 0)
	}
	if r.Height != unconfirmed {
		t.BlockHeight = r.Height
		t.BlockHash = r.BlockHash
		t.Timestamp = time.Unix(r.BlockTime, 0)
	}
	for _, o := range r.Tx.TxOut {
		if a := scriptAddress(o.PkScript, w); a != "" {
			t.DestAddresses = append(t.DestAddresses, a)
		}
	}
	return t
}

// NewAddress hands out the next unused address of a type, on the receive
// branch or (change) the change branch.
func (w *Wallet) NewAddress(t AddressType, change bool) (btcutil.Address, error) {
	branch := branchReceive
	if change {
		branch = branchChange
	}
	return w.handOut(t, branch, false)
}

// CurrentAddress returns the last receive address of a type handed out if
// nothing has paid it (nor any later address of its branch) yet, else a new
// one: lnd's UNUSED_* address types.
func (w *Wallet) CurrentAddress(t AddressType) (btcutil.Address, error) {
	return w.handOut(t, branchReceive, true)
}

func (w *Wallet) handOut(t AddressType, branch uint8, reuse bool) (btcutil.Address, error) {
	if !t.valid() {
		return nil, fmt.Errorf("unknown address type %d", t)
	}
	w.mu.Lock()
	var script []byte
	var watch [][]byte
	err := w.updateIndexed(func(tx kvdb.RwTx) error {
		id := [2]uint8{uint8(t), branch}
		next := getUint32(tx.ReadWriteBucket(bucketAddrs), id[:])
		used := getUint32(tx.ReadWriteBucket(bucketUsed), id[:])
		if reuse && next > 0 && next-1 >= used {
			var err error
			script, err = w.scriptFor(derivation{Type: t, Branch: branch, Index: next - 1})
			return err
		}
		var err error
		_, script, err = w.nextAddress(tx, t, branch)
		if err != nil {
			return err
		}
		watch, err = w.extendHorizon(tx)
		return err
	})
	w.mu.Unlock()
	if err != nil {
		return nil, err
	}
	w.watch(watch, nil)
	_, addrs, _, err := txscript.ExtractPkScriptAddrs(script, w.cfg.Net)
	if err != nil || len(addrs) != 1 {
		return nil, fmt.Errorf("address of script %x: %v", script, err)
	}
	return addrs[0], nil
}

// IsOurScript reports whether pkScript pays one of the wallet's addresses
// (within the watched horizon).
func (w *Wallet) IsOurScript(pkScript []byte) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, ok := w.scripts[string(pkScript)]
	return ok
}

// LabelTransaction sets the label of a wallet transaction. A transaction
// that has a label keeps it (ErrLabelExists) unless overwrite.
func (w *Wallet) LabelTransaction(txid chainhash.Hash, label string, overwrite bool) error {
	if len(label) > 0xffff {
		return fmt.Errorf("label too long (%d bytes)", len(label))
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.db.Update(func(tx kvdb.RwTx) error {
		r, err := getTxRec(tx, txid)
		if err != nil {
			return err
		}
		if r == nil {
			return fmt.Errorf("%w: %v", ErrUnknownTx, txid)
		}
		if r.Label != "" && !overwrite {
			return fmt.Errorf("%w: %v", ErrLabelExists, txid)
		}
		r.Label = label
		return putTxRec(tx, r)
	})
}

// AbandonTx gives up an unconfirmed wallet transaction the operator knows
// will not confirm (lnd's WalletKit.RemoveTransaction, Core's
// abandontransaction): it fails as a double-spent one does, with its
// descendants, releasing its inputs. If the network mines it after all,
// it comes back. A confirmed transaction cannot be abandoned.
func (w *Wallet) AbandonTx(txid chainhash.Hash) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.db.Update(func(tx kvdb.RwTx) error {
		r, err := getTxRec(tx, txid)
		switch {
		case err != nil:
			return err
		case r == nil:
			return fmt.Errorf("%w: %v", ErrUnknownTx, txid)
		case r.Height != unconfirmed:
			return fmt.Errorf("%w: %v is confirmed", ErrTxConfirmed, txid)
		}
		return w.failTx(tx, txid, chainhash.Hash{})
	})
}
