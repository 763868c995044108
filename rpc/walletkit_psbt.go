package rpc

import (
	"bytes"
	"context"
	"fmt"
	"sort"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/psbt"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"lnd.xprv/chain"
	"lnd.xprv/rpc/lnrpc/walletrpc"
	"lnd.xprv/wallet"
)

const (
	// maxPsbtSize bounds a PSBT from a caller (the gRPC message limit is
	// larger); a standard transaction is at most 400 kWU.
	maxPsbtSize = 4 << 20

	// defaultMaxFeeRatio is lnd's FundPsbt limit on fee / outputs when the
	// caller sets none.
	defaultMaxFeeRatio = 0.2
)

// decodeTx decodes a serialized transaction, refusing trailing bytes.
func decodeTx(raw []byte) (*wire.MsgTx, error) {
	tx := &wire.MsgTx{}
	r := bytes.NewReader(raw)
	if err := tx.Deserialize(r); err != nil {
		return nil, err
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("%d bytes after the transaction", r.Len())
	}
	return tx, nil
}

func serializeTx(tx *wire.MsgTx) ([]byte, error) {
	var buf bytes.Buffer
	if err := tx.Serialize(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func serializePsbt(p *psbt.Packet) ([]byte, error) {
	var buf bytes.Buffer
	if err := p.Serialize(&buf); err != nil {
		return nil, status.Errorf(codes.Internal, "serialize psbt: %v", err)
	}
	return buf.Bytes(), nil
}

// parsePsbt decodes a binary PSBT from a caller. Anything malformed is
// InvalidArgument.
func parsePsbt(field string, raw []byte) (*psbt.Packet, error) {
	if len(raw) == 0 {
		return nil, invalidf("%s is empty", field)
	}
	if len(raw) > maxPsbtSize {
		return nil, invalidf("%s is %d bytes, more than %d", field, len(raw), maxPsbtSize)
	}
	r := bytes.NewReader(raw)
	p, err := psbt.NewFromRawBytes(r, false)
	if err != nil {
		return nil, invalidf("%s is not a valid PSBT: %v", field, err)
	}
	if r.Len() != 0 {
		return nil, invalidf("%s has %d bytes after the PSBT", field, r.Len())
	}
	if err := p.SanityCheck(); err != nil {
		return nil, invalidf("%s is not a valid PSBT: %v", field, err)
	}
	seen := make(map[wire.OutPoint]bool, len(p.UnsignedTx.TxIn))
	for i, in := range p.UnsignedTx.TxIn {
		if seen[in.PreviousOutPoint] {
			return nil, invalidf("%s: input %d spends %v twice", field, i, in.PreviousOutPoint)
		}
		seen[in.PreviousOutPoint] = true
	}
	return p, nil
}

// psbtPrevOut returns the output input i spends, from its witness UTXO or
// its full previous transaction (checked against the outpoint), or nil if
// the PSBT gives neither.
func psbtPrevOut(p *psbt.Packet, i int) (*wire.TxOut, error) {
	in := &p.Inputs[i]
	op := p.UnsignedTx.TxIn[i].PreviousOutPoint
	var fromTx *wire.TxOut
	if in.NonWitnessUtxo != nil {
		if in.NonWitnessUtxo.TxHash() != op.Hash {
			return nil, invalidf("input %d: non_witness_utxo is not transaction %v", i, op.Hash)
		}
		if int(op.Index) >= len(in.NonWitnessUtxo.TxOut) {
			return nil, invalidf("input %d: non_witness_utxo has no output %d", i, op.Index)
		}
		fromTx = in.NonWitnessUtxo.TxOut[op.Index]
	}
	switch {
	case in.WitnessUtxo != nil && fromTx != nil && !psbt.TxOutsEqual(in.WitnessUtxo, fromTx):
		return nil, invalidf("input %d: witness_utxo and non_witness_utxo disagree", i)
	case in.WitnessUtxo != nil:
		return in.WitnessUtxo, nil
	}
	return fromTx, nil
}

// finalized reports whether input i already has its final scripts.
func finalized(in *psbt.PInput) bool {
	return len(in.FinalScriptWitness) > 0 || len(in.FinalScriptSig) > 0
}

// signPacket adds the wallet's signatures to the inputs of p that spend
// wallet outputs and returns their indices. Only SIGHASH_ALL (and taproot's
// DEFAULT) is signed.
func signPacket(kit WalletKit, p *psbt.Packet) ([]uint32, error) {
	prevs := make(map[wire.OutPoint]*wire.TxOut, len(p.Inputs))
	for i := range p.Inputs {
		prev, err := psbtPrevOut(p, i)
		if err != nil {
			return nil, err
		}
		if prev != nil {
			prevs[p.UnsignedTx.TxIn[i].PreviousOutPoint] = prev
		}
		switch p.Inputs[i].SighashType {
		case 0, txscript.SigHashAll:
		default:
			return nil, invalidf("input %d asks for sighash type %v; only ALL is signed",
				i, p.Inputs[i].SighashType)
		}
	}
	sigs, err := kit.SignOwnInputs(p.UnsignedTx, prevs)
	if err != nil {
		return nil, err
	}
	signed := []uint32{}
	for _, s := range sigs {
		in := &p.Inputs[s.Index]
		if finalized(in) {
			continue
		}
		if in.WitnessUtxo == nil {
			in.WitnessUtxo = s.PrevOut
		}
		switch {
		case s.Type == wallet.AddressP2WPKH && len(s.Witness) == 2:
			in.PartialSigs = addPartialSig(in.PartialSigs, &psbt.PartialSig{
				PubKey: s.Witness[1], Signature: s.Witness[0]})
		case s.Type == wallet.AddressNP2WPKH && len(s.Witness) == 2 && len(s.RedeemScript) > 0:
			in.RedeemScript = s.RedeemScript
			in.PartialSigs = addPartialSig(in.PartialSigs, &psbt.PartialSig{
				PubKey: s.Witness[1], Signature: s.Witness[0]})
		case s.Type == wallet.AddressP2TR && len(s.Witness) == 1:
			in.TaprootKeySpendSig = s.Witness[0]
		default:
			return nil, status.Errorf(codes.Internal, "input %d: unexpected %v witness", s.Index, s.Type)
		}
		signed = append(signed, uint32(s.Index))
	}
	return signed, nil
}

// addPartialSig replaces any signature by the same key.
func addPartialSig(sigs []*psbt.PartialSig, s *psbt.PartialSig) []*psbt.PartialSig {
	out := sigs[:0:0]
	for _, o := range sigs {
		if !bytes.Equal(o.PubKey, s.PubKey) {
			out = append(out, o)
		}
	}
	return append(out, s)
}

func (k *walletKitService) SignPsbt(_ context.Context, req *walletrpc.SignPsbtRequest) (*walletrpc.SignPsbtResponse, error) {
	_, kit, err := k.kit()
	if err != nil {
		return nil, err
	}
	p, err := parsePsbt("funded_psbt", req.FundedPsbt)
	if err != nil {
		return nil, err
	}
	signed, err := signPacket(kit, p)
	if err != nil {
		return nil, k.s.toStatus(err)
	}
	raw, err := serializePsbt(p)
	if err != nil {
		return nil, err
	}
	return &walletrpc.SignPsbtResponse{SignedPsbt: raw, SignedInputs: signed}, nil
}

func (k *walletKitService) FinalizePsbt(_ context.Context, req *walletrpc.FinalizePsbtRequest) (*walletrpc.FinalizePsbtResponse, error) {
	_, kit, err := k.kit()
	if err != nil {
		return nil, err
	}
	if err := checkKitAccount(req.Account); err != nil {
		return nil, err
	}
	p, err := parsePsbt("funded_psbt", req.FundedPsbt)
	if err != nil {
		return nil, err
	}
	if len(p.UnsignedTx.TxIn) == 0 {
		return nil, invalidf("funded_psbt has no inputs")
	}
	if _, err := signPacket(kit, p); err != nil {
		return nil, k.s.toStatus(err)
	}
	if err := psbt.MaybeFinalizeAll(p); err != nil {
		return nil, status.Errorf(codes.FailedPrecondition,
			"cannot finalize the PSBT (every input that is not ours must carry "+
				"its signatures and previous output): %v", err)
	}
	tx, err := psbt.Extract(p)
	if err != nil {
		return nil, status.Errorf(codes.FailedPrecondition, "extract the transaction: %v", err)
	}
	rawTx, err := serializeTx(tx)
	if err != nil {
		return nil, k.s.toStatus(err)
	}
	rawPsbt, err := serializePsbt(p)
	if err != nil {
		return nil, err
	}
	return &walletrpc.FinalizePsbtResponse{SignedPsbt: rawPsbt, RawFinalTx: rawTx}, nil
}

// fundTemplate returns what a FundPsbt call asks to pay, the inputs it
// names (if any: then exactly those fund it), and for a PSBT template, the
// template.
func (k *walletKitService) fundTemplate(req *walletrpc.FundPsbtRequest) ([]*wire.TxOut, []wire.OutPoint, *psbt.Packet, error) {
	switch t := req.Template.(type) {
	case *walletrpc.FundPsbtRequest_Psbt:
		p, err := parsePsbt("psbt", t.Psbt)
		if err != nil {
			return nil, nil, nil, err
		}
		var inputs []wire.OutPoint
		for _, in := range p.UnsignedTx.TxIn {
			inputs = append(inputs, in.PreviousOutPoint)
		}
		return p.UnsignedTx.TxOut, inputs, p, nil

	case *walletrpc.FundPsbtRequest_Raw:
		if t.Raw == nil || len(t.Raw.Outputs) == 0 {
			return nil, nil, nil, invalidf("raw template has no outputs")
		}
		var inputs []wire.OutPoint
		seen := make(map[wire.OutPoint]bool)
		for _, in := range t.Raw.Inputs {
			op, err := parseOutPoint(in)
			if err != nil {
				return nil, nil, nil, err
			}
			if seen[op] {
				return nil, nil, nil, invalidf("raw template names input %v twice", op)
			}
			seen[op] = true
			inputs = append(inputs, op)
		}
		outs, err := k.rawOutputs(t.Raw.Outputs)
		return outs, inputs, nil, err

	case *walletrpc.FundPsbtRequest_CoinSelect:
		return nil, nil, nil, status.Error(codes.Unimplemented, "coin_select templates are not supported")
	}
	return nil, nil, nil, invalidf("a psbt or raw template is required")
}

// rawOutputs turns address → amount into outputs, in address order (a map
// has none of its own).
func (k *walletKitService) rawOutputs(m map[string]uint64) ([]*wire.TxOut, error) {
	addrs := make([]string, 0, len(m))
	for a := range m {
		addrs = append(addrs, a)
	}
	sort.Strings(addrs)
	outs := make([]*wire.TxOut, 0, len(addrs))
	for _, a := range addrs {
		addr, err := btcutil.DecodeAddress(a, k.s.cfg.Network.Params)
		if err != nil || !addr.IsForNet(k.s.cfg.Network.Params) {
			return nil, invalidf("output address %q is not valid for %s", a, k.s.cfg.Network.Name)
		}
		script, err := txscript.PayToAddrScript(addr)
		if err != nil {
			return nil, invalidf("output address %q: %v", a, err)
		}
		if m[a] > btcutil.MaxSatoshi {
			return nil, invalidf("output amount %d is out of range", m[a])
		}
		outs = append(outs, wire.NewTxOut(int64(m[a]), script))
	}
	return outs, nil
}

// fundFeeRate resolves FundPsbt's fee choice; one is required, as in lnd.
func fundFeeRate(ctx context.Context, kit WalletKit, req *walletrpc.FundPsbtRequest) (chain.SatPerKWeight, error) {
	var pref wallet.FeePreference
	switch f := req.Fees.(type) {
	case *walletrpc.FundPsbtRequest_TargetConf:
		if f.TargetConf == 0 {
			return 0, invalidf("target_conf must be > 0")
		}
		pref.ConfTarget = f.TargetConf
	case *walletrpc.FundPsbtRequest_SatPerVbyte:
		if f.SatPerVbyte == 0 || f.SatPerVbyte > maxSatPerVByte {
			return 0, invalidf("sat_per_vbyte %d is out of range", f.SatPerVbyte)
		}
		pref.SatPerVByte = chain.SatPerVByte(f.SatPerVbyte)
	case *walletrpc.FundPsbtRequest_SatPerKw:
		if f.SatPerKw == 0 || f.SatPerKw > maxSatPerVByte*250 {
			return 0, invalidf("sat_per_kw %d is out of range", f.SatPerKw)
		}
		pref.SatPerKWeight = chain.SatPerKWeight(f.SatPerKw)
	default:
		return 0, invalidf("fee definition missing, need to specify either target_conf, sat_per_vbyte or sat_per_kw")
	}
	return kit.FeeRate(ctx, pref)
}

// maxSatPerVByte bounds a caller's fee rate (a typo guard).
const maxSatPerVByte = 100_000

func (k *walletKitService) FundPsbt(ctx context.Context, req *walletrpc.FundPsbtRequest) (*walletrpc.FundPsbtResponse, error) {
	_, kit, err := k.kit()
	if err != nil {
		return nil, err
	}
	if err := checkKitAccount(req.Account); err != nil {
		return nil, err
	}
	changeType := wallet.AddressP2WPKH
	switch req.ChangeType {
	case walletrpc.ChangeAddressType_CHANGE_ADDRESS_TYPE_UNSPECIFIED:
	case walletrpc.ChangeAddressType_CHANGE_ADDRESS_TYPE_P2TR:
		changeType = wallet.AddressP2TR
	default:
		return nil, invalidf("unknown change_type %v", req.ChangeType)
	}
	if _, err := coinSelection(req.CoinSelectionStrategy); err != nil {
		return nil, err
	}
	ratio := req.MaxFeeRatio
	if ratio == 0 {
		ratio = defaultMaxFeeRatio
	}
	if !(ratio > 0 && ratio <= 1) {
		return nil, invalidf("max_fee_ratio must be in (0, 1]")
	}
	confs, err := minConfs(req.MinConfs, req.SpendUnconfirmed)
	if err != nil {
		return nil, err
	}
	id := lndInternalLockID
	if len(req.CustomLockId) > 0 {
		if id, err = lockID(req.CustomLockId); err != nil {
			return nil, err
		}
	}
	d, err := leaseDuration(req.LockExpirationSeconds)
	if err != nil {
		return nil, err
	}
	outs, inputs, template, err := k.fundTemplate(req)
	if err != nil {
		return nil, err
	}
	rate, err := fundFeeRate(ctx, kit, req)
	if err != nil {
		return nil, k.s.toStatus(err)
	}
	funded, err := kit.Fund(ctx, wallet.FundRequest{Outputs: outs, FeeRate: rate,
		MinConfs: confs, LockID: id, LeaseDuration: d, ChangeType: changeType,
		Inputs: inputs})
	if err != nil {
		return nil, k.s.toStatus(err)
	}
	resp, err := fundedResponse(funded, template, ratio)
	if err != nil {
		// Nothing was handed out: give the coins back.
		for _, in := range funded.Inputs {
			if rerr := kit.ReleaseOutput(funded.LockID, in.OutPoint); rerr != nil {
				k.s.log.Warn("release after failed FundPsbt", "outpoint", in.OutPoint, "err", rerr)
			}
		}
		return nil, err
	}
	return resp, nil
}

// fundedResponse builds FundPsbt's answer: the funded PSBT (the template's
// output data kept), the change index and the leases.
func fundedResponse(f *wallet.FundedTx, template *psbt.Packet, maxRatio float64) (*walletrpc.FundPsbtResponse, error) {
	var paid int64
	for i, o := range f.Tx.TxOut {
		if i != f.ChangeIndex {
			paid += o.Value
		}
	}
	if float64(f.Fee) > maxRatio*float64(paid) {
		return nil, invalidf("fee %v is more than %v of the %v paid out (max_fee_ratio)",
			f.Fee, maxRatio, btcutil.Amount(paid))
	}
	tx := f.Tx.Copy()
	if template != nil {
		if template.UnsignedTx.LockTime != 0 {
			tx.LockTime = template.UnsignedTx.LockTime
		}
		// Inputs the template named keep their sequence numbers (the
		// wallet spends them in the template's order).
		if in := template.UnsignedTx.TxIn; len(in) == len(tx.TxIn) {
			for i := range in {
				if in[i].PreviousOutPoint == tx.TxIn[i].PreviousOutPoint {
					tx.TxIn[i].Sequence = in[i].Sequence
				}
			}
		}
	}
	p, err := psbt.NewFromUnsignedTx(tx)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "psbt of funded transaction: %v", err)
	}
	byOutpoint := make(map[wire.OutPoint]wallet.Utxo, len(f.Inputs))
	resp := &walletrpc.FundPsbtResponse{ChangeOutputIndex: int32(f.ChangeIndex)}
	for _, u := range f.Inputs {
		byOutpoint[u.OutPoint] = u
		resp.LockedUtxos = append(resp.LockedUtxos, marshalLease(wallet.Lease{
			LockID: f.LockID, OutPoint: u.OutPoint, Value: u.Value,
			PkScript: u.PkScript, Expiry: f.Expiry}))
	}
	for i, in := range tx.TxIn {
		u, ok := byOutpoint[in.PreviousOutPoint]
		if !ok {
			return nil, status.Errorf(codes.Internal, "funded input %v unknown", in.PreviousOutPoint)
		}
		p.Inputs[i].WitnessUtxo = wire.NewTxOut(int64(u.Value), u.PkScript)
	}
	if template != nil {
		p.Unknowns = template.Unknowns
		next := 0
		for i := range p.Outputs {
			if i == f.ChangeIndex {
				continue
			}
			if next >= len(template.Outputs) {
				return nil, status.Error(codes.Internal, "funded outputs do not match the template")
			}
			p.Outputs[i] = template.Outputs[next]
			next++
		}
	}
	raw, err := serializePsbt(p)
	if err != nil {
		return nil, err
	}
	resp.FundedPsbt = raw
	return resp, nil
}
