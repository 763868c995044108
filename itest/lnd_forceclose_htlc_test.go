package itest

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/internal/regtest"
	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/invoicesrpc"
	"lnd.xprv/rpc/lnrpc/routerrpc"
)

// htlcCltv is the final CLTV delta of every hold invoice here: short,
// so that the timeouts come after few blocks.
const htlcCltv = 40

// heldHTLC is a payment held by its payee's hold invoice.
type heldHTLC struct {
	name   string
	amt    int64
	pre    [32]byte
	hash   [32]byte
	toLnd  bool  // xlnd pays lnd (else lnd pays xlnd)
	expiry int32 // the HTLC's CLTV expiry, once in flight
	out    wire.OutPoint
}

func newHeld(t *testing.T, name string, amt int64, toLnd bool) *heldHTLC {
	t.Helper()
	h := &heldHTLC{name: name, amt: amt, toLnd: toLnd}
	_, err := rand.Read(h.pre[:])
	check(t, err)
	h.hash = sha256.Sum256(h.pre[:])
	return h
}

// fcScene is one channel between xlnd and lnd with HTLCs held in both
// directions, and every transaction that spends what its commitment
// pays, for the accounting at the end.
type fcScene struct {
	t      *testing.T
	nw     *harness.Network
	lnd    *lndNode
	xl     *harness.Node
	inv    invoicesrpc.InvoicesClient
	point  string
	ch     *lnrpc.Channel // xlnd's view once the HTLCs are in flight
	htlcs  []*heldHTLC
	commit *harness.ChainTx
	spends map[chainhash.Hash]*harness.ChainTx // each tx after the commitment
	// want is the resolution xlnd's closedchannels should give each
	// HTLC output: "TYPE OUTCOME sweep_txid".
	want map[wire.OutPoint]string
}

// hold makes every HTLC of s pending: each payee holds it on a hold
// invoice, and both commitments carry all of them.
func (s *fcScene) hold() {
	t := s.t
	t.Helper()
	ctx := t.Context()
	// lnd's payments first: lnd may have to restart to route them.
	sort.SliceStable(s.htlcs, func(i, j int) bool { return !s.htlcs[i].toLnd && s.htlcs[j].toLnd })
	for _, h := range s.htlcs {
		if h.toLnd {
			var inv struct {
				PayReq string `json:"payment_request"`
			}
			check(t, s.lnd.lncli(&inv, "addholdinvoice", "--amt", strconv.FormatInt(h.amt, 10),
				"--cltv_expiry_delta", strconv.Itoa(htlcCltv), hex.EncodeToString(h.hash[:])))
			go pay(t, s.xl, &routerrpc.SendPaymentRequest{PaymentRequest: inv.PayReq,
				OutgoingChanIds: []uint64{s.ch.ChanId}, TimeoutSeconds: 60, FeeLimitSat: 100})
			s.waitLndInvoice(h, "ACCEPTED")
			continue
		}
		inv, err := s.inv.AddHoldInvoice(ctx, &invoicesrpc.AddHoldInvoiceRequest{
			Hash: h.hash[:], Value: h.amt, CltvExpiry: htlcCltv})
		check(t, err)
		// lnd finds no route over a channel its graph does not hold
		// yet. lncli waits for the payment's end: it runs on in the
		// background, and lnd's own record is read later.
		s.lndHasPolicies()
		go s.lnd.lncliOutput("payinvoice", "--force", "--json", "--outgoing_chan_id",
			strconv.FormatUint(s.ch.ChanId, 10), inv.PaymentRequest)
		waitInvoiceState(t, s.xl, h.hash[:], lnrpc.Invoice_ACCEPTED)
	}
	var total int64
	for _, h := range s.htlcs {
		total += h.amt
	}
	check(t, harness.WaitFor(func() error {
		c := waitActive(t, s.xl, s.point)
		// What xlnd's commitment holds in HTLCs is what the balances
		// and the fee leave of the capacity, and its unsettled_balance.
		held := c.Capacity - c.LocalBalance - c.RemoteBalance - c.CommitFee
		if c.CommitmentType == lnrpc.CommitmentType_ANCHORS {
			held -= 2 * 330
		}
		if held != total || c.UnsettledBalance != total || len(c.PendingHtlcs) != len(s.htlcs) {
			return fmt.Errorf("xlnd's commitment holds %d sat of HTLCs (unsettled %d in %d), want %d in %d",
				held, c.UnsettledBalance, len(c.PendingHtlcs), total, len(s.htlcs))
		}
		// Their expiries are read from lnd's.
		var resp struct {
			Channels []struct {
				Point string `json:"channel_point"`
				HTLCs []struct {
					Hash   string `json:"hash_lock"`
					Expiry uint32 `json:"expiration_height"`
				} `json:"pending_htlcs"`
			} `json:"channels"`
		}
		if err := s.lnd.lncli(&resp, "listchannels"); err != nil {
			return err
		}
		for _, lc := range resp.Channels {
			if lc.Point != s.point || len(lc.HTLCs) != len(s.htlcs) {
				continue
			}
			for _, ph := range lc.HTLCs {
				for _, h := range s.htlcs {
					if ph.Hash == hex.EncodeToString(h.hash[:]) {
						h.expiry = int32(ph.Expiry)
					}
				}
			}
			s.ch = c
			return nil
		}
		return fmt.Errorf("lnd's commitment lacks the HTLCs")
	}, harness.SyncTimeout))
	for _, h := range s.htlcs {
		if h.expiry == 0 {
			t.Fatalf("HTLC %s not in lnd's channel", h.name)
		}
		t.Logf("HTLC %s: %d sat, expiry %d, to lnd %v", h.name, h.amt, h.expiry, h.toLnd)
	}
}

func (s *fcScene) waitLndInvoice(h *heldHTLC, state string) {
	s.t.Helper()
	check(s.t, harness.WaitFor(func() error {
		var inv struct {
			State string `json:"state"`
		}
		if err := s.lnd.lncli(&inv, "lookupinvoice", hex.EncodeToString(h.hash[:])); err != nil {
			return err
		}
		if inv.State != state {
			return fmt.Errorf("lnd's invoice %s is %s, want %s", h.name, inv.State, state)
		}
		return nil
	}, harness.SyncTimeout))
}

// closed records the commitment and finds each HTLC's output on it.
func (s *fcScene) closed(commit *harness.ChainTx) {
	s.t.Helper()
	s.commit = commit
	s.spends = map[chainhash.Hash]*harness.ChainTx{}
	for _, h := range s.htlcs {
		h.out = commitOutput(s.t, commit, h.amt)
	}
	s.t.Logf("commitment %v: fee %d, %d outputs", commit.Tx.TxHash(), commit.Fee, len(commit.Tx.TxOut))
}

// spent waits for the spender of op in the mempool, records it and
// logs what it took.
func (s *fcScene) spent(what string, op wire.OutPoint) *harness.ChainTx {
	s.t.Helper()
	tx := waitSpender(s.t, s.nw, op)
	s.record(what, tx)
	return tx
}

func (s *fcScene) record(what string, tx *harness.ChainTx) {
	h := tx.Tx.TxHash()
	if _, ok := s.spends[h]; !ok {
		tip, _ := s.nw.TipHeight()
		s.t.Logf("%s: tx %v at tip %d, %d in / %d out, fee %d (%.1f sat/vB)", what, h, tip,
			len(tx.Tx.TxIn), len(tx.Tx.TxOut), tx.Fee, tx.FeeRate())
	}
	s.spends[h] = tx
}

// tip is the chain's height.
func (s *fcScene) tip() int32 {
	s.t.Helper()
	h, err := s.nw.TipHeight()
	check(s.t, err)
	return h
}

// mine mines n blocks and logs nothing: each phase logs its own.
func (s *fcScene) mine(n int) {
	s.t.Helper()
	_, err := s.nw.Mine(n)
	check(s.t, err)
}

// witnessHas reports whether the input of tx spending op carries pre.
func witnessHas(tx *wire.MsgTx, op wire.OutPoint, pre []byte) bool {
	for _, in := range tx.TxIn {
		if in.PreviousOutPoint != op {
			continue
		}
		for _, w := range in.Witness {
			if bytes.Equal(w, pre) {
				return true
			}
		}
	}
	return false
}

// xlPayment is xlnd's record of the payment of h.
func (s *fcScene) waitXlPayment(h *heldHTLC, want lnrpc.Payment_PaymentStatus) *lnrpc.Payment {
	s.t.Helper()
	return waitPaymentStatus(s.t, s.xl, h.hash, want)
}

// waitLndPayment waits until lnd's payment of h has status want.
func (s *fcScene) waitLndPayment(h *heldHTLC, want string) {
	s.t.Helper()
	check(s.t, harness.WaitFor(func() error {
		var resp struct {
			Payments []struct {
				Hash     string `json:"payment_hash"`
				Status   string `json:"status"`
				Preimage string `json:"payment_preimage"`
			} `json:"payments"`
		}
		if err := s.lnd.lncli(&resp, "listpayments", "--include_incomplete"); err != nil {
			return err
		}
		for _, p := range resp.Payments {
			if p.Hash != hex.EncodeToString(h.hash[:]) {
				continue
			}
			if p.Status != want {
				return fmt.Errorf("lnd's payment %s is %s, want %s", h.name, p.Status, want)
			}
			if want == "SUCCEEDED" && p.Preimage != hex.EncodeToString(h.pre[:]) {
				return fmt.Errorf("lnd's payment %s has preimage %s", h.name, p.Preimage)
			}
			return nil
		}
		return fmt.Errorf("lnd has no payment %s", h.name)
	}, harness.SyncTimeout))
}

// lndPendingGone waits until lnd no longer lists the channel as pending.
func (s *fcScene) lndPendingGone() {
	s.t.Helper()
	check(s.t, harness.WaitFor(func() error {
		out, err := s.lnd.lncliOutput("pendingchannels")
		if err != nil {
			return err
		}
		if strings.Contains(string(out), s.point) {
			return fmt.Errorf("lnd still lists %s as pending: %s", s.point, out)
		}
		return nil
	}, harness.SyncTimeout))
}

// lndClosed is lnd's closedchannels entry of the channel.
type lndClosed struct {
	Point       string `json:"channel_point"`
	ClosingTx   string `json:"closing_tx_hash"`
	CloseType   string `json:"close_type"`
	Settled     string `json:"settled_balance"`
	TimeLocked  string `json:"time_locked_balance"`
	Resolutions []struct {
		Type     string `json:"resolution_type"`
		Outcome  string `json:"outcome"`
		Amount   string `json:"amount_sat"`
		SweepTx  string `json:"sweep_txid"`
		Outpoint struct {
			Txid  string `json:"txid_str"`
			Index uint32 `json:"output_index"`
		} `json:"outpoint"`
	} `json:"resolutions"`
}

// agree checks that both sides list the channel closed by the same
// transaction with the close type each should, and returns lnd's entry.
func (s *fcScene) agree(xlType lnrpc.ChannelCloseSummary_ClosureType, lndType string) lndClosed {
	t := s.t
	t.Helper()
	closing := s.commit.Tx.TxHash().String()
	var mine *lnrpc.ChannelCloseSummary
	check(t, harness.WaitFor(func() error {
		resp, err := s.xl.RPC.ClosedChannels(t.Context(), &lnrpc.ClosedChannelsRequest{})
		if err != nil {
			return err
		}
		for _, c := range resp.Channels {
			if c.ChannelPoint != s.point {
				continue
			}
			mine = c
			got := map[wire.OutPoint]string{}
			for _, r := range c.Resolutions {
				op := parseOutPoint(t, fmt.Sprintf("%s:%d", r.Outpoint.GetTxidStr(), r.Outpoint.GetOutputIndex()))
				got[op] = fmt.Sprintf("%v %v %s", r.ResolutionType, r.Outcome, r.SweepTxid)
			}
			for op, w := range s.want {
				if got[op] != w {
					return fmt.Errorf("xlnd's resolution of %v: %q, want %q", op, got[op], w)
				}
			}
			return nil
		}
		return fmt.Errorf("xlnd lists no closed %s", s.point)
	}, harness.SyncTimeout))
	for _, r := range mine.Resolutions {
		t.Logf("xlnd's resolution: %v %v %s:%d %d sat, sweep %s", r.ResolutionType, r.Outcome,
			r.Outpoint.GetTxidStr(), r.Outpoint.GetOutputIndex(), r.AmountSat, r.SweepTxid)
	}
	if mine.ClosingTxHash != closing || mine.CloseType != xlType {
		t.Fatalf("xlnd's closed channel %v, want %v by %s", mine, xlType, closing)
	}
	var theirs lndClosed
	check(t, harness.WaitFor(func() error {
		var resp struct {
			Channels []lndClosed `json:"channels"`
		}
		if err := s.lnd.lncli(&resp, "closedchannels"); err != nil {
			return err
		}
		for _, c := range resp.Channels {
			if c.Point == s.point {
				theirs = c
				return nil
			}
		}
		return fmt.Errorf("lnd lists no closed %s", s.point)
	}, harness.SyncTimeout))
	if theirs.ClosingTx != closing || theirs.CloseType != lndType {
		t.Fatalf("lnd's closed channel %+v, want %s by %s", theirs, lndType, closing)
	}
	for _, r := range theirs.Resolutions {
		t.Logf("lnd's resolution: %s %s %s:%d %s sat, sweep %s", r.Type, r.Outcome,
			r.Outpoint.Txid, r.Outpoint.Index, r.Amount, r.SweepTx)
	}
	t.Logf("xlnd: settled %d time-locked %d, lnd: settled %s time-locked %s",
		mine.SettledBalance, mine.TimeLockedBalance, theirs.Settled, theirs.TimeLocked)
	// Both count the balance as lnd's close summary does: settled is
	// the node's own commitment output (to_local on its commitment,
	// to_remote on the other's), time-locked nothing on the other's
	// commitment.
	var mineCommit int64
	for _, r := range mine.Resolutions {
		if r.ResolutionType == lnrpc.ResolutionType_COMMIT {
			mineCommit = int64(r.AmountSat)
		}
	}
	theirCommit := "0"
	for _, r := range theirs.Resolutions {
		if r.Type == "COMMIT" {
			theirCommit = r.Amount
		}
	}
	// (A commitment output that needs no sweep, to_remote without
	// anchors, has no resolution to compare with.)
	if mineCommit != 0 && mine.SettledBalance != mineCommit ||
		theirCommit != "0" && theirs.Settled != theirCommit {

		t.Errorf("settled: xlnd %d (its commitment output %d), lnd %s (its %s)",
			mine.SettledBalance, mineCommit, theirs.Settled, theirCommit)
	}
	if xlType == lnrpc.ChannelCloseSummary_REMOTE_FORCE_CLOSE && mine.TimeLockedBalance != 0 ||
		lndType == "REMOTE_FORCE_CLOSE" && theirs.TimeLocked != "0" {
		t.Errorf("time-locked on the other's commitment: xlnd %d, lnd %s",
			mine.TimeLockedBalance, theirs.TimeLocked)
	}
	if xlType == lnrpc.ChannelCloseSummary_LOCAL_FORCE_CLOSE && mine.TimeLockedBalance < mineCommit {
		t.Errorf("xlnd's time-locked %d below its to_local %d", mine.TimeLockedBalance, mineCommit)
	}
	return theirs
}

// conserved checks that what the commitment paid out went to the two
// wallets less the fees of the transactions that moved it, counting what
// no one took (anchors left alone) as still on chain. What each wallet
// gained is the sum of what each of those transactions did to it, as the
// node lists them (outputs to the wallet less wallet coins spent): the
// wallets' balances also move with sweeps of the channels closed before.
func (s *fcScene) conserved() {
	t := s.t
	t.Helper()
	var fees int64
	for _, tx := range s.spends {
		fees += tx.Fee
	}
	c := s.nw.Btcd().Client()
	var left, paid int64
	for i, o := range s.commit.Tx.TxOut {
		paid += o.Value
		res, err := c.GetTxOut(ptr(s.commit.Tx.TxHash()), uint32(i), false)
		check(t, err)
		if res != nil {
			t.Logf("commitment output %d (%d sat) left unspent", i, o.Value)
			left += o.Value
		}
	}
	// Each wallet lists the last block's transactions once it has
	// synced to it.
	var xlGain, lndGain int64
	err := harness.WaitFor(func() error {
		xlGain, lndGain = s.xlGains(), s.lndGains()
		if xlGain+lndGain+fees+left != paid {
			return fmt.Errorf("not conserved: %d + %d + %d + %d != %d",
				xlGain, lndGain, fees, left, paid)
		}
		return nil
	}, harness.SyncTimeout)
	t.Logf("commitment paid %d: xlnd gained %d, lnd %d, fees %d over %d transactions, %d left on chain",
		paid, xlGain, lndGain, fees, len(s.spends), left)
	check(t, err)
}

// xlGains sums xlnd's amounts of the transactions after the commitment.
func (s *fcScene) xlGains() int64 {
	s.t.Helper()
	resp, err := s.xl.RPC.GetTransactions(s.t.Context(), &lnrpc.GetTransactionsRequest{})
	check(s.t, err)
	amt := map[string]int64{}
	for _, tx := range resp.Transactions {
		amt[tx.TxHash] = tx.Amount
	}
	var sum int64
	for h := range s.spends {
		sum += amt[h.String()]
	}
	return sum
}

// lndGains sums lnd's amounts of the transactions after the commitment.
func (s *fcScene) lndGains() int64 {
	s.t.Helper()
	var resp struct {
		Txs []struct {
			Hash   string `json:"tx_hash"`
			Amount string `json:"amount"`
		} `json:"transactions"`
	}
	check(s.t, s.lnd.lncli(&resp, "listchaintxns"))
	amt := map[string]int64{}
	for _, tx := range resp.Txs {
		v, err := strconv.ParseInt(tx.Amount, 10, 64)
		check(s.t, err)
		amt[tx.Hash] = v
	}
	var sum int64
	for h := range s.spends {
		sum += amt[h.String()]
	}
	return sum
}

// lndFundsAgain keeps lnd's wallet in coins: a channel open and its
// HTLC transactions (anchors: fees from the wallet) spend them.
func lndFundsAgain(t *testing.T, nw *harness.Network, lnd *lndNode) {
	t.Helper()
	var addr struct {
		Address string `json:"address"`
	}
	check(t, lnd.lncli(&addr, "newaddress", "p2wkh"))
	a, err := btcutil.DecodeAddress(addr.Address, regtest.Params)
	check(t, err)
	for range 2 {
		_, err = nw.Btcd().SendToAddress(a, 1_000_000)
		check(t, err)
	}
	_, err = nw.Mine(1)
	check(t, err)
}

// openFrom has lnd open a channel of lnd's channel type ct to xl.
func (l *lndNode) openFrom(t *testing.T, xl *harness.Node, ct string, amt, push int64) *lnrpc.Channel {
	t.Helper()
	var open struct {
		Txid string `json:"funding_txid"`
	}
	check(t, harness.WaitFor(func() error {
		return l.lncli(&open, "openchannel", "--node_key", xl.PubKey(), "--channel_type", ct,
			"--local_amt", strconv.FormatInt(amt, 10), "--push_amt", strconv.FormatInt(push, 10))
	}, harness.SyncTimeout))
	tx, err := l.nw.WaitTx(open.Txid)
	check(t, err)
	point := ""
	for i, out := range tx.Tx.TxOut {
		if out.Value == amt {
			point = fmt.Sprintf("%s:%d", open.Txid, i)
		}
	}
	_, err = l.nw.Mine(6)
	check(t, err)
	l.waitActive(point)
	return waitActive(t, xl, point)
}

// lndClosesWithHTLCs: lnd opens a channel of type ct to xlnd, and with
// three HTLCs held (two xlnd offered lnd, one lnd offered xlnd) lnd
// force-closes. On lnd's commitment xlnd claims the HTLC it receives
// with its preimage once its invoice settles, and the first it offered
// after its expiry, both directly; lnd claims the second xlnd offered
// with its preimage, and xlnd's payment succeeds with the preimage read
// from lnd's transaction.
func lndClosesWithHTLCs(t *testing.T, nw *harness.Network, lnd *lndNode, xl *harness.Node, ct string) {
	lndFundsAgain(t, nw, lnd)
	s := &fcScene{t: t, nw: nw, lnd: lnd, xl: xl, inv: invoicesClient(t, xl)}
	s.ch = lnd.openFrom(t, xl, ct, 500_000, 150_000)
	s.point = s.ch.ChannelPoint
	t.Logf("channel %s, %v, xlnd's csv %d, lnd's csv %d", s.point, s.ch.CommitmentType,
		s.ch.LocalConstraints.CsvDelay, s.ch.RemoteConstraints.CsvDelay)
	timesOut := newHeld(t, "xlnd→lnd timing out", 21_000, true)
	lndSettles := newHeld(t, "xlnd→lnd settled by lnd", 22_000, true)
	xlSettles := newHeld(t, "lnd→xlnd settled by xlnd", 23_000, false)
	s.htlcs = []*heldHTLC{timesOut, lndSettles, xlSettles}
	s.hold()

	txid, idx, _ := strings.Cut(s.point, ":")
	check(t, lnd.lncli(nil, "closechannel", "--force", "--funding_txid", txid, "--output_index", idx))
	s.closed(waitSpender(t, nw, parseOutPoint(t, s.point)))
	s.mine(1)
	closedAt, err := nw.TipHeight()
	check(t, err)

	// xlnd's balance: at once, or after one block with anchors.
	toRemote := commitOutput(t, s.commit, s.ch.LocalBalance)
	s.spent("xlnd's to_remote", toRemote)
	waitForceClosing(t, xl, s.point)

	// xlnd learns its preimage after the close: it claims the HTLC
	// directly from lnd's commitment.
	// xlnd's court looks for preimages it learnt at each block.
	_, err = s.inv.SettleInvoice(t.Context(), &invoicesrpc.SettleInvoiceMsg{Preimage: xlSettles.pre[:]})
	check(t, err)
	s.mine(1)
	claim := s.spent("xlnd claims its incoming HTLC with the preimage", xlSettles.out)
	if !witnessHas(claim.Tx, xlSettles.out, xlSettles.pre[:]) {
		t.Fatalf("xlnd's claim %v does not carry the preimage", claim.Tx.TxHash())
	}
	s.mine(1)
	s.waitLndPayment(xlSettles, "SUCCEEDED")

	// lnd learns its preimage: its HTLC-success transaction, and xlnd
	// reads the preimage from it.
	check(t, lnd.lncli(nil, "settleinvoice", hex.EncodeToString(lndSettles.pre[:])))
	success := s.sweptAt("lnd's HTLC-success", lndSettles.out, s.tip())
	if !witnessHas(success.Tx, lndSettles.out, lndSettles.pre[:]) {
		t.Fatalf("lnd's claim %v does not carry the preimage", success.Tx.TxHash())
	}
	s.mine(1)
	p := s.waitXlPayment(lndSettles, lnrpc.Payment_SUCCEEDED)
	if p.PaymentPreimage != hex.EncodeToString(lndSettles.pre[:]) {
		t.Fatalf("xlnd's payment %v, want preimage %x", p, lndSettles.pre)
	}

	// The HTLC lnd never settles: xlnd takes it back at its expiry.
	mineTo(t, nw, timesOut.expiry-1)
	mineTo(t, nw, timesOut.expiry)
	refund := s.spent("xlnd's timeout claim", timesOut.out)
	if refund.Tx.LockTime < uint32(timesOut.expiry) {
		t.Fatalf("xlnd's timeout claim has lock time %d, before the expiry %d", refund.Tx.LockTime, timesOut.expiry)
	}
	s.mine(1)
	s.waitXlPayment(timesOut, lnrpc.Payment_FAILED)
	waitResolved(t, xl, s.point)

	// lnd's to_local and its HTLC-success output, after the delay xlnd
	// asked of it.
	csv := int32(s.ch.RemoteConstraints.CsvDelay)
	var toLocal wire.OutPoint
	for i, o := range s.commit.Tx.TxOut {
		if o.Value == s.ch.RemoteBalance {
			toLocal = wire.OutPoint{Hash: s.commit.Tx.TxHash(), Index: uint32(i)}
		}
	}
	s.lndSweptAt("lnd's to_local", toLocal, closedAt+csv-1)
	s.mine(1)
	successAt := s.confirmHeight(success)
	s.lndSweptAt("lnd's second-level sweep", wire.OutPoint{Hash: success.Tx.TxHash(), Index: 0}, successAt+csv-1)
	s.mine(1)
	s.lndPendingGone()
	s.want = map[wire.OutPoint]string{
		xlSettles.out:  "INCOMING_HTLC CLAIMED " + claim.Tx.TxHash().String(),
		timesOut.out:   "OUTGOING_HTLC TIMEOUT " + refund.Tx.TxHash().String(),
		lndSettles.out: "OUTGOING_HTLC UNCLAIMED ",
	}
	s.agree(lnrpc.ChannelCloseSummary_REMOTE_FORCE_CLOSE, "LOCAL_FORCE_CLOSE")
	s.conserved()
}

// confirmHeight is the height of the block that confirmed tx.
func (s *fcScene) confirmHeight(tx *harness.ChainTx) int32 {
	s.t.Helper()
	h := tx.Tx.TxHash()
	res, err := s.nw.Btcd().Client().GetRawTransactionVerbose(&h)
	check(s.t, err)
	if res.Confirmations == 0 {
		s.t.Fatalf("%v unconfirmed", h)
	}
	tip, err := s.nw.TipHeight()
	check(s.t, err)
	return tip - int32(res.Confirmations) + 1
}

// xlndClosesWithHTLCs: xlnd opens a channel of type ct to lnd, and with
// three HTLCs held (two xlnd offered lnd, one lnd offered xlnd) xlnd
// force-closes. xlnd's HTLC-success transaction takes the HTLC it
// receives once its invoice settles, its HTLC-timeout transaction the
// first it offered at its expiry, and both outputs come back after
// lnd's delay; lnd claims the second xlnd offered directly with its
// preimage, and xlnd's payment succeeds with the preimage read from it.
func xlndClosesWithHTLCs(t *testing.T, nw *harness.Network, lnd *lndNode, xl *harness.Node,
	ct lnrpc.CommitmentType) {

	lndFundsAgain(t, nw, lnd)
	s := &fcScene{t: t, nw: nw, lnd: lnd, xl: xl, inv: invoicesClient(t, xl)}
	// lnd refuses channels while it catches up with the blocks mined
	// before ("Synchronizing blockchain").
	lnd.waitSynced()
	pub, err := hexPub(lnd.pub)
	check(t, err)
	resp, err := xl.RPC.OpenChannelSync(t.Context(), &lnrpc.OpenChannelRequest{
		NodePubkey: pub, LocalFundingAmount: 600_000, PushSat: 150_000, CommitmentType: ct})
	check(t, err)
	txid, err := chainHash(resp.GetFundingTxidBytes())
	check(t, err)
	_, err = nw.WaitTx(txid)
	check(t, err)
	s.point = fmt.Sprintf("%s:%d", txid, resp.OutputIndex)
	s.mine(6)
	lnd.waitActive(s.point)
	s.ch = waitActive(t, xl, s.point)
	t.Logf("channel %s, %v, xlnd's csv %d, lnd's csv %d", s.point, s.ch.CommitmentType,
		s.ch.LocalConstraints.CsvDelay, s.ch.RemoteConstraints.CsvDelay)
	timesOut := newHeld(t, "xlnd→lnd timing out", 31_000, true)
	lndSettles := newHeld(t, "xlnd→lnd settled by lnd", 32_000, true)
	xlSettles := newHeld(t, "lnd→xlnd settled by xlnd", 33_000, false)
	s.htlcs = []*heldHTLC{timesOut, lndSettles, xlSettles}
	s.hold()

	commit, _ := forceClose(t, nw, xl, s.point)
	s.closed(commit)
	s.mine(1)
	closedAt, err := nw.TipHeight()
	check(t, err)
	csv := int32(s.ch.LocalConstraints.CsvDelay)

	// lnd's balance, at once or after a block.
	toRemote := commitOutput(t, s.commit, s.ch.RemoteBalance)
	s.sweptAt("lnd's to_remote", toRemote, s.tip())
	s.mine(1)

	// xlnd learns its preimage: its HTLC-success transaction.
	_, err = s.inv.SettleInvoice(t.Context(), &invoicesrpc.SettleInvoiceMsg{Preimage: xlSettles.pre[:]})
	check(t, err)
	s.mine(1)
	success := s.spent("xlnd's HTLC-success", xlSettles.out)
	if !witnessHas(success.Tx, xlSettles.out, xlSettles.pre[:]) {
		t.Fatalf("xlnd's HTLC-success %v does not carry the preimage", success.Tx.TxHash())
	}
	s.mine(1)
	s.waitLndPayment(xlSettles, "SUCCEEDED")
	successAt := s.confirmHeight(success)

	// lnd learns its preimage: it claims directly from xlnd's
	// commitment, and xlnd reads the preimage.
	check(t, lnd.lncli(nil, "settleinvoice", hex.EncodeToString(lndSettles.pre[:])))
	claim := s.sweptAt("lnd claims with the preimage", lndSettles.out, s.tip())
	if !witnessHas(claim.Tx, lndSettles.out, lndSettles.pre[:]) {
		t.Fatalf("lnd's claim %v does not carry the preimage", claim.Tx.TxHash())
	}
	s.mine(1)
	p := s.waitXlPayment(lndSettles, lnrpc.Payment_SUCCEEDED)
	if p.PaymentPreimage != hex.EncodeToString(lndSettles.pre[:]) {
		t.Fatalf("xlnd's payment %v, want preimage %x", p, lndSettles.pre)
	}

	// The HTLC lnd never settles: xlnd's HTLC-timeout transaction at
	// its expiry.
	mineTo(t, nw, timesOut.expiry-1)
	mineTo(t, nw, timesOut.expiry)
	timeout := s.spent("xlnd's HTLC-timeout", timesOut.out)
	if timeout.Tx.LockTime != uint32(timesOut.expiry) {
		t.Fatalf("xlnd's HTLC-timeout has lock time %d, want the expiry %d", timeout.Tx.LockTime, timesOut.expiry)
	}
	s.mine(1)
	s.waitXlPayment(timesOut, lnrpc.Payment_FAILED)
	timeoutAt := s.confirmHeight(timeout)

	// Each of xlnd's outputs after lnd's delay: to_local, and the two
	// second-level outputs (the HTLC's, first, of each).
	for _, o := range []struct {
		what string
		at   int32
		op   wire.OutPoint
	}{
		{"xlnd's to_local", closedAt, commitOutput(t, s.commit, s.ch.LocalBalance)},
		{"xlnd's HTLC-success output", successAt, wire.OutPoint{Hash: success.Tx.TxHash()}},
		{"xlnd's HTLC-timeout output", timeoutAt, wire.OutPoint{Hash: timeout.Tx.TxHash()}},
	} {
		s.sweptAt(o.what, o.op, o.at+csv-1)
	}
	s.mine(1)
	waitResolved(t, xl, s.point)
	s.lndPendingGone()
	s.want = map[wire.OutPoint]string{
		xlSettles.out:  "INCOMING_HTLC FIRST_STAGE " + success.Tx.TxHash().String(),
		timesOut.out:   "OUTGOING_HTLC FIRST_STAGE " + timeout.Tx.TxHash().String(),
		lndSettles.out: "OUTGOING_HTLC UNCLAIMED ",
	}
	s.agree(lnrpc.ChannelCloseSummary_LOCAL_FORCE_CLOSE, "REMOTE_FORCE_CLOSE")
	s.conserved()
}

// sweptAt mines to height from, the first tip at which a spend of op
// can enter the mempool, and returns that spend once btcd has it: a
// node may wait a block or two (a sweeper batching by deadline), so
// blocks are mined one at a time while it does not come, and the spend
// is looked for in them too.
func (s *fcScene) sweptAt(what string, op wire.OutPoint, from int32) *harness.ChainTx {
	s.t.Helper()
	tx := s.trySweptAt(what, op, from, 12)
	if tx == nil {
		s.t.Fatalf("%s: no spend of %v after 12 blocks from %d", what, op, from)
	}
	return tx
}

// lndSweptAt is sweptAt for an output lnd sweeps. lnd's nursery (static
// remote key channels) sometimes misses the confirmation of lnd's own
// HTLC-success transaction and never sweeps its output until lnd
// restarts and registers it again ("Late Registration"): lnd is
// restarted once if nothing comes.
func (s *fcScene) lndSweptAt(what string, op wire.OutPoint, from int32) *harness.ChainTx {
	s.t.Helper()
	if tx := s.trySweptAt(what, op, from, 6); tx != nil {
		return tx
	}
	s.t.Logf("%s: lnd did not spend %v in 6 blocks: restarting lnd", what, op)
	s.restartLnd()
	return s.sweptAt(what, op, from)
}

// trySweptAt is sweptAt giving up after blocks blocks.
func (s *fcScene) trySweptAt(what string, op wire.OutPoint, from int32, blocks int) *harness.ChainTx {
	t := s.t
	t.Helper()
	mineTo(t, s.nw, from)
	for range blocks {
		var found *harness.ChainTx
		err := harness.WaitFor(func() error {
			found = s.findSpender(op, from)
			if found == nil {
				return fmt.Errorf("no spend of %v", op)
			}
			return nil
		}, 10*time.Second)
		if err == nil {
			s.record(what, found)
			return found
		}
		s.mine(1)
	}
	return nil
}

// findSpender looks for a spend of op in the mempool and in the blocks
// from height since.
func (s *fcScene) findSpender(op wire.OutPoint, since int32) *harness.ChainTx {
	c := s.nw.Btcd().Client()
	var txids []*chainhash.Hash
	if pool, err := c.GetRawMempool(); err == nil {
		txids = pool
	}
	tip, err := s.nw.TipHeight()
	if err != nil {
		return nil
	}
	for h := since; h <= tip; h++ {
		bh, err := c.GetBlockHash(int64(h))
		if err != nil {
			return nil
		}
		b, err := c.GetBlock(bh)
		if err != nil {
			return nil
		}
		for _, tx := range b.Transactions {
			for _, in := range tx.TxIn {
				if in.PreviousOutPoint == op {
					txids = append(txids, ptr(tx.TxHash()))
				}
			}
		}
	}
	for _, h := range txids {
		tx, err := c.GetRawTransaction(h)
		if err != nil {
			continue
		}
		for _, in := range tx.MsgTx().TxIn {
			if in.PreviousOutPoint == op {
				found, err := s.nw.WaitTx(h.String())
				if err != nil {
					return nil
				}
				return found
			}
		}
	}
	return nil
}

// lndHasPolicies waits until lnd's graph holds both policies of the
// channel: without them lnd finds no route over it. lnd drops for good
// (its cache of rejected gossip, by channel and peer) a channel_update
// of xlnd's that comes before lnd has added the channel's edge, which
// happens when xlnd reaches the announcement depth a block before lnd
// does; a restart of lnd clears that cache, and xlnd sends its update
// again on the new connection.
func (s *fcScene) lndHasPolicies() {
	t := s.t
	t.Helper()
	s.mine(2)
	has := func() error {
		var e struct {
			P1 *json.RawMessage `json:"node1_policy"`
			P2 *json.RawMessage `json:"node2_policy"`
		}
		err := s.lnd.lncli(&e, "getchaninfo", strconv.FormatUint(s.ch.ChanId, 10))
		if err == nil && (e.P1 == nil || e.P2 == nil) {
			err = fmt.Errorf("lnd's graph lacks a policy of %d", s.ch.ChanId)
		}
		return err
	}
	if harness.WaitFor(has, 15*time.Second) == nil {
		return
	}
	t.Logf("lnd lacks xlnd's policy of %d: restarting lnd", s.ch.ChanId)
	s.restartLnd()
	check(t, harness.WaitFor(has, harness.SyncTimeout))
}

// restartLnd restarts lnd and waits until xlnd is connected to it again
// and, while it is open, the channel is active.
func (s *fcScene) restartLnd() {
	t := s.t
	t.Helper()
	s.lnd.kill()
	check(t, s.xl.WaitNoPeer(s.lnd.pub))
	s.lnd.start()
	_, err := s.xl.RPC.ConnectPeer(t.Context(), &lnrpc.ConnectPeerRequest{
		Addr: &lnrpc.LightningAddress{Pubkey: s.lnd.pub, Host: s.lnd.p2p}})
	if err != nil && !strings.Contains(err.Error(), "already connected") {
		t.Fatal(err)
	}
	check(t, s.xl.WaitPeer(s.lnd.pub))
	if s.commit == nil {
		s.lnd.waitActive(s.point)
	}
}

// waitSynced waits until lnd is synced to the network's tip.
func (l *lndNode) waitSynced() {
	l.t.Helper()
	check(l.t, harness.WaitFor(func() error {
		var info struct {
			Synced bool  `json:"synced_to_chain"`
			Height int32 `json:"block_height"`
		}
		if err := l.lncli(&info, "getinfo"); err != nil {
			return err
		}
		tip, err := l.nw.TipHeight()
		if err != nil {
			return err
		}
		if !info.Synced || info.Height != tip {
			return fmt.Errorf("lnd at %d (synced %v), tip %d", info.Height, info.Synced, tip)
		}
		return nil
	}, harness.SyncTimeout))
}
