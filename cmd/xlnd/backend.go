package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	"github.com/lightningnetwork/lnd/tor"

	"lnd.xprv/brontide"
	"lnd.xprv/chain"
	"lnd.xprv/lnwire"
	"lnd.xprv/rpc"
	"lnd.xprv/server"
	"lnd.xprv/wallet"
)

// This file adapts the node's subsystems to the small interfaces of the rpc
// package. It translates; it decides nothing.

// NodeInfo is GetInfo's node part.
func (d *daemon) NodeInfo(ctx context.Context) (*rpc.Info, error) {
	self, err := d.IdentityKey(ctx)
	if err != nil {
		return nil, err
	}
	pub := fmt.Sprintf("%x", self.SerializeCompressed())
	var uris []string
	for _, a := range d.nodeAddrs() {
		uris = append(uris, pub+"@"+a)
	}
	var active, inactive, pending uint32
	if d.funding != nil {
		chans, err := (&channelsBackend{d: d}).list(false)
		if err != nil {
			return nil, err
		}
		for _, c := range chans {
			if c.Active {
				active++
			} else {
				inactive++
			}
		}
		p, err := d.funding.PendingChannels()
		if err != nil {
			return nil, err
		}
		pending = uint32(len(p))
		if w, err := d.closer.WaitingClose(context.Background()); err == nil {
			pending += uint32(len(w))
		}
	}
	return &rpc.Info{
		NumActiveChannels:   active,
		NumInactiveChannels: inactive,
		NumPendingChannels:  pending,
		IdentityKey:         self,
		Alias:               d.alias([33]byte(self.SerializeCompressed())),
		Color:               strings.ToLower(d.cfg.Color),
		URIs:                uris,
		Features:            rpcFeatures(initFeatures(d.cfg)),
		// As lnd: true once a historical graph sync with a peer
		// has finished.
		SyncedToGraph: d.syncer != nil && d.syncer.Synced(),
	}, nil
}

// IdentityKey is the node's public key, derived from the wallet once: the
// seed fixes it, and payments ask for it on every call.
func (d *daemon) IdentityKey(context.Context) (*btcec.PublicKey, error) {
	if k := d.identity.Load(); k != nil {
		return k, nil
	}
	key, err := d.wallet.NodeKey()
	if err != nil {
		return nil, err
	}
	d.identity.Store(key.PubKey)
	return key.PubKey, nil
}

// BestBlock is the tip the wallet has processed.
func (d *daemon) BestBlock(ctx context.Context) (*rpc.BlockStamp, error) {
	height, hash, err := d.wallet.SyncedTo()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, bestBlockTimeout)
	defer cancel()
	header, _, err := d.chain.BlockHeader(ctx, hash)
	if err != nil {
		return nil, fmt.Errorf("header of block %v: %w", hash, err)
	}
	return &rpc.BlockStamp{Height: uint32(height), Hash: hash, Timestamp: header.Timestamp}, nil
}

// Synced reports whether the wallet has processed the backend's tip.
func (d *daemon) Synced(ctx context.Context) (bool, error) {
	height, hash, err := d.wallet.SyncedTo()
	if err != nil {
		return false, err
	}
	ctx, cancel := context.WithTimeout(ctx, bestBlockTimeout)
	defer cancel()
	bestHash, bestHeight, err := d.chain.BestBlock(ctx)
	if err != nil {
		return false, err
	}
	return height == bestHeight && hash == bestHash, nil
}

func rpcFeatures(raw *lnwire.RawFeatureVector) []rpc.Feature {
	var out []rpc.Feature
	for _, b := range raw.Bits() {
		// lnd's names, as apps built on its API expect them.
		name := rpc.FeatureName(uint32(b), b.Name())
		out = append(out, rpc.Feature{Bit: uint32(b), Name: name, Known: name != "unknown"})
	}
	return out
}

// peersBackend serves the peer calls from the server.
type peersBackend struct {
	srv *server.Server
	cfg *config
}

func (p *peersBackend) Connect(ctx context.Context, pub *btcec.PublicKey, host string, perm bool) error {
	addr, err := p.resolve(host)
	if err != nil {
		return err
	}
	err = p.srv.ConnectToPeer(ctx, &brontide.NetAddress{IdentityKey: pub, Address: addr}, perm)
	return markServerErr(err)
}

// markServerErr marks the server's errors with the rpc sentinels naming
// their conditions; the text stays the server's, which is lnd's
// ("already connected to peer: <pub>@<addr>").
func markServerErr(err error) error {
	switch {
	case errors.Is(err, server.ErrAlreadyConnected):
		return rpc.Mark(err, rpc.ErrAlreadyConnected)
	case errors.Is(err, server.ErrSelfConnect):
		return rpc.Mark(err, rpc.ErrSelfConnect)
	case errors.Is(err, server.ErrServerShutdown):
		return rpc.Mark(err, rpc.ErrShuttingDown)
	}
	return err
}

// resolve turns host[:port] into an address to dial: an onion address
// through Tor, a name through Tor's resolver when Tor is on.
func (p *peersBackend) resolve(host string) (net.Addr, error) {
	h, portStr, err := net.SplitHostPort(host)
	if err != nil {
		h, portStr = host, strconv.Itoa(defaultPeerPort)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port <= 0 || port > 65535 {
		return nil, fmt.Errorf("invalid port in %q", host)
	}
	if strings.HasSuffix(h, ".onion") {
		if !p.cfg.Tor.Active {
			return nil, fmt.Errorf("%s is an onion address: start xlnd with --tor.active", host)
		}
		return &tor.OnionAddr{OnionService: h, Port: port}, nil
	}
	hp := net.JoinHostPort(h, strconv.Itoa(port))
	if p.cfg.Tor.Active {
		proxy := &tor.ProxyNet{SOCKS: p.cfg.Tor.SOCKS}
		return proxy.ResolveTCPAddr("tcp", hp)
	}
	return net.ResolveTCPAddr("tcp", hp)
}

func (p *peersBackend) Disconnect(_ context.Context, pub *btcec.PublicKey) error {
	err := p.srv.DisconnectPeer(pub)
	if errors.Is(err, server.ErrNotConnected) {
		return fmt.Errorf("%w: %x", rpc.ErrPeerNotConnected, pub.SerializeCompressed())
	}
	return markServerErr(err)
}

func (p *peersBackend) List(context.Context) ([]rpc.PeerInfo, error) {
	peers := p.srv.Peers()
	out := make([]rpc.PeerInfo, 0, len(peers))
	for _, pr := range peers {
		st := pr.Stats()
		hist := p.srv.History(pr.PubKey())
		info := rpc.PeerInfo{
			PubKey:    pr.IdentityKey(),
			Address:   pr.Address().String(),
			BytesSent: st.BytesSent,
			BytesRecv: st.BytesRecv,
			Inbound:   pr.Inbound(),
			PingTime:  st.PingTime,
			// xlnd sends no gossip_timestamp_filter, so no peer
			// sends it graph updates: lnd's passive sync.
			SyncType:        rpc.SyncPassive,
			Features:        rpcFeatures(pr.RemoteFeatures().RawFeatureVector),
			FlapCount:       int32(hist.FlapCount),
			LastFlap:        hist.LastFlap,
			LastPingPayload: st.LastPingPayload,
		}
		for _, e := range hist.Errors {
			kind := "error"
			if e.Warning {
				kind = "warning"
			}
			info.Errors = append(info.Errors, rpc.TimestampedError{
				Time:  e.Time,
				Error: fmt.Sprintf("%s (channel %v): %s", kind, e.ChanID, e.Message),
			})
		}
		out = append(out, info)
	}
	return out, nil
}

func (p *peersBackend) Subscribe(ctx context.Context) (<-chan rpc.PeerEvent, error) {
	sub, err := p.srv.SubscribePeerEvents()
	if err != nil {
		return nil, markServerErr(err)
	}
	out := make(chan rpc.PeerEvent)
	go func() {
		defer close(out)
		defer sub.Cancel()
		for {
			select {
			case ev, ok := <-sub.Events():
				if !ok {
					return
				}
				key, err := btcec.ParsePubKey(ev.PubKey[:])
				if err != nil {
					continue
				}
				select {
				case out <- rpc.PeerEvent{PubKey: key, Online: ev.Type == server.PeerOnline}:
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// walletBackend serves the on-chain calls from the wallet.
type walletBackend struct {
	w *wallet.Wallet
	// maturity is the network's coinbase maturity.
	maturity int32
}

// checkAccount refuses any account but lnd's "default": xlnd has one.
func checkAccount(account string) error {
	if account != "" && account != "default" {
		return fmt.Errorf("account %q: %w", account, rpc.ErrUnknownAccount)
	}
	return nil
}

func (b *walletBackend) NewAddress(_ context.Context, typ rpc.AddressType, unused bool, account string) (btcutil.Address, error) {
	if err := checkAccount(account); err != nil {
		return nil, err
	}
	var wt wallet.AddressType
	switch typ {
	case rpc.AddressP2WKH:
		wt = wallet.AddressP2WPKH
	case rpc.AddressNP2WKH:
		wt = wallet.AddressNP2WPKH
	case rpc.AddressP2TR:
		wt = wallet.AddressP2TR
	default:
		return nil, fmt.Errorf("%w: address type %d", wallet.ErrInvalidAddress, typ)
	}
	if unused {
		return b.w.CurrentAddress(wt)
	}
	return b.w.NewAddress(wt, false)
}

func (b *walletBackend) Balance(_ context.Context, account string, minConfs int32) (*rpc.Balance, error) {
	if err := checkAccount(account); err != nil {
		return nil, err
	}
	if minConfs < 1 {
		minConfs = 1
	}
	utxos, err := b.w.ListUnspent(0, 0)
	if err != nil {
		return nil, err
	}
	var bal rpc.Balance
	for _, u := range utxos {
		switch {
		case u.Leased:
			bal.Locked += u.Value
		case u.Coinbase && u.Confirmations < b.maturity:
			// Immature coinbase outputs are not spendable yet.
		case u.Confirmations >= minConfs:
			bal.Confirmed += u.Value
		default:
			bal.Unconfirmed += u.Value
		}
	}
	bal.Accounts = map[string]rpc.AccountBalance{
		"default": {Confirmed: bal.Confirmed, Unconfirmed: bal.Unconfirmed},
	}
	return &bal, nil
}

func rpcAddressType(t wallet.AddressType) rpc.AddressType {
	switch t {
	case wallet.AddressP2TR:
		return rpc.AddressP2TR
	case wallet.AddressNP2WPKH:
		return rpc.AddressNP2WKH
	}
	return rpc.AddressP2WKH
}

func (b *walletBackend) ListUnspent(_ context.Context, account string, minConfs, maxConfs int32) ([]rpc.Utxo, error) {
	if err := checkAccount(account); err != nil {
		return nil, err
	}
	utxos, err := b.w.ListUnspent(minConfs, maxConfs)
	if err != nil {
		return nil, err
	}
	utxos = spendable(utxos, b.maturity, maxConfs)
	out := make([]rpc.Utxo, 0, len(utxos))
	for _, u := range utxos {
		addr, err := b.w.ParseAddress(u.Address)
		if err != nil {
			return nil, fmt.Errorf("utxo %v: %w", u.OutPoint, err)
		}
		out = append(out, rpc.Utxo{
			Type:          rpcAddressType(u.AddressType),
			Address:       addr,
			Amount:        u.Value,
			PkScript:      u.PkScript,
			OutPoint:      u.OutPoint,
			Confirmations: int64(u.Confirmations),
		})
	}
	return out, nil
}

// spendable drops the outputs lnd's ListUnspent leaves out: leased ones and
// coinbase outputs short of maturity. Apps take ListUnspent as the coins
// they may spend. The wallet reads maxConfs 0 as "no bound", lnd (and
// lncli --unconfirmed_only) as "unconfirmed only", so the bound is applied
// here too.
func spendable(utxos []wallet.Utxo, maturity, maxConfs int32) []wallet.Utxo {
	out := utxos[:0:0]
	for _, u := range utxos {
		if u.Leased || (u.Coinbase && u.Confirmations < maturity) ||
			(maxConfs >= 0 && u.Confirmations > maxConfs) {
			continue
		}
		out = append(out, u)
	}
	return out
}

func (b *walletBackend) Transactions(_ context.Context, account string, start, end int32) ([]rpc.Transaction, error) {
	if err := checkAccount(account); err != nil {
		return nil, err
	}
	txs, err := b.w.Transactions()
	if err != nil {
		return nil, err
	}
	byHash := make(map[chainhash.Hash]*wire.MsgTx, len(txs))
	for _, t := range txs {
		byHash[t.Hash] = t.Tx
	}
	out := make([]rpc.Transaction, 0, len(txs))
	for _, t := range txs {
		if t.Failed {
			// lnd's btcwallet deletes a transaction a double spend
			// displaced, and lnrpc.Transaction has no field to say
			// it failed: it leaves the list as it does in lnd.
			continue
		}
		confirmed := t.BlockHeight > 0
		switch {
		case confirmed && t.BlockHeight < start:
			continue
		case confirmed && end >= 0 && t.BlockHeight > end:
			continue
		case !confirmed && end >= 0:
			continue
		}
		rt := rpc.Transaction{
			Hash:          t.Hash,
			Amount:        t.Amount,
			Confirmations: t.Confirmations,
			BlockHeight:   t.BlockHeight,
			Timestamp:     t.Timestamp,
			Label:         t.Label,
			Tx:            t.Tx,
		}
		if t.FeeKnown {
			rt.Fee = t.Fee
		}
		if confirmed {
			h := t.BlockHash
			rt.BlockHash = &h
		}
		for _, o := range t.Tx.TxOut {
			rt.IsOurOutput = append(rt.IsOurOutput, b.w.IsOurScript(o.PkScript))
		}
		rt.IsOurInput = ourInputs(t.Tx, byHash, b.w.IsOurScript)
		out = append(out, rt)
	}
	return out, nil
}

// ourInputs says, per input of tx, whether it spends a wallet output (lnd's
// previous_outpoints[].is_our_output): the wallet holds every transaction
// that paid it, so a spent output of ours is found in byHash.
func ourInputs(tx *wire.MsgTx, byHash map[chainhash.Hash]*wire.MsgTx, isOurs func([]byte) bool) []bool {
	out := make([]bool, len(tx.TxIn))
	for i, in := range tx.TxIn {
		prev, ok := byHash[in.PreviousOutPoint.Hash]
		if !ok || int(in.PreviousOutPoint.Index) >= len(prev.TxOut) {
			continue
		}
		out[i] = isOurs(prev.TxOut[in.PreviousOutPoint.Index].PkScript)
	}
	return out
}

// feePreference turns the RPC's fee choice into the wallet's.
func feePreference(rate chain.SatPerKWeight, target uint32) wallet.FeePreference {
	if rate > 0 {
		return wallet.FeePreference{SatPerVByte: rate.FeePerVByte()}
	}
	return wallet.FeePreference{ConfTarget: target}
}

func (b *walletBackend) SendCoins(ctx context.Context, req *rpc.SendRequest) (*chainhash.Hash, error) {
	fee := feePreference(req.FeeRate, req.TargetConf)
	if len(req.Inputs) > 0 {
		if !req.SendAll {
			return nil, errors.New("sending from chosen outpoints is only supported with send_all")
		}
		tx, err := b.w.SendAllFrom(ctx, req.Address.String(), fee, req.Inputs, req.Label)
		if err != nil {
			return nil, err
		}
		h := tx.TxHash()
		return &h, nil
	}
	var (
		tx  *wire.MsgTx
		err error
	)
	if req.SendAll {
		tx, err = b.w.SendAll(ctx, req.Address.String(), fee, req.MinConfs, req.Label)
	} else {
		var script []byte
		script, err = txscript.PayToAddrScript(req.Address)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", wallet.ErrInvalidAddress, err)
		}
		tx, err = b.w.SendOutputs(ctx, []*wire.TxOut{wire.NewTxOut(int64(req.Amount), script)},
			fee, req.MinConfs, req.Label)
	}
	if err != nil {
		return nil, err
	}
	h := tx.TxHash()
	return &h, nil
}

// EstimateFee prices a send of the outputs without spending or locking
// anything.
func (b *walletBackend) EstimateFee(ctx context.Context, req *rpc.FeeRequest) (*rpc.FeeEstimate, error) {
	fee, rate, err := b.w.EstimateFee(ctx, req.Outputs,
		wallet.FeePreference{ConfTarget: req.TargetConf}, req.MinConfs)
	if err != nil {
		return nil, err
	}
	return &rpc.FeeEstimate{Fee: fee, FeeRate: rate}, nil
}

// walletKit serves the WalletKit service: the wallet itself, and the relay
// fee from the chain backend.
type walletKit struct {
	*wallet.Wallet
	fees chain.FeeEstimator
}

func (k walletKit) RelayFeePerKW() chain.SatPerKWeight { return k.fees.RelayFeePerKW() }
