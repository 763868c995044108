package main

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/rpc/lnrpc"
)

func (a *app) commands() []command {
	return append([]command{
		{"create", "Initialize a wallet when starting xlnd for the first time.", createLong, &createCmd{a: a}},
		{"unlock", "Unlock an encrypted wallet at startup.", "", &unlockCmd{a: a}},
		{"changepassword", "Change an encrypted wallet's password at startup.", "", &changePasswordCmd{a: a}},
		{"state", "Get the current state of the wallet and RPC.", "", &stateCmd{a: a}},
		{"getinfo", "Returns basic information related to the active daemon.", "", &getInfoCmd{a: a}},
		{"connect", "Connect to a remote peer: connect <pubkey>@<host>[:port].", "", &connectCmd{a: a}},
		{"disconnect", "Disconnect a remote peer identified by public key.", "", &disconnectCmd{a: a}},
		{"listpeers", "List all active, currently connected peers.", "", &listPeersCmd{a: a}},
		{"newaddress", "Generates a new address: newaddress p2wkh|np2wkh|p2tr.", "", &newAddressCmd{a: a}},
		{"walletbalance", "Compute and display the wallet's current balance.", "", &walletBalanceCmd{a: a}},
		{"listunspent", "List utxos available for spending.", "", &listUnspentCmd{a: a}},
		{"listchaintxns", "List transactions from the wallet.", "", &listChainTxnsCmd{a: a}},
		{"sendcoins", "Send bitcoin on-chain to an address.", "", &sendCoinsCmd{a: a}},
		{"estimatefee", "Get fee estimates for sending bitcoin on-chain to multiple addresses: estimatefee '{\"addr\": amt, ...}'.", "", &estimateFeeCmd{a: a}},
		{"addinvoice", "Add a new invoice: addinvoice [value] [preimage].", "", &addInvoiceCmd{a: a}},
		{"lookupinvoice", "Lookup an existing invoice by its payment hash.", "", &lookupInvoiceCmd{a: a}},
		{"listinvoices", "List all invoices currently stored within the database (newest first unless --paginate-forwards).", "", &listInvoicesCmd{a: a}},
		{"decodepayreq", "Decode a payment request.", "", &decodePayReqCmd{a: a}},
		{"addholdinvoice", "Add a new hold invoice: addholdinvoice hash [amt].", "", &addHoldInvoiceCmd{a: a}},
		{"settleinvoice", "Reveal a preimage and use it to settle the corresponding invoice.", "", &settleInvoiceCmd{a: a}},
		{"cancelinvoice", "Cancels a (hold) invoice.", "", &cancelInvoiceCmd{a: a}},
		{"querymc", "Query the internal mission control state.", "", &queryMCCmd{a: a}},
		{"queryprob", "Deprecated. Estimate a success probability: queryprob from-node to-node amt.", "", &queryProbCmd{a: a}},
		{"resetmc", "Reset internal mission control state.", "", &resetMCCmd{a: a}},
		{"stop", "Stop and shutdown the daemon.", "", &stopCmd{a: a}},
		{"getrecoveryinfo", "Whether a restored wallet is still scanning the chain, and how far it is.", "", &getRecoveryInfoCmd{a: a}},
		{"debuglevel", "Set log levels per subsystem at run time, or list the subsystems.", "", &debugLevelCmd{a: a}},
		{"signmessage", "Sign a message with the node's identity key.", "", &signMessageCmd{a: a}},
		{"verifymessage", "Check a signed message and recover the key that signed it.", "", &verifyMessageCmd{a: a}},
		{"bakemacaroon", "Make a macaroon granting exactly the given permissions.", "", &bakeMacaroonCmd{a: a}},
		{"listmacaroonids", "List the macaroon root key IDs.", "", &listMacaroonIDsCmd{a: a}},
		{"deletemacaroonid", "Delete a macaroon root key ID, revoking every macaroon baked with it.", "", &deleteMacaroonIDCmd{a: a}},
		{"listpermissions", "List every RPC method and the macaroon permissions it needs.", "", &listPermissionsCmd{a: a}},
		{"version", "Display xlncli and xlnd version info.", "", &versionCmd{a: a}},
		{"wallet", "Interact with the wallet.", "", newWalletCmd(a)},
		{"openchannel", "Open a channel to a node or an existing peer.", "", &openChannelCmd{a: a}},
		{"listchannels", "List all open channels.", "", &listChannelsCmd{a: a}},
		{"pendingchannels", "Display information pertaining to pending channels.", "", &pendingChannelsCmd{a: a}},
		{"closechannel", "Close an existing channel (--force: broadcast our commitment).", "[funding_txid [output_index]]", &closeChannelCmd{a: a}},
		{"closedchannels", "List all closed channels.", "", &closedChannelsCmd{a: a}},
		{"channelbalance", "Returns the sum of the total available channel balance across all open channels.", "", &channelBalanceCmd{a: a}},
		{"feereport", "Display the current fee policies of all active channels.", "", &feeReportCmd{a: a}},
		{"updatechanpolicy", "Update the channel policy for all channels, or a single channel: updatechanpolicy base_fee_msat fee_rate time_lock_delta [channel_point].", "", &updateChanPolicyCmd{a: a}},
		{"fwdinghistory", "Query the history of all forwarded HTLCs: fwdinghistory [start_time] [end_time] [index_offset] [max_events].", "", &fwdingHistoryCmd{a: a}},
	}, append(a.graphCommands(), a.paymentCommands()...)...)
}

const createLong = `Create the wallet. Interactively: the password twice, then either an
existing 24-word mnemonic or a new one, shown once and created only after
you confirm you wrote it down.

For scripts: --password_file FILE creates the wallet without any prompt.
A new seed is then printed once as JSON {"cipher_seed_mnemonic": [...]}
before the wallet is created; with --mnemonic_file FILE the words are
read from FILE instead (restore).`

func noArgs(name string, args []string) error {
	if len(args) != 0 {
		return fmt.Errorf("%s takes no arguments, got %q", name, args)
	}
	return nil
}

type getInfoCmd struct{ a *app }

func (c *getInfoCmd) Execute(args []string) error {
	if err := noArgs("getinfo", args); err != nil {
		return err
	}
	return c.a.lightning(func(client lnrpc.LightningClient) error {
		resp, err := client.GetInfo(c.a.ctx, &lnrpc.GetInfoRequest{})
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}

type connectCmd struct {
	a       *app
	Perm    bool          `long:"perm" description:"keep reconnecting to the peer"`
	Timeout time.Duration `long:"timeout" description:"timeout with its unit (30s, 2m); default: the daemon's"`
}

func (c *connectCmd) Usage() string { return "[connect-OPTIONS] <pubkey>@<host>[:port]" }

func (c *connectCmd) Execute(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("connect takes one argument: <pubkey>@<host>[:port]")
	}
	pub, host, ok := strings.Cut(args[0], "@")
	if !ok || pub == "" || host == "" {
		return fmt.Errorf("target address expected in format: pubkey@host:port")
	}
	if c.Timeout < 0 {
		return fmt.Errorf("--timeout must be positive")
	}
	req := &lnrpc.ConnectPeerRequest{
		Addr:    &lnrpc.LightningAddress{Pubkey: pub, Host: host},
		Perm:    c.Perm,
		Timeout: uint64(c.Timeout.Seconds()),
	}
	return c.a.lightning(func(client lnrpc.LightningClient) error {
		resp, err := client.ConnectPeer(c.a.ctx, req)
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}

type disconnectCmd struct {
	a       *app
	NodeKey string `long:"node_key" description:"the hex public key of the peer"`
}

func (c *disconnectCmd) Usage() string { return "[disconnect-OPTIONS] <pubkey>" }

func (c *disconnectCmd) Execute(args []string) error {
	key := c.NodeKey
	switch {
	case key == "" && len(args) == 1:
		key = args[0]
	case key != "" && len(args) == 0:
	default:
		return fmt.Errorf("disconnect takes the peer's public key (argument or --node_key)")
	}
	return c.a.lightning(func(client lnrpc.LightningClient) error {
		resp, err := client.DisconnectPeer(c.a.ctx, &lnrpc.DisconnectPeerRequest{PubKey: key})
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}

type listPeersCmd struct {
	a          *app
	ListErrors bool `long:"list_errors" description:"show every stored error per peer, not just the latest"`
}

func (c *listPeersCmd) Execute(args []string) error {
	if err := noArgs("listpeers", args); err != nil {
		return err
	}
	return c.a.lightning(func(client lnrpc.LightningClient) error {
		resp, err := client.ListPeers(c.a.ctx, &lnrpc.ListPeersRequest{LatestError: !c.ListErrors})
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}

type newAddressCmd struct {
	a       *app
	Account string `long:"account" description:"the wallet account (default: the default account)"`
	Unused  bool   `long:"unused" description:"reuse the last unused address instead of a new one"`
}

func (c *newAddressCmd) Usage() string { return "[newaddress-OPTIONS] p2wkh|np2wkh|p2tr" }

func (c *newAddressCmd) Execute(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("newaddress takes the address type: p2wkh, np2wkh or p2tr")
	}
	var typ lnrpc.AddressType
	switch args[0] {
	case "p2wkh":
		typ = lnrpc.AddressType_WITNESS_PUBKEY_HASH
		if c.Unused {
			typ = lnrpc.AddressType_UNUSED_WITNESS_PUBKEY_HASH
		}
	case "np2wkh":
		typ = lnrpc.AddressType_NESTED_PUBKEY_HASH
		if c.Unused {
			typ = lnrpc.AddressType_UNUSED_NESTED_PUBKEY_HASH
		}
	case "p2tr":
		typ = lnrpc.AddressType_TAPROOT_PUBKEY
		if c.Unused {
			typ = lnrpc.AddressType_UNUSED_TAPROOT_PUBKEY
		}
	default:
		return fmt.Errorf("invalid address type %v, support address type are: p2wkh, np2wkh, and p2tr", args[0])
	}
	return c.a.lightning(func(client lnrpc.LightningClient) error {
		resp, err := client.NewAddress(c.a.ctx, &lnrpc.NewAddressRequest{Type: typ, Account: c.Account})
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}

type walletBalanceCmd struct {
	a        *app
	Account  string `long:"account" description:"only this account's balance"`
	MinConfs int32  `long:"min_confs" default:"1" description:"confirmations for a utxo to count as confirmed"`
}

func (c *walletBalanceCmd) Execute(args []string) error {
	if err := noArgs("walletbalance", args); err != nil {
		return err
	}
	return c.a.lightning(func(client lnrpc.LightningClient) error {
		resp, err := client.WalletBalance(c.a.ctx, &lnrpc.WalletBalanceRequest{Account: c.Account, MinConfs: c.MinConfs})
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}

type listUnspentCmd struct {
	a               *app
	MinConfs        *int64 `long:"min_confs" description:"the minimum number of confirmations for a utxo (default: 1)"`
	MaxConfs        *int64 `long:"max_confs" description:"the maximum number of confirmations for a utxo"`
	UnconfirmedOnly bool   `long:"unconfirmed_only" description:"only unconfirmed utxos"`
	Account         string `long:"account" description:"only this account's utxos"`
}

// utxoJSON is how lncli prints a utxo: the outpoint as txid:index.
type utxoJSON struct {
	Type          lnrpc.AddressType `json:"address_type"`
	Address       string            `json:"address"`
	AmountSat     int64             `json:"amount_sat"`
	PkScript      string            `json:"pk_script"`
	OutPoint      string            `json:"outpoint"`
	Confirmations int64             `json:"confirmations"`
}

func (c *listUnspentCmd) Execute(args []string) error {
	if c.MaxConfs != nil && c.MinConfs == nil {
		return fmt.Errorf("max_confs cannot be set without min_confs being set")
	}
	var minConfs, maxConfs int64 = 1, 0
	if c.MinConfs != nil {
		minConfs = *c.MinConfs
	}
	if c.MaxConfs != nil {
		maxConfs = *c.MaxConfs
	}
	// lncli's positional form: listunspent [min_confs [max_confs]].
	for i, arg := range args {
		v, err := strconv.ParseInt(arg, 10, 32)
		if err != nil || i > 1 {
			return fmt.Errorf("listunspent takes [min_confs [max_confs]], got %q", args)
		}
		if i == 0 {
			minConfs = v
		} else {
			maxConfs = v
		}
	}
	if c.UnconfirmedOnly {
		if c.MinConfs != nil || c.MaxConfs != nil || len(args) > 0 {
			return fmt.Errorf("--unconfirmed_only cannot be combined with min_confs or max_confs")
		}
		minConfs, maxConfs = 0, 0
	} else if maxConfs == 0 {
		maxConfs = math.MaxInt32
	}
	if minConfs < 0 || minConfs > math.MaxInt32 || maxConfs < 0 || maxConfs > math.MaxInt32 {
		return fmt.Errorf("min_confs and max_confs must be between 0 and %d", math.MaxInt32)
	}
	return c.a.lightning(func(client lnrpc.LightningClient) error {
		resp, err := client.ListUnspent(c.a.ctx, &lnrpc.ListUnspentRequest{
			MinConfs: int32(minConfs), MaxConfs: int32(maxConfs), Account: c.Account,
		})
		if err != nil {
			return err
		}
		out := struct {
			Utxos []utxoJSON `json:"utxos"`
		}{Utxos: []utxoJSON{}}
		for _, u := range resp.Utxos {
			op := ""
			if u.Outpoint != nil {
				op = fmt.Sprintf("%s:%d", u.Outpoint.TxidStr, u.Outpoint.OutputIndex)
			}
			out.Utxos = append(out.Utxos, utxoJSON{
				Type: u.AddressType, Address: u.Address, AmountSat: u.AmountSat,
				PkScript: u.PkScript, OutPoint: op, Confirmations: u.Confirmations,
			})
		}
		return c.a.printJSON(out)
	})
}

type listChainTxnsCmd struct {
	a               *app
	StartHeight     int32  `long:"start_height" description:"the block height from which to list transactions"`
	EndHeight       int32  `long:"end_height" default:"-1" description:"the block height until which to list transactions; -1 includes unconfirmed"`
	IndexOffset     uint32 `long:"index_offset" description:"the index of the first transaction to return"`
	MaxTransactions uint32 `long:"max_transactions" description:"the maximum number of transactions to return (0: all)"`
}

func (c *listChainTxnsCmd) Execute(args []string) error {
	if err := noArgs("listchaintxns", args); err != nil {
		return err
	}
	return c.a.lightning(func(client lnrpc.LightningClient) error {
		resp, err := client.GetTransactions(c.a.ctx, &lnrpc.GetTransactionsRequest{
			StartHeight: c.StartHeight, EndHeight: c.EndHeight,
			IndexOffset: c.IndexOffset, MaxTransactions: c.MaxTransactions,
		})
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}

type sendCoinsCmd struct {
	a           *app
	Addr        string   `long:"addr" description:"the address to send to"`
	Amt         int64    `long:"amt" description:"the number of satoshis to send"`
	SweepAll    bool     `long:"sweepall" description:"send every confirmed coin of the wallet to addr"`
	ConfTarget  int32    `long:"conf_target" description:"blocks the transaction should confirm within; fee estimated from it"`
	SatPerVByte uint64   `long:"sat_per_vbyte" description:"fee rate in sat/vbyte"`
	SatPerByte  uint64   `long:"sat_per_byte" description:"deprecated: use --sat_per_vbyte"`
	MinConfs    int32    `long:"min_confs" default:"1" description:"confirmations of the coins to spend (0 spends unconfirmed coins)"`
	Label       string   `long:"label" description:"a label for the transaction"`
	Force       bool     `long:"force" short:"f" description:"do not ask for confirmation"`
	Utxos       []string `long:"utxo" description:"spend this outpoint txid:index (repeatable)"`
	CoinSel     string   `long:"coin_selection_strategy" description:"largest or random (default: the daemon's)"`
}

func parseCoinSelection(s string) (lnrpc.CoinSelectionStrategy, error) {
	switch s {
	case "", "global-config":
		return lnrpc.CoinSelectionStrategy_STRATEGY_USE_GLOBAL_CONFIG, nil
	case "largest":
		return lnrpc.CoinSelectionStrategy_STRATEGY_LARGEST, nil
	case "random":
		return lnrpc.CoinSelectionStrategy_STRATEGY_RANDOM, nil
	}
	return 0, fmt.Errorf("unknown coin selection strategy %q (largest, random)", s)
}

func parseUtxo(s string) (*lnrpc.OutPoint, error) {
	txid, idx, ok := strings.Cut(s, ":")
	if !ok {
		return nil, fmt.Errorf("utxo %q: expected txid:index", s)
	}
	if _, err := chainhash.NewHashFromStr(txid); err != nil || len(txid) != 64 {
		return nil, fmt.Errorf("utxo %q: bad txid", s)
	}
	n, err := strconv.ParseUint(idx, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("utxo %q: bad output index", s)
	}
	return &lnrpc.OutPoint{TxidStr: txid, OutputIndex: uint32(n)}, nil
}

func (c *sendCoinsCmd) Usage() string { return "[sendcoins-OPTIONS] [<addr> [<amt>]]" }

func (c *sendCoinsCmd) Execute(args []string) error {
	a := c.a
	addr, amt := c.Addr, c.Amt
	// lncli's positional form: sendcoins addr amt.
	if addr == "" && len(args) > 0 {
		addr, args = args[0], args[1:]
	}
	if amt == 0 && len(args) > 0 {
		v, err := strconv.ParseInt(args[0], 10, 64)
		if err != nil {
			return fmt.Errorf("unable to decode amount: %w", err)
		}
		amt, args = v, args[1:]
	}
	switch {
	case len(args) > 0:
		return fmt.Errorf("unexpected arguments %q", args)
	case addr == "":
		return fmt.Errorf("address argument missing")
	case amt == 0 && !c.SweepAll:
		return fmt.Errorf("amount argument missing (--amt, or --sweepall)")
	case amt != 0 && c.SweepAll:
		return fmt.Errorf("amount cannot be set if attempting to sweep all coins out of the wallet")
	case c.SatPerVByte != 0 && c.SatPerByte != 0:
		return fmt.Errorf("either sat_per_vbyte or sat_per_byte should be set, but not both")
	case (c.SatPerVByte != 0 || c.SatPerByte != 0) && c.ConfTarget != 0:
		return fmt.Errorf("either conf_target or sat_per_vbyte should be set, but not both")
	case c.MinConfs < 0:
		return fmt.Errorf("--min_confs must be >= 0")
	}
	strategy, err := parseCoinSelection(c.CoinSel)
	if err != nil {
		return err
	}
	var outpoints []*lnrpc.OutPoint
	for _, u := range c.Utxos {
		op, err := parseUtxo(u)
		if err != nil {
			return err
		}
		outpoints = append(outpoints, op)
	}
	rate := c.SatPerVByte
	if rate == 0 {
		rate = c.SatPerByte
	}

	return a.lightning(func(client lnrpc.LightningClient) error {
		if !c.Force && a.isTerminal(a.stdoutFd) {
			display := amt
			if c.SweepAll {
				bal, err := client.WalletBalance(a.ctx, &lnrpc.WalletBalanceRequest{MinConfs: c.MinConfs})
				if err != nil {
					return fmt.Errorf("unable to retrieve wallet balance: %w", err)
				}
				display = bal.ConfirmedBalance
			}
			fmt.Fprintf(a.out, "Amount: %d\nDestination address: %v\n", display, addr)
			ok, err := a.confirm("Confirm payment (yes/no): ")
			if err != nil || !ok {
				return err
			}
		}
		resp, err := client.SendCoins(a.ctx, &lnrpc.SendCoinsRequest{
			Addr:                  addr,
			Amount:                amt,
			TargetConf:            c.ConfTarget,
			SatPerVbyte:           rate,
			SendAll:               c.SweepAll,
			Label:                 c.Label,
			MinConfs:              c.MinConfs,
			SpendUnconfirmed:      c.MinConfs == 0,
			CoinSelectionStrategy: strategy,
			Outpoints:             outpoints,
		})
		if err != nil {
			return err
		}
		return a.printRespJSON(resp)
	})
}

type estimateFeeCmd struct {
	a          *app
	ConfTarget int32  `long:"conf_target" description:"blocks the transaction should confirm within"`
	MinConfs   int32  `long:"min_confs" default:"1" description:"confirmations of the coins to spend"`
	CoinSel    string `long:"coin_selection_strategy" description:"largest or random (default: the daemon's)"`
}

func (c *estimateFeeCmd) Usage() string {
	return `[estimatefee-OPTIONS] '{"<addr>": <amt_sat>, ...}'`
}

func (c *estimateFeeCmd) Execute(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf(`estimatefee takes one argument: '{"addr": amount_sat, ...}'`)
	}
	var amounts map[string]int64
	if err := json.Unmarshal([]byte(args[0]), &amounts); err != nil {
		return fmt.Errorf(`estimatefee: argument must be a JSON object {"addr": amount_sat}: %w`, err)
	}
	strategy, err := parseCoinSelection(c.CoinSel)
	if err != nil {
		return err
	}
	if c.MinConfs < 0 {
		return fmt.Errorf("--min_confs must be >= 0")
	}
	return c.a.lightning(func(client lnrpc.LightningClient) error {
		resp, err := client.EstimateFee(c.a.ctx, &lnrpc.EstimateFeeRequest{
			AddrToAmount: amounts, TargetConf: c.ConfTarget,
			MinConfs: c.MinConfs, SpendUnconfirmed: c.MinConfs == 0,
			CoinSelectionStrategy: strategy,
		})
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}

type stopCmd struct{ a *app }

func (c *stopCmd) Execute(args []string) error {
	if err := noArgs("stop", args); err != nil {
		return err
	}
	return c.a.lightning(func(client lnrpc.LightningClient) error {
		resp, err := client.StopDaemon(c.a.ctx, &lnrpc.StopRequest{})
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}
