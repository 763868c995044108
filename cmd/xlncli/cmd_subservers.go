package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"google.golang.org/protobuf/encoding/protojson"

	"lnd.xprv/rpc"
	"lnd.xprv/rpc/lnrpc/verrpc"
	"lnd.xprv/rpc/lnrpc/walletrpc"
)

// This file holds lncli's commands for the sub-servers: `version` and the
// `wallet` group (WalletKit), with lncli's names, flags and output.

// walletKit runs fn with a WalletKit client.
func (a *app) walletKit(fn func(walletrpc.WalletKitClient) error) error {
	conn, err := a.dial(true)
	if err != nil {
		return err
	}
	defer conn.Close()
	return fn(walletrpc.NewWalletKitClient(conn))
}

// cliVersion is this xlncli's build, reported by `version` as lncli
// reports its own.
var cliVersion = rpc.DefaultVersion

type versionCmd struct{ a *app }

// Execute prints {"lncli": ..., "lnd": ...} as lncli does; when the
// daemon cannot be asked, the CLI's part is printed and the command fails.
func (c *versionCmd) Execute(args []string) error {
	if err := noArgs("version", args); err != nil {
		return err
	}
	cli := rpc.VersionInfo(cliVersion, "")
	cli.BuildTags = nil
	var daemon *verrpc.Version
	conn, err := c.a.dial(true)
	if err == nil {
		daemon, err = verrpc.NewVersionerClient(conn).GetVersion(c.a.ctx, &verrpc.VersionRequest{})
		conn.Close()
	}
	if perr := c.a.printVersions(cli, daemon); perr != nil {
		return perr
	}
	if err != nil {
		return fmt.Errorf("unable fetch version from xlnd: %w", err)
	}
	return nil
}

// printVersions prints lncli's VersionResponse layout; a nil daemon
// version is left out.
func (a *app) printVersions(cli, daemon *verrpc.Version) error {
	opts := protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}
	out := struct {
		Lncli json.RawMessage `json:"lncli"`
		Lnd   json.RawMessage `json:"lnd,omitempty"`
	}{}
	var err error
	if out.Lncli, err = opts.Marshal(cli); err != nil {
		return err
	}
	if daemon != nil {
		if out.Lnd, err = opts.Marshal(daemon); err != nil {
			return err
		}
	}
	return a.printJSON(out)
}

// walletCmd is lncli's `wallet` group.
type walletCmd struct {
	EstimateFeeRate estimateFeeRateCmd `command:"estimatefeerate" description:"Estimates the on-chain fee rate to achieve a confirmation target: estimatefeerate <conf_target>."`
	LabelTx         labelTxCmd         `command:"labeltx" description:"Adds a label to a transaction: labeltx <txid> <label>."`
	PublishTx       publishTxCmd       `command:"publishtx" description:"Attempts to publish the passed transaction to the network: publishtx <tx_hex>."`
	LeaseOutput     leaseOutputCmd     `command:"leaseoutput" description:"Lease an output."`
	ReleaseOutput   releaseOutputCmd   `command:"releaseoutput" description:"Release an output previously locked: releaseoutput <outpoint>."`
	ListLeases      listLeasesCmd      `command:"listleases" description:"Return a list of currently held leases."`
	Psbt            psbtCmd            `command:"psbt" description:"Interact with partially signed bitcoin transactions (PSBTs)."`
	Accounts        accountsCmd        `command:"accounts" description:"Interact with wallet accounts."`
	PendingSweeps   pendingSweepsCmd   `command:"pendingsweeps" description:"List all outputs that are pending to be swept within lnd's sweeper."`
	BumpFee         bumpFeeCmd         `command:"bumpfee" description:"Bumps the fee of the sweep of an output: bumpfee <outpoint>."`
	ListSweeps      listSweepsCmd      `command:"listsweeps" description:"Lists all sweeps that have been published by our node."`
}

type psbtCmd struct {
	Fund     psbtFundCmd     `command:"fund" description:"Fund a PSBT: select and lease coins for a template's outputs and add change."`
	Sign     psbtSignCmd     `command:"sign" description:"Sign a PSBT's inputs that spend wallet outputs: sign <funded_psbt>."`
	Finalize psbtFinalizeCmd `command:"finalize" description:"Sign and finalize a PSBT: finalize <funded_psbt>."`
}

type accountsCmd struct {
	List listAccountsCmd `command:"list" description:"Retrieve information of existing on-chain wallet accounts."`
}

func newWalletCmd(a *app) *walletCmd {
	w := &walletCmd{}
	w.EstimateFeeRate.a, w.LabelTx.a, w.PublishTx.a = a, a, a
	w.LeaseOutput.a, w.ReleaseOutput.a, w.ListLeases.a = a, a, a
	w.Psbt.Fund.a, w.Psbt.Sign.a, w.Psbt.Finalize.a = a, a, a
	w.Accounts.List.a = a
	w.PendingSweeps.a, w.BumpFee.a, w.ListSweeps.a = a, a, a
	return w
}

type estimateFeeRateCmd struct{ a *app }

func (c *estimateFeeRateCmd) Execute(args []string) error {
	if len(args) != 1 {
		return errors.New("estimatefeerate takes one argument: <conf_target>")
	}
	target, err := strconv.ParseInt(args[0], 10, 32)
	if err != nil || target <= 0 {
		return errors.New("conf_target out of range")
	}
	return c.a.walletKit(func(k walletrpc.WalletKitClient) error {
		resp, err := k.EstimateFee(c.a.ctx, &walletrpc.EstimateFeeRequest{ConfTarget: int32(target)})
		if err != nil {
			return err
		}
		// sat/kw to sat/vB, rounded down as lnd's FeePerVByte does.
		return c.a.printJSON(struct {
			SatPerKw               int64 `json:"sat_per_kw"`
			SatPerVByte            int64 `json:"sat_per_vbyte"`
			MinRelayFeeSatPerKw    int64 `json:"min_relay_fee_sat_per_kw"`
			MinRelayFeeSatPerVByte int64 `json:"min_relay_fee_sat_per_vbyte"`
		}{resp.SatPerKw, resp.SatPerKw * 4 / 1000, resp.MinRelayFeeSatPerKw, resp.MinRelayFeeSatPerKw * 4 / 1000})
	})
}

type labelTxCmd struct {
	a         *app
	Overwrite bool `long:"overwrite" description:"set to overwrite existing labels"`
}

func (c *labelTxCmd) Execute(args []string) error {
	if len(args) != 2 {
		return errors.New("labeltx takes two arguments: <txid> <label>")
	}
	hash, err := chainhash.NewHashFromStr(args[0])
	if err != nil {
		return fmt.Errorf("txid: %w", err)
	}
	return c.a.walletKit(func(k walletrpc.WalletKitClient) error {
		_, err := k.LabelTransaction(c.a.ctx, &walletrpc.LabelTransactionRequest{
			Txid: hash[:], Label: args[1], Overwrite: c.Overwrite})
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(c.a.out, "Transaction: %v labelled with: %v\n", args[0], args[1])
		return err
	})
}

type publishTxCmd struct {
	a     *app
	Label string `long:"label" description:"(optional) transaction label"`
}

func (c *publishTxCmd) Execute(args []string) error {
	if len(args) != 1 {
		return errors.New("publishtx takes one argument: <tx_hex>")
	}
	raw, err := hex.DecodeString(args[0])
	if err != nil {
		return fmt.Errorf("tx_hex: %w", err)
	}
	tx := &wire.MsgTx{}
	if err := tx.Deserialize(bytes.NewReader(raw)); err != nil {
		return fmt.Errorf("tx_hex is not a transaction: %w", err)
	}
	return c.a.walletKit(func(k walletrpc.WalletKitClient) error {
		if _, err := k.PublishTransaction(c.a.ctx, &walletrpc.Transaction{TxHex: raw, Label: c.Label}); err != nil {
			return err
		}
		return c.a.printJSON(struct {
			TXID string `json:"txid"`
		}{tx.TxHash().String()})
	})
}

// parseLockID parses a hex lease id.
func parseLockID(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("lockid not specified")
	}
	id, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("error parsing lockid: %w", err)
	}
	return id, nil
}

type leaseOutputCmd struct {
	a        *app
	Outpoint string `long:"outpoint" description:"the output to lock, txid:index"`
	LockID   string `long:"lockid" description:"the hex-encoded app lock ID"`
	Expiry   uint64 `long:"expiry" description:"expiration duration in seconds"`
}

func (c *leaseOutputCmd) Execute(args []string) error {
	if err := noArgs("leaseoutput", args); err != nil {
		return err
	}
	op, err := parseUtxo(c.Outpoint)
	if err != nil {
		return fmt.Errorf("error parsing outpoint: %w", err)
	}
	id, err := parseLockID(c.LockID)
	if err != nil {
		return err
	}
	return c.a.walletKit(func(k walletrpc.WalletKitClient) error {
		resp, err := k.LeaseOutput(c.a.ctx, &walletrpc.LeaseOutputRequest{
			Id: id, Outpoint: op, ExpirationSeconds: c.Expiry})
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}

type releaseOutputCmd struct {
	a        *app
	Outpoint string `long:"outpoint" description:"the output to unlock, txid:index"`
	LockID   string `long:"lockid" description:"the hex-encoded app lock ID (default: lnd's internal one)"`
}

func (c *releaseOutputCmd) Execute(args []string) error {
	outpoint := c.Outpoint
	switch {
	case len(args) == 1 && outpoint == "":
		outpoint = args[0]
	case len(args) != 0:
		return errors.New("releaseoutput takes one argument: <outpoint>")
	}
	op, err := parseUtxo(outpoint)
	if err != nil {
		return fmt.Errorf("error parsing outpoint: %w", err)
	}
	// lncli's default is lnd's internal lock id, the one FundPsbt uses.
	id := internalLockID
	if c.LockID != "" {
		if id, err = parseLockID(c.LockID); err != nil {
			return err
		}
	}
	return c.a.walletKit(func(k walletrpc.WalletKitClient) error {
		resp, err := k.ReleaseOutput(c.a.ctx, &walletrpc.ReleaseOutputRequest{Id: id, Outpoint: op})
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}

// internalLockID is lnd's internal lease id (FundPsbt's default).
var internalLockID = []byte{
	0xed, 0xe1, 0x9a, 0x92, 0xed, 0x32, 0x1a, 0x47,
	0x05, 0xf8, 0xa1, 0xcc, 0xcc, 0x1d, 0x4f, 0x61,
	0x82, 0x54, 0x5d, 0x4b, 0xb4, 0xfa, 0xe0, 0x8b,
	0xd5, 0x93, 0x78, 0x31, 0xb7, 0xe3, 0x8f, 0x98,
}

// leaseJSON is how lncli prints a lease: hex id, txid:index outpoint.
type leaseJSON struct {
	ID         string `json:"id"`
	OutPoint   string `json:"outpoint"`
	Expiration uint64 `json:"expiration"`
	PkScript   []byte `json:"pk_script"`
	Value      uint64 `json:"value"`
}

func leasesJSON(ls []*walletrpc.UtxoLease) []leaseJSON {
	out := make([]leaseJSON, 0, len(ls))
	for _, l := range ls {
		j := leaseJSON{ID: hex.EncodeToString(l.Id), Expiration: l.Expiration,
			PkScript: l.PkScript, Value: l.Value}
		if op := l.Outpoint; op != nil {
			j.OutPoint = fmt.Sprintf("%s:%d", op.TxidStr, op.OutputIndex)
		}
		out = append(out, j)
	}
	return out
}

type listLeasesCmd struct{ a *app }

func (c *listLeasesCmd) Execute(args []string) error {
	if err := noArgs("listleases", args); err != nil {
		return err
	}
	return c.a.walletKit(func(k walletrpc.WalletKitClient) error {
		resp, err := k.ListLeases(c.a.ctx, &walletrpc.ListLeasesRequest{})
		if err != nil {
			return err
		}
		return c.a.printJSON(leasesJSON(resp.LockedUtxos))
	})
}

type psbtFundCmd struct {
	a            *app
	TemplatePsbt string `long:"template_psbt" description:"base64 PSBT whose outputs to fund (no inputs)"`
	Outputs      string `long:"outputs" description:"JSON {\"address\": amount_sat, ...} of the outputs to fund"`
	Inputs       string `long:"inputs" description:"JSON [\"txid:index\", ...]: the wallet coins to spend, all of them and no other (with --outputs)"`
	ConfTarget   uint32 `long:"conf_target" description:"blocks the transaction should confirm within"`
	SatPerVByte  uint64 `long:"sat_per_vbyte" description:"fee rate in sat/vbyte"`
	SatPerKw     uint64 `long:"sat_per_kw" description:"fee rate in sat/kw"`
	Account      string `long:"account" description:"(optional) the account to fund from"`
	MinConfs     int32  `long:"min_confs" default:"1" description:"confirmations of the coins to spend"`
}

func (c *psbtFundCmd) request() (*walletrpc.FundPsbtRequest, error) {
	req := &walletrpc.FundPsbtRequest{Account: c.Account, MinConfs: c.MinConfs,
		SpendUnconfirmed: c.MinConfs == 0}
	switch {
	case c.TemplatePsbt != "" && (c.Outputs != "" || c.Inputs != ""):
		return nil, errors.New("cannot set template_psbt and inputs/outputs flags at the same time")
	case c.TemplatePsbt != "":
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(c.TemplatePsbt))
		if err != nil {
			return nil, fmt.Errorf("error parsing template PSBT: %w", err)
		}
		req.Template = &walletrpc.FundPsbtRequest_Psbt{Psbt: raw}
	case c.Outputs != "":
		var outs map[string]uint64
		if err := json.Unmarshal([]byte(c.Outputs), &outs); err != nil {
			return nil, fmt.Errorf("error parsing outputs JSON: %w", err)
		}
		tpl := &walletrpc.TxTemplate{Outputs: outs}
		if c.Inputs != "" {
			var ins []string
			if err := json.Unmarshal([]byte(c.Inputs), &ins); err != nil {
				return nil, fmt.Errorf("error parsing inputs JSON: %w", err)
			}
			for i, in := range ins {
				op, err := parseUtxo(in)
				if err != nil {
					return nil, fmt.Errorf("error parsing UTXO outpoint %d: %w", i, err)
				}
				tpl.Inputs = append(tpl.Inputs, op)
			}
		}
		req.Template = &walletrpc.FundPsbtRequest_Raw{Raw: tpl}
	default:
		return nil, errors.New("either --outputs or --template_psbt must be set")
	}
	set := 0
	if c.ConfTarget > 0 {
		req.Fees, set = &walletrpc.FundPsbtRequest_TargetConf{TargetConf: c.ConfTarget}, set+1
	}
	if c.SatPerVByte > 0 {
		req.Fees, set = &walletrpc.FundPsbtRequest_SatPerVbyte{SatPerVbyte: c.SatPerVByte}, set+1
	}
	if c.SatPerKw > 0 {
		req.Fees, set = &walletrpc.FundPsbtRequest_SatPerKw{SatPerKw: c.SatPerKw}, set+1
	}
	switch set {
	case 0:
		req.Fees = &walletrpc.FundPsbtRequest_TargetConf{TargetConf: 6}
	case 1:
	default:
		return nil, errors.New("set only one of --conf_target, --sat_per_vbyte, --sat_per_kw")
	}
	return req, nil
}

func (c *psbtFundCmd) Execute(args []string) error {
	if err := noArgs("psbt fund", args); err != nil {
		return err
	}
	req, err := c.request()
	if err != nil {
		return err
	}
	return c.a.walletKit(func(k walletrpc.WalletKitClient) error {
		resp, err := k.FundPsbt(c.a.ctx, req)
		if err != nil {
			return err
		}
		return c.a.printJSON(struct {
			Psbt              string      `json:"psbt"`
			ChangeOutputIndex int32       `json:"change_output_index"`
			Locks             []leaseJSON `json:"locks"`
		}{base64.StdEncoding.EncodeToString(resp.FundedPsbt), resp.ChangeOutputIndex,
			leasesJSON(resp.LockedUtxos)})
	})
}

// psbtArg is the PSBT of sign and finalize: --funded_psbt or the argument.
func psbtArg(name, flag string, args []string) ([]byte, error) {
	switch {
	case flag != "" && len(args) == 0:
	case flag == "" && len(args) == 1:
		flag = args[0]
	default:
		return nil, fmt.Errorf("%s takes one base64 PSBT, as --funded_psbt or argument", name)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(flag))
	if err != nil {
		return nil, fmt.Errorf("error parsing PSBT: %w", err)
	}
	return raw, nil
}

type psbtSignCmd struct {
	a          *app
	FundedPsbt string `long:"funded_psbt" description:"the base64 encoded PSBT to sign"`
}

func (c *psbtSignCmd) Execute(args []string) error {
	raw, err := psbtArg("psbt sign", c.FundedPsbt, args)
	if err != nil {
		return err
	}
	return c.a.walletKit(func(k walletrpc.WalletKitClient) error {
		resp, err := k.SignPsbt(c.a.ctx, &walletrpc.SignPsbtRequest{FundedPsbt: raw})
		if err != nil {
			return err
		}
		return c.a.printJSON(struct {
			Psbt               string   `json:"psbt"`
			SignedInputIndexes []uint32 `json:"signed_input_indexes"`
		}{base64.StdEncoding.EncodeToString(resp.SignedPsbt), resp.SignedInputs})
	})
}

type psbtFinalizeCmd struct {
	a          *app
	FundedPsbt string `long:"funded_psbt" description:"the base64 encoded PSBT to finalize"`
	Account    string `long:"account" description:"(optional) the account to finalize with"`
}

func (c *psbtFinalizeCmd) Execute(args []string) error {
	raw, err := psbtArg("psbt finalize", c.FundedPsbt, args)
	if err != nil {
		return err
	}
	return c.a.walletKit(func(k walletrpc.WalletKitClient) error {
		resp, err := k.FinalizePsbt(c.a.ctx, &walletrpc.FinalizePsbtRequest{
			FundedPsbt: raw, Account: c.Account})
		if err != nil {
			return err
		}
		return c.a.printJSON(struct {
			Psbt    string `json:"psbt"`
			FinalTx string `json:"final_tx"`
		}{base64.StdEncoding.EncodeToString(resp.SignedPsbt), hex.EncodeToString(resp.RawFinalTx)})
	})
}

type listAccountsCmd struct {
	a           *app
	Name        string `long:"name" description:"(optional) only accounts matching this name"`
	AddressType string `long:"address_type" description:"(optional) only accounts of this type: p2wkh, np2wkh, p2tr"`
}

func (c *listAccountsCmd) Execute(args []string) error {
	if err := noArgs("accounts list", args); err != nil {
		return err
	}
	var t walletrpc.AddressType
	switch c.AddressType {
	case "":
	case "p2wkh":
		t = walletrpc.AddressType_WITNESS_PUBKEY_HASH
	case "np2wkh":
		t = walletrpc.AddressType_NESTED_WITNESS_PUBKEY_HASH
	case "p2tr":
		t = walletrpc.AddressType_TAPROOT_PUBKEY
	default:
		return fmt.Errorf("invalid address type %q, want p2wkh, np2wkh or p2tr", c.AddressType)
	}
	return c.a.walletKit(func(k walletrpc.WalletKitClient) error {
		resp, err := k.ListAccounts(c.a.ctx, &walletrpc.ListAccountsRequest{Name: c.Name, AddressType: t})
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}
