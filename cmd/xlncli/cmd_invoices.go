package main

import (
	"encoding/hex"
	"fmt"
	"strconv"

	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/invoicesrpc"
)

// invoiceFlags are the flags addinvoice and addholdinvoice share, as
// lncli's.
type invoiceFlags struct {
	Memo            string `long:"memo" description:"a description of the payment to attach along with the invoice (default=\"\")"`
	Amt             int64  `long:"amt" description:"the amt of satoshis in this invoice"`
	AmtMsat         int64  `long:"amt_msat" description:"the amt of millisatoshis in this invoice"`
	DescriptionHash string `long:"description_hash" description:"SHA-256 hash of the description of the payment, used instead of the memo in the payment request"`
	FallbackAddr    string `long:"fallback_addr" description:"fallback on-chain address that can be used in case the lightning payment fails"`
	Expiry          int64  `long:"expiry" description:"the invoice's expiry time in seconds (default: 86400, one day)"`
	CltvExpiryDelta uint64 `long:"cltv_expiry_delta" description:"the minimum CLTV delta the final hop may be given (default: 80)"`
	Private         bool   `long:"private" description:"encode routing hints in the invoice for our private channels"`
}

// amount is lncli's: --amt or --amt_msat, else the positional argument in
// satoshis.
func (f *invoiceFlags) amount(arg string) (int64, error) {
	if f.Amt != 0 || f.AmtMsat != 0 || arg == "" {
		return f.Amt, nil
	}
	amt, err := strconv.ParseInt(arg, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("unable to decode amt argument: %w", err)
	}
	return amt, nil
}

func (f *invoiceFlags) descHash() ([]byte, error) {
	b, err := hex.DecodeString(f.DescriptionHash)
	if err != nil {
		return nil, fmt.Errorf("unable to parse description_hash: %w", err)
	}
	return b, nil
}

type addInvoiceCmd struct {
	a *app
	invoiceFlags
	Preimage string `long:"preimage" description:"the hex-encoded preimage (32 byte) which will allow settling an incoming HTLC payable to this preimage; random if not set"`
	AMP      bool   `long:"amp" description:"creates an AMP invoice (not supported by xlnd)"`
}

func (c *addInvoiceCmd) Execute(args []string) error {
	if len(args) > 2 {
		return fmt.Errorf("addinvoice takes at most two arguments: value preimage")
	}
	var amtArg, preArg string
	if c.Amt == 0 && c.AmtMsat == 0 && len(args) > 0 {
		amtArg, args = args[0], args[1:]
	}
	if len(args) > 0 {
		preArg = args[0]
	}
	amt, err := c.amount(amtArg)
	if err != nil {
		return err
	}
	if c.Preimage != "" {
		preArg = c.Preimage
	}
	preimage, err := hex.DecodeString(preArg)
	if err != nil {
		return fmt.Errorf("unable to parse preimage: %w", err)
	}
	descHash, err := c.descHash()
	if err != nil {
		return err
	}
	req := &lnrpc.Invoice{
		Memo: c.Memo, RPreimage: preimage, Value: amt, ValueMsat: c.AmtMsat, DescriptionHash: descHash,
		FallbackAddr: c.FallbackAddr, Expiry: c.Expiry, CltvExpiry: c.CltvExpiryDelta, Private: c.Private,
		IsAmp: c.AMP,
	}
	return c.a.lightning(func(client lnrpc.LightningClient) error {
		resp, err := client.AddInvoice(c.a.ctx, req)
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}

// hexArg is a hex value given as the flag or as the only argument.
func hexArg(cmd, name, flag string, args []string) ([]byte, error) {
	s := flag
	switch {
	case flag == "" && len(args) == 1:
		s = args[0]
	case flag != "" && len(args) == 0:
	default:
		return nil, fmt.Errorf("%s takes the %s (argument or --%s)", cmd, name, name)
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("unable to decode %s: %w", name, err)
	}
	return b, nil
}

type lookupInvoiceCmd struct {
	a     *app
	RHash string `long:"rhash" description:"the 32 byte payment hash of the invoice to query for, hex-encoded"`
}

func (c *lookupInvoiceCmd) Execute(args []string) error {
	hash, err := hexArg("lookupinvoice", "rhash", c.RHash, args)
	if err != nil {
		return err
	}
	return c.a.lightning(func(client lnrpc.LightningClient) error {
		resp, err := client.LookupInvoice(c.a.ctx, &lnrpc.PaymentHash{RHash: hash})
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}

type listInvoicesCmd struct {
	a                *app
	PendingOnly      bool   `long:"pending_only" description:"only invoices that are not yet settled or canceled"`
	IndexOffset      uint64 `long:"index_offset" description:"the add index of an invoice to start after (or before, going backwards)"`
	MaxInvoices      uint64 `long:"max_invoices" description:"the max number of invoices to return (default 100)"`
	PaginateForwards bool   `long:"paginate-forwards" description:"return the invoices after index_offset, not those before it"`
}

func (c *listInvoicesCmd) Execute(args []string) error {
	if err := noArgs("listinvoices", args); err != nil {
		return err
	}
	req := &lnrpc.ListInvoiceRequest{PendingOnly: c.PendingOnly, IndexOffset: c.IndexOffset,
		NumMaxInvoices: c.MaxInvoices, Reversed: !c.PaginateForwards}
	return c.a.lightning(func(client lnrpc.LightningClient) error {
		resp, err := client.ListInvoices(c.a.ctx, req)
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}

type decodePayReqCmd struct {
	a      *app
	PayReq string `long:"pay_req" description:"the bech32 encoded payment request"`
}

func (c *decodePayReqCmd) Execute(args []string) error {
	payReq := c.PayReq
	switch {
	case payReq == "" && len(args) == 1:
		payReq = args[0]
	case payReq != "" && len(args) == 0:
	default:
		return fmt.Errorf("decodepayreq takes the payment request (argument or --pay_req)")
	}
	return c.a.lightning(func(client lnrpc.LightningClient) error {
		resp, err := client.DecodePayReq(c.a.ctx, &lnrpc.PayReqString{PayReq: payReq})
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}

type addHoldInvoiceCmd struct {
	a *app
	invoiceFlags
}

func (c *addHoldInvoiceCmd) Execute(args []string) error {
	if len(args) == 0 || len(args) > 2 {
		return fmt.Errorf("addholdinvoice takes the payment hash and optionally the amount: hash [amt]")
	}
	hash, err := hex.DecodeString(args[0])
	if err != nil {
		return fmt.Errorf("unable to parse hash: %w", err)
	}
	var amtArg string
	if len(args) == 2 {
		amtArg = args[1]
	}
	amt, err := c.amount(amtArg)
	if err != nil {
		return err
	}
	descHash, err := c.descHash()
	if err != nil {
		return err
	}
	req := &invoicesrpc.AddHoldInvoiceRequest{
		Memo: c.Memo, Hash: hash, Value: amt, ValueMsat: c.AmtMsat, DescriptionHash: descHash,
		FallbackAddr: c.FallbackAddr, Expiry: c.Expiry, CltvExpiry: c.CltvExpiryDelta, Private: c.Private,
	}
	return c.a.invoices(func(client invoicesrpc.InvoicesClient) error {
		resp, err := client.AddHoldInvoice(c.a.ctx, req)
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}

type settleInvoiceCmd struct {
	a        *app
	Preimage string `long:"preimage" description:"the hex-encoded preimage (32 byte) which will allow settling an incoming HTLC payable to this preimage"`
}

func (c *settleInvoiceCmd) Execute(args []string) error {
	pre, err := hexArg("settleinvoice", "preimage", c.Preimage, args)
	if err != nil {
		return err
	}
	return c.a.invoices(func(client invoicesrpc.InvoicesClient) error {
		resp, err := client.SettleInvoice(c.a.ctx, &invoicesrpc.SettleInvoiceMsg{Preimage: pre})
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}

type cancelInvoiceCmd struct {
	a           *app
	PaymentHash string `long:"paymenthash" description:"the hex-encoded payment hash (32 byte) for which the corresponding invoice will be canceled"`
}

func (c *cancelInvoiceCmd) Execute(args []string) error {
	hash, err := hexArg("cancelinvoice", "paymenthash", c.PaymentHash, args)
	if err != nil {
		return err
	}
	return c.a.invoices(func(client invoicesrpc.InvoicesClient) error {
		resp, err := client.CancelInvoice(c.a.ctx, &invoicesrpc.CancelInvoiceMsg{PaymentHash: hash})
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}
