package channeldb

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb/kvdb"
)

// This file holds the contract court's records: one per channel whose
// funding output is spent (or about to be, by our own force close), with
// everything needed to resolve each of its outputs after a restart: the
// channel's state as it was, the transaction that closed it, each output
// to take back and how far it got.

// ContractKind says which transaction spent (or is to spend) a channel's
// funding output.
type ContractKind uint8

// The kinds; their numbers are stored.
const (
	// ContractLocalCommit is our own commitment.
	ContractLocalCommit ContractKind = iota + 1

	// ContractRemoteCommit is the peer's current commitment.
	ContractRemoteCommit

	// ContractRemotePending is the peer's next commitment, signed by us
	// and not yet acknowledged with revoke_and_ack.
	ContractRemotePending

	// ContractBreach is a commitment the peer revoked.
	ContractBreach
)

func (k ContractKind) String() string {
	switch k {
	case ContractLocalCommit:
		return "local commitment"
	case ContractRemoteCommit:
		return "remote commitment"
	case ContractRemotePending:
		return "remote pending commitment"
	case ContractBreach:
		return "breach"
	}
	return fmt.Sprintf("contract kind %d", uint8(k))
}

// CloseType is the channel's close type once the contract confirmed.
func (k ContractKind) CloseType() CloseType {
	switch k {
	case ContractLocalCommit:
		return LocalForceClose
	case ContractBreach:
		return BreachClose
	}
	return RemoteForceClose
}

// OutputKind is what an output to resolve is and how it is spent.
type OutputKind uint8

// The output kinds; their numbers are stored.
const (
	// OutputToLocal is to_local of our commitment: ours after
	// to_self_delay.
	OutputToLocal OutputKind = iota + 1

	// OutputToRemote is to_remote of the peer's commitment: ours at once
	// (after one block with anchors).
	OutputToRemote

	// OutputAnchor is our anchor.
	OutputAnchor

	// OutputRevokedToLocal is to_local of a revoked commitment of the
	// peer, taken with the revocation key.
	OutputRevokedToLocal

	// OutputRevokedHTLC is an HTLC output of a revoked commitment of the
	// peer, taken with the revocation key.
	OutputRevokedHTLC

	// OutputRevokedSecondLevel is the output of an HTLC transaction the
	// cheater broadcast from a revoked commitment, taken with the
	// revocation key.
	OutputRevokedSecondLevel

	// OutputHTLCTimeout is an HTLC we offered, on the peer's
	// commitment: ours once it expires, spent directly.
	OutputHTLCTimeout

	// OutputHTLCSuccess is an HTLC the peer offered, on the peer's
	// commitment: ours with its preimage, spent directly.
	OutputHTLCSuccess

	// OutputLocalHTLCTimeout is an HTLC we offered, on our commitment:
	// spent by the HTLC-timeout transaction the peer signed, once it
	// expires.
	OutputLocalHTLCTimeout

	// OutputLocalHTLCSuccess is an HTLC the peer offered, on our
	// commitment: spent by the HTLC-success transaction with its
	// preimage.
	OutputLocalHTLCSuccess

	// OutputSecondLevel is the output of our HTLC-timeout or
	// HTLC-success transaction: ours after to_self_delay.
	OutputSecondLevel

	outputKindMax = OutputSecondLevel
)

func (k OutputKind) String() string {
	switch k {
	case OutputToLocal:
		return "to_local"
	case OutputToRemote:
		return "to_remote"
	case OutputAnchor:
		return "anchor"
	case OutputRevokedToLocal:
		return "revoked to_local"
	case OutputRevokedHTLC:
		return "revoked HTLC"
	case OutputRevokedSecondLevel:
		return "revoked HTLC transaction"
	case OutputHTLCTimeout:
		return "HTLC timeout"
	case OutputHTLCSuccess:
		return "HTLC success"
	case OutputLocalHTLCTimeout:
		return "HTLC-timeout transaction"
	case OutputLocalHTLCSuccess:
		return "HTLC-success transaction"
	case OutputSecondLevel:
		return "HTLC transaction output"
	}
	return fmt.Sprintf("output kind %d", uint8(k))
}

// ContractOutput is one output of a contract that is ours to take.
type ContractOutput struct {
	OutPoint wire.OutPoint
	Amount   btcutil.Amount
	Kind     OutputKind

	// CSV is the relative lock of the spending input (0: none), counted
	// from ConfHeight (0: the contract's CloseHeight).
	CSV        uint32
	ConfHeight uint32

	// HTLC outputs: which HTLC, for its script.
	Incoming    bool
	PaymentHash [32]byte
	CltvExpiry  uint32

	// SpentBy is the transaction that spent the output (ours or not),
	// zero until then; SpentHeight its block.
	SpentBy     chainhash.Hash
	SpentHeight uint32

	// Abandoned is set for an output left on chain because taking it
	// costs more than it is worth (our anchor once nothing else of the
	// contract is left to sweep it with): it no longer holds the
	// contract open.
	Abandoned bool

	// Sweep holds the fee parameters asked for through BumpFee.
	Sweep SweepParams
}

// SweepParams are the fee parameters of one output's sweep (lnd's
// sweeper parameters). The zero value asks for the sweeper's defaults.
type SweepParams struct {
	// Budget is the most this output's share of a sweep's fee may be
	// (0: the default).
	Budget btcutil.Amount

	// DeadlineHeight is the height by which the sweep should confirm
	// (0: none); the fee rate rises from the starting rate at
	// StartHeight to the budget's at DeadlineHeight.
	DeadlineHeight uint32
	StartHeight    uint32

	// StartRate is the requested starting fee rate in sat/kw (0: the
	// estimate).
	StartRate uint64

	// Immediate asks for the sweep at once rather than at the next block.
	Immediate bool
}

// Resolved reports whether the output needs nothing more: spent on
// chain, or abandoned.
func (o *ContractOutput) Resolved() bool {
	return o.SpentBy != chainhash.Hash{} || o.Abandoned
}

// ContractRecord is the contract court's record of one channel.
type ContractRecord struct {
	// ChanPoint is the funding outpoint: the record's key.
	ChanPoint wire.OutPoint

	Kind ContractKind

	// CommitNum is the commitment number of CloseTx.
	CommitNum uint64

	// CloseTx spends the funding output. For our own force close it is
	// stored before it is broadcast, so a restart broadcasts it again.
	CloseTx *wire.MsgTx

	// CloseHeight is the block CloseTx confirmed in, 0 while it waits.
	CloseHeight uint32

	// Channel is the channel's state when it went to chain: the keys and
	// commitments every resolution derives its scripts from.
	Channel *OpenChannel

	// Outputs are what is ours to take, filled once CloseTx confirms.
	Outputs []ContractOutput

	// SweepTx is the last sweep transaction broadcast for outputs not
	// yet resolved (nil if none), at SweepFeeRate sat/kw, broadcast at
	// height SweepHeight. It is stored before it is broadcast.
	SweepTx      *wire.MsgTx
	SweepFeeRate uint64
	SweepHeight  uint32

	// Sweeps lists every sweep transaction ever broadcast, oldest first.
	Sweeps []chainhash.Hash

	// Resolved is set once every output is spent and the sweeps are
	// deep enough: the channel is then fully closed.
	Resolved bool
}

// Unresolved returns the outputs not yet spent.
func (r *ContractRecord) Unresolved() []*ContractOutput {
	var out []*ContractOutput
	for i := range r.Outputs {
		if !r.Outputs[i].Resolved() {
			out = append(out, &r.Outputs[i])
		}
	}
	return out
}

var contractBucket = []byte("contract-court")

// ErrContractNotFound is returned for a channel point without a record.
var ErrContractNotFound = errors.New("contract record not found")

const (
	// contractVersion 2 added each output's abandoned flag and sweep
	// parameters; version 1 records are read with neither.
	contractVersion = 2

	// maxContractOutputs bounds a record: every output of a commitment
	// (two balances, two anchors, 966 HTLCs) and as many second-level
	// outputs.
	maxContractOutputs = 2 * 970
	// minContractOutput is an output's smallest encoding.
	minContractOutput = 36 + 1 + 1 + 1 + 4 + 1 + 32 + 4 + 32 + 4
	// maxTxBytes bounds a stored transaction.
	maxTxBytes = 400_000
	// maxContractSweeps bounds the sweep history.
	maxContractSweeps = 10_000
)

// PutContract writes r, replacing any earlier record of the channel.
func PutContract(tx kvdb.RwTx, r *ContractRecord) error {
	v, err := EncodeContract(r)
	if err != nil {
		return err
	}
	b, err := tx.CreateTopLevelBucket(contractBucket)
	if err != nil {
		return err
	}
	return b.Put(outpointKey(r.ChanPoint), v)
}

// FetchContract returns the record of chanPoint, or ErrContractNotFound.
func FetchContract(tx kvdb.RTx, chanPoint wire.OutPoint) (*ContractRecord, error) {
	b := tx.ReadBucket(contractBucket)
	var v []byte
	if b != nil {
		v = b.Get(outpointKey(chanPoint))
	}
	if v == nil {
		return nil, fmt.Errorf("%w: %v", ErrContractNotFound, chanPoint)
	}
	return DecodeContract(outpointKey(chanPoint), v)
}

// ListContracts returns every record, in channel-point order.
func ListContracts(tx kvdb.RTx) ([]*ContractRecord, error) {
	b := tx.ReadBucket(contractBucket)
	if b == nil {
		return nil, nil
	}
	var out []*ContractRecord
	err := b.ForEach(func(k, v []byte) error {
		r, err := DecodeContract(k, v)
		if err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	return out, err
}

// EncodeContract encodes r without its channel point, which is its key.
func EncodeContract(r *ContractRecord) ([]byte, error) {
	switch {
	case r.Kind < ContractLocalCommit || r.Kind > ContractBreach:
		return nil, fmt.Errorf("contract %v: unknown %v", r.ChanPoint, r.Kind)
	case r.CloseTx == nil || r.Channel == nil:
		return nil, fmt.Errorf("contract %v: no closing tx or channel", r.ChanPoint)
	case len(r.Outputs) > maxContractOutputs:
		return nil, fmt.Errorf("contract %v: %d outputs", r.ChanPoint, len(r.Outputs))
	case len(r.Sweeps) > maxContractSweeps:
		return nil, fmt.Errorf("contract %v: %d sweeps", r.ChanPoint, len(r.Sweeps))
	}
	ch, err := EncodeOpenChannel(r.Channel)
	if err != nil {
		return nil, fmt.Errorf("contract %v: %w", r.ChanPoint, err)
	}
	w := recWriter{b: make([]byte, 0, 1024+len(ch))}
	w.u8(contractVersion)
	w.u8(uint8(r.Kind))
	w.u64(r.CommitNum)
	if err := writeTx(&w, r.CloseTx); err != nil {
		return nil, err
	}
	w.u32(r.CloseHeight)
	w.bytes(ch)
	w.uvarint(uint64(len(r.Outputs)))
	for i := range r.Outputs {
		o := &r.Outputs[i]
		if o.Kind < OutputToLocal || o.Kind > outputKindMax {
			return nil, fmt.Errorf("contract %v: unknown %v", r.ChanPoint, o.Kind)
		}
		w.outpoint(o.OutPoint)
		w.uvarint(uint64(o.Amount))
		w.u8(uint8(o.Kind))
		w.uvarint(uint64(o.CSV))
		w.u32(o.ConfHeight)
		w.bool(o.Incoming)
		w.raw(o.PaymentHash[:])
		w.u32(o.CltvExpiry)
		w.raw(o.SpentBy[:])
		w.u32(o.SpentHeight)
		var flags uint8
		if o.Abandoned {
			flags |= outputAbandoned
		}
		if o.Sweep.Immediate {
			flags |= outputImmediate
		}
		w.u8(flags)
		w.uvarint(uint64(o.Sweep.Budget))
		w.u32(o.Sweep.DeadlineHeight)
		w.u32(o.Sweep.StartHeight)
		w.uvarint(o.Sweep.StartRate)
	}
	w.bool(r.SweepTx != nil)
	if r.SweepTx != nil {
		if err := writeTx(&w, r.SweepTx); err != nil {
			return nil, err
		}
		w.uvarint(r.SweepFeeRate)
		w.u32(r.SweepHeight)
	}
	w.uvarint(uint64(len(r.Sweeps)))
	for _, h := range r.Sweeps {
		w.raw(h[:])
	}
	w.bool(r.Resolved)
	return w.b, nil
}

func writeTx(w *recWriter, tx *wire.MsgTx) error {
	var buf bytes.Buffer
	if err := tx.Serialize(&buf); err != nil {
		return err
	}
	if buf.Len() > maxTxBytes {
		return fmt.Errorf("transaction of %d bytes", buf.Len())
	}
	w.bytes(buf.Bytes())
	return nil
}

func readTx(r *recReader, what string) *wire.MsgTx {
	raw := r.bytes(maxTxBytes, what)
	if r.err != nil {
		return nil
	}
	tx := new(wire.MsgTx)
	rd := bytes.NewReader(raw)
	if err := tx.Deserialize(rd); err != nil {
		r.fail(fmt.Errorf("%s: %w", what, err))
		return nil
	}
	if rd.Len() != 0 {
		r.fail(fmt.Errorf("%s: %d trailing bytes", what, rd.Len()))
		return nil
	}
	// A transaction re-encodes differently when its witness flag is
	// set with no witness: refuse what would not round-trip.
	var again bytes.Buffer
	if err := tx.Serialize(&again); err != nil || !bytes.Equal(again.Bytes(), raw) {
		r.fail(fmt.Errorf("%s: not canonically encoded", what))
		return nil
	}
	return tx
}

// DecodeContract decodes a record stored under key (the channel point).
func DecodeContract(key, v []byte) (*ContractRecord, error) {
	op, ok := parseOutpointKey(key)
	if !ok {
		return nil, NewRecordError("contract", fmt.Sprintf("%x", key),
			fmt.Errorf("key of %d bytes", len(key)))
	}
	r := recReader{b: v}
	version := r.u8("version")
	if r.err == nil && version != 1 && version != contractVersion {
		r.fail(fmt.Errorf("%w %d (this code writes %d)", ErrUnknownVersion,
			version, contractVersion))
	}
	c := &ContractRecord{ChanPoint: op}
	c.Kind = ContractKind(r.u8("kind"))
	if r.err == nil && (c.Kind < ContractLocalCommit || c.Kind > ContractBreach) {
		r.fail(fmt.Errorf("unknown %v", c.Kind))
	}
	c.CommitNum = r.u64("commitment number")
	c.CloseTx = readTx(&r, "closing tx")
	c.CloseHeight = r.u32("close height")
	if raw := r.bytes(len(v), "channel"); r.err == nil {
		ch, err := DecodeOpenChannel(raw)
		if err != nil {
			r.fail(fmt.Errorf("channel: %w", err))
		} else if ch.FundingOutpoint != op {
			r.fail(fmt.Errorf("channel is %v", ch.FundingOutpoint))
		}
		c.Channel = ch
	}
	n := r.count(minContractOutput, "outputs")
	if n > maxContractOutputs {
		r.fail(fmt.Errorf("%d outputs, at most %d", n, maxContractOutputs))
	}
	for i := 0; i < n && r.err == nil; i++ {
		c.Outputs = append(c.Outputs, readContractOutput(&r, version))
	}
	if r.bool("sweep flag") {
		c.SweepTx = readTx(&r, "sweep tx")
		c.SweepFeeRate = r.uvarint("sweep fee rate")
		c.SweepHeight = r.u32("sweep height")
	}
	n = r.count(32, "sweeps")
	if n > maxContractSweeps {
		r.fail(fmt.Errorf("%d sweeps, at most %d", n, maxContractSweeps))
	}
	for i := 0; i < n && r.err == nil; i++ {
		c.Sweeps = append(c.Sweeps, r.hash("sweep txid"))
	}
	c.Resolved = r.bool("resolved flag")
	if err := r.finish("contract", op.String()); err != nil {
		return nil, err
	}
	return c, nil
}

// Flags of a stored output (version 2).
const (
	outputAbandoned uint8 = 1 << iota
	outputImmediate
	outputFlagsKnown = outputAbandoned | outputImmediate
)

func readContractOutput(r *recReader, version uint8) ContractOutput {
	o := ContractOutput{OutPoint: r.outpoint("output")}
	o.Amount = r.varAmount("output amount")
	o.Kind = OutputKind(r.u8("output kind"))
	if r.err == nil && (o.Kind < OutputToLocal || o.Kind > outputKindMax) {
		r.fail(fmt.Errorf("unknown %v", o.Kind))
	}
	csv := r.uvarint("csv")
	if csv > 0xffff {
		r.fail(fmt.Errorf("csv %d exceeds 16 bits", csv))
	}
	o.CSV = uint32(csv)
	o.ConfHeight = r.u32("confirmation height")
	o.Incoming = r.bool("HTLC direction")
	o.PaymentHash = r.bytes32("payment hash")
	o.CltvExpiry = r.u32("cltv expiry")
	o.SpentBy = r.hash("spending txid")
	o.SpentHeight = r.u32("spend height")
	if version < 2 {
		return o
	}
	flags := r.u8("output flags")
	if r.err == nil && flags&^outputFlagsKnown != 0 {
		r.fail(fmt.Errorf("unknown output flags %#x", flags))
	}
	o.Abandoned = flags&outputAbandoned != 0
	o.Sweep.Immediate = flags&outputImmediate != 0
	o.Sweep.Budget = r.varAmount("sweep budget")
	o.Sweep.DeadlineHeight = r.u32("sweep deadline")
	o.Sweep.StartHeight = r.u32("sweep start height")
	o.Sweep.StartRate = r.uvarint("sweep start rate")
	return o
}
