package rpc

import (
	"context"
	"encoding/hex"
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"lnd.xprv/chain"
	"lnd.xprv/rpc/lnrpc"
)

const (
	// defaultPeerPort is added to a host given without a port.
	defaultPeerPort = 9735
	// defaultConfTarget is used when neither a fee rate nor a target is
	// given, as lnd does.
	defaultConfTarget = 6
	// maxLabelLen is lnd's limit on transaction labels.
	maxLabelLen = 500
	// labelExternal is lnd's label for a transaction sent through the API
	// without a label of its own.
	labelExternal = "external"
	// maxConnectTimeout bounds ConnectPeer's timeout.
	maxConnectTimeout = 24 * 60 * 60
)

// lightningService implements lnrpc.LightningServer over the Backend.
type lightningService struct {
	lnrpc.UnimplementedLightningServer
	s *Server
}

// node returns the backend; the interceptor only lets calls through after
// Activate, so nil means a call raced a test that skipped it.
func (l *lightningService) node() (*Backend, error) {
	b := l.s.backend.Load()
	if b == nil {
		return nil, status.Error(codes.Unavailable, msgRPCStarting)
	}
	return b, nil
}

func (l *lightningService) GetInfo(ctx context.Context, _ *lnrpc.GetInfoRequest) (*lnrpc.GetInfoResponse, error) {
	b, err := l.node()
	if err != nil {
		return nil, err
	}
	info, err := b.Info.NodeInfo(ctx)
	if err != nil {
		return nil, l.s.toStatus(err)
	}
	best, err := b.Chain.BestBlock(ctx)
	if err != nil {
		return nil, l.s.toStatus(err)
	}
	synced, err := b.Chain.Synced(ctx)
	if err != nil {
		return nil, l.s.toStatus(err)
	}
	peers, err := b.Peers.List(ctx)
	if err != nil {
		return nil, l.s.toStatus(err)
	}

	net := l.s.cfg.Network
	resp := &lnrpc.GetInfoResponse{
		Version:             l.s.cfg.Version,
		CommitHash:          l.s.cfg.CommitHash,
		Alias:               info.Alias,
		Color:               info.Color,
		NumPendingChannels:  info.NumPendingChannels,
		NumActiveChannels:   info.NumActiveChannels,
		NumInactiveChannels: info.NumInactiveChannels,
		NumPeers:            uint32(len(peers)),
		BlockHeight:         best.Height,
		BlockHash:           best.Hash.String(),
		BestHeaderTimestamp: best.Timestamp.Unix(),
		SyncedToChain:       synced,
		SyncedToGraph:       info.SyncedToGraph,
		Chains:              []*lnrpc.Chain{{Chain: "bitcoin", Network: net.Name}},
		Uris:                nonNil(info.URIs),
		Features:            featureMap(info.Features),
		WalletSynced:        synced,
	}
	//lint:ignore SA1019 deprecated in lnd, but apps still read it.
	resp.Testnet = net.Name == "testnet"
	if info.IdentityKey != nil {
		resp.IdentityPubkey = hex.EncodeToString(info.IdentityKey.SerializeCompressed())
	}
	return resp, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func featureMap(fs []Feature) map[uint32]*lnrpc.Feature {
	m := make(map[uint32]*lnrpc.Feature, len(fs))
	for _, f := range fs {
		m[f.Bit] = &lnrpc.Feature{Name: f.Name, IsRequired: f.Bit%2 == 0, IsKnown: f.Known}
	}
	return m
}

// parsePubKey parses a hex compressed public key from field.
func parsePubKey(field, s string) (*btcec.PublicKey, error) {
	if s == "" {
		return nil, invalidf("%s is required: the peer's 33-byte public key in hex", field)
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, invalidf("%s is not hex: %v", field, err)
	}
	if len(b) != btcec.PubKeyBytesLenCompressed {
		return nil, invalidf("%s must be a 33-byte compressed public key, got %d bytes", field, len(b))
	}
	pub, err := btcec.ParsePubKey(b)
	if err != nil {
		return nil, invalidf("%s is not a valid public key: %v", field, err)
	}
	return pub, nil
}

// normalizeHost adds the default port to a host given without one and
// checks the port.
func normalizeHost(host string) (string, error) {
	host = strings.TrimSpace(host)
	if host == "" {
		return "", invalidf("addr.host is required: host:port of the peer")
	}
	h, p, err := net.SplitHostPort(host)
	if err != nil {
		// No port: a bare name, IPv4 or IPv6 address (bracketed or not).
		h = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
		p = strconv.Itoa(defaultPeerPort)
	}
	if h == "" {
		return "", invalidf("addr.host %q has no host name", host)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 1 || port > 65535 {
		return "", invalidf("addr.host %q: port must be 1-65535", host)
	}
	return net.JoinHostPort(h, p), nil
}

func (l *lightningService) ConnectPeer(ctx context.Context, req *lnrpc.ConnectPeerRequest) (*lnrpc.ConnectPeerResponse, error) {
	b, err := l.node()
	if err != nil {
		return nil, err
	}
	if req.Addr == nil {
		return nil, invalidf("need: lnc pubkeyhash@hostname (set addr.pubkey and addr.host)")
	}
	pub, err := parsePubKey("addr.pubkey", req.Addr.Pubkey)
	if err != nil {
		return nil, err
	}
	info, err := b.Info.NodeInfo(ctx)
	if err != nil {
		return nil, l.s.toStatus(err)
	}
	if info.IdentityKey != nil && info.IdentityKey.IsEqual(pub) {
		return nil, invalidf("cannot make connection to self")
	}
	host, err := normalizeHost(req.Addr.Host)
	if err != nil {
		return nil, err
	}
	if req.Timeout > maxConnectTimeout {
		return nil, invalidf("timeout must be at most %d seconds", maxConnectTimeout)
	}
	if req.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(req.Timeout)*time.Second)
		defer cancel()
	}

	l.s.log.Debug("ConnectPeer", "peer", req.Addr.Pubkey, "host", host, "perm", req.Perm)
	if err := b.Peers.Connect(ctx, pub, host, req.Perm); err != nil {
		return nil, l.s.toStatus(err)
	}
	return &lnrpc.ConnectPeerResponse{
		Status: fmt.Sprintf("connection to %s@%s initiated", req.Addr.Pubkey, host),
	}, nil
}

func (l *lightningService) DisconnectPeer(ctx context.Context, req *lnrpc.DisconnectPeerRequest) (*lnrpc.DisconnectPeerResponse, error) {
	b, err := l.node()
	if err != nil {
		return nil, err
	}
	pub, err := parsePubKey("pub_key", req.PubKey)
	if err != nil {
		return nil, err
	}
	if err := b.Peers.Disconnect(ctx, pub); err != nil {
		return nil, l.s.toStatus(fmt.Errorf("unable to disconnect peer: %w", err))
	}
	return &lnrpc.DisconnectPeerResponse{Status: "disconnect initiated"}, nil
}

func (l *lightningService) ListPeers(ctx context.Context, req *lnrpc.ListPeersRequest) (*lnrpc.ListPeersResponse, error) {
	b, err := l.node()
	if err != nil {
		return nil, err
	}
	peers, err := b.Peers.List(ctx)
	if err != nil {
		return nil, l.s.toStatus(err)
	}
	resp := &lnrpc.ListPeersResponse{Peers: make([]*lnrpc.Peer, 0, len(peers))}
	for i := range peers {
		resp.Peers = append(resp.Peers, marshalPeer(&peers[i], req.LatestError))
	}
	return resp, nil
}

// pingMicros is ListPeers' ping_time: microseconds, or -1 before the first
// pong, as lnd reports it.
func pingMicros(d time.Duration) int64 {
	if d <= 0 {
		return -1
	}
	return d.Microseconds()
}

func marshalPeer(p *PeerInfo, latestError bool) *lnrpc.Peer {
	out := &lnrpc.Peer{
		Address:         p.Address,
		BytesSent:       p.BytesSent,
		BytesRecv:       p.BytesRecv,
		SatSent:         int64(p.SatSent),
		SatRecv:         int64(p.SatRecv),
		Inbound:         p.Inbound,
		PingTime:        pingMicros(p.PingTime),
		SyncType:        lnrpc.Peer_SyncType(p.SyncType),
		Features:        featureMap(p.Features),
		Errors:          []*lnrpc.TimestampedError{},
		FlapCount:       p.FlapCount,
		LastPingPayload: p.LastPingPayload,
	}
	if p.PubKey != nil {
		out.PubKey = hex.EncodeToString(p.PubKey.SerializeCompressed())
	}
	if !p.LastFlap.IsZero() {
		out.LastFlapNs = p.LastFlap.UnixNano()
	}
	errs := p.Errors
	if latestError && len(errs) > 1 {
		errs = errs[len(errs)-1:]
	}
	for _, e := range errs {
		out.Errors = append(out.Errors, &lnrpc.TimestampedError{
			Timestamp: uint64(max(e.Time.Unix(), 0)),
			Error:     e.Error,
		})
	}
	return out
}

func (l *lightningService) SubscribePeerEvents(_ *lnrpc.PeerEventSubscription, stream lnrpc.Lightning_SubscribePeerEventsServer) error {
	b, err := l.node()
	if err != nil {
		return err
	}
	ctx := stream.Context()
	events, err := b.Peers.Subscribe(ctx)
	if err != nil {
		return l.s.toStatus(err)
	}
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				if ctx.Err() != nil {
					return l.s.toStatus(ctx.Err())
				}
				return status.Error(codes.Unavailable, "peer event subscription ended: node shutting down")
			}
			out := &lnrpc.PeerEvent{Type: lnrpc.PeerEvent_PEER_OFFLINE}
			if ev.Online {
				out.Type = lnrpc.PeerEvent_PEER_ONLINE
			}
			if ev.PubKey != nil {
				out.PubKey = hex.EncodeToString(ev.PubKey.SerializeCompressed())
			}
			if err := stream.Send(out); err != nil {
				return err
			}
		case <-ctx.Done():
			return l.s.toStatus(ctx.Err())
		}
	}
}

func (l *lightningService) NewAddress(ctx context.Context, req *lnrpc.NewAddressRequest) (*lnrpc.NewAddressResponse, error) {
	b, err := l.node()
	if err != nil {
		return nil, err
	}
	var typ AddressType
	var unused bool
	switch req.Type {
	case lnrpc.AddressType_WITNESS_PUBKEY_HASH:
		typ = AddressP2WKH
	case lnrpc.AddressType_NESTED_PUBKEY_HASH:
		typ = AddressNP2WKH
	case lnrpc.AddressType_UNUSED_WITNESS_PUBKEY_HASH:
		typ, unused = AddressP2WKH, true
	case lnrpc.AddressType_UNUSED_NESTED_PUBKEY_HASH:
		typ, unused = AddressNP2WKH, true
	case lnrpc.AddressType_TAPROOT_PUBKEY:
		typ = AddressP2TR
	case lnrpc.AddressType_UNUSED_TAPROOT_PUBKEY:
		typ, unused = AddressP2TR, true
	default:
		return nil, invalidf("unknown address type: %v", req.Type)
	}
	addr, err := b.Wallet.NewAddress(ctx, typ, unused, req.Account)
	if err != nil {
		return nil, l.s.toStatus(err)
	}
	return &lnrpc.NewAddressResponse{Address: addr.EncodeAddress()}, nil
}

func (l *lightningService) WalletBalance(ctx context.Context, req *lnrpc.WalletBalanceRequest) (*lnrpc.WalletBalanceResponse, error) {
	b, err := l.node()
	if err != nil {
		return nil, err
	}
	if req.MinConfs < 0 {
		return nil, invalidf("min_confs must be >= 0")
	}
	minConfs := req.MinConfs
	if minConfs == 0 {
		minConfs = 1
	}
	bal, err := b.Wallet.Balance(ctx, req.Account, minConfs)
	if err != nil {
		return nil, l.s.toStatus(err)
	}
	resp := &lnrpc.WalletBalanceResponse{
		TotalBalance:              int64(bal.Confirmed + bal.Unconfirmed),
		ConfirmedBalance:          int64(bal.Confirmed),
		UnconfirmedBalance:        int64(bal.Unconfirmed),
		LockedBalance:             int64(bal.Locked),
		ReservedBalanceAnchorChan: int64(bal.ReservedAnchor),
		AccountBalance:            make(map[string]*lnrpc.WalletAccountBalance),
	}
	for name, a := range bal.Accounts {
		resp.AccountBalance[name] = &lnrpc.WalletAccountBalance{
			ConfirmedBalance:   int64(a.Confirmed),
			UnconfirmedBalance: int64(a.Unconfirmed),
		}
	}
	if len(resp.AccountBalance) == 0 {
		resp.AccountBalance["default"] = &lnrpc.WalletAccountBalance{
			ConfirmedBalance:   int64(bal.Confirmed),
			UnconfirmedBalance: int64(bal.Unconfirmed),
		}
	}
	return resp, nil
}

func (l *lightningService) ListUnspent(ctx context.Context, req *lnrpc.ListUnspentRequest) (*lnrpc.ListUnspentResponse, error) {
	b, err := l.node()
	if err != nil {
		return nil, err
	}
	if req.MinConfs < 0 {
		return nil, invalidf("min_confs must be >= 0")
	}
	if req.MaxConfs < req.MinConfs {
		return nil, invalidf("max_confs (%d) must be >= min_confs (%d)", req.MaxConfs, req.MinConfs)
	}
	utxos, err := b.Wallet.ListUnspent(ctx, req.Account, req.MinConfs, req.MaxConfs)
	if err != nil {
		return nil, l.s.toStatus(err)
	}
	return &lnrpc.ListUnspentResponse{Utxos: marshalUtxos(utxos)}, nil
}

// marshalUtxos gives the wallet's coins lnd's Utxo shape (Lightning's and
// WalletKit's ListUnspent share it).
func marshalUtxos(utxos []Utxo) []*lnrpc.Utxo {
	out := make([]*lnrpc.Utxo, 0, len(utxos))
	for _, u := range utxos {
		o := &lnrpc.Utxo{
			AddressType:   marshalAddressType(u.Type),
			AmountSat:     int64(u.Amount),
			PkScript:      hex.EncodeToString(u.PkScript),
			Outpoint:      marshalOutPoint(u.OutPoint),
			Confirmations: u.Confirmations,
		}
		if u.Address != nil {
			o.Address = u.Address.EncodeAddress()
		}
		out = append(out, o)
	}
	return out
}

func marshalAddressType(t AddressType) lnrpc.AddressType {
	switch t {
	case AddressNP2WKH:
		return lnrpc.AddressType_NESTED_PUBKEY_HASH
	case AddressP2TR:
		return lnrpc.AddressType_TAPROOT_PUBKEY
	default:
		return lnrpc.AddressType_WITNESS_PUBKEY_HASH
	}
}

func marshalOutPoint(op wire.OutPoint) *lnrpc.OutPoint {
	return &lnrpc.OutPoint{
		TxidBytes:   op.Hash[:],
		TxidStr:     op.Hash.String(),
		OutputIndex: op.Index,
	}
}

func (l *lightningService) GetTransactions(ctx context.Context, req *lnrpc.GetTransactionsRequest) (*lnrpc.TransactionDetails, error) {
	b, err := l.node()
	if err != nil {
		return nil, err
	}
	if req.StartHeight < 0 {
		return nil, invalidf("start_height must be >= 0")
	}
	if req.EndHeight < -1 {
		return nil, invalidf("end_height must be -1 (include unconfirmed) or >= 0")
	}
	end := req.EndHeight
	if end == 0 {
		end = -1
	}
	txs, err := b.Wallet.Transactions(ctx, req.Account, req.StartHeight, end)
	if err != nil {
		return nil, l.s.toStatus(err)
	}

	first := min(uint64(req.IndexOffset), uint64(len(txs)))
	txs = txs[first:]
	if req.MaxTransactions > 0 && uint64(len(txs)) > uint64(req.MaxTransactions) {
		txs = txs[:req.MaxTransactions]
	}
	resp := &lnrpc.TransactionDetails{
		Transactions: make([]*lnrpc.Transaction, 0, len(txs)),
		FirstIndex:   first,
		LastIndex:    first + uint64(len(txs)),
	}
	for i := range txs {
		resp.Transactions = append(resp.Transactions, l.marshalTx(&txs[i]))
	}
	return resp, nil
}

func (l *lightningService) marshalTx(t *Transaction) *lnrpc.Transaction {
	out := &lnrpc.Transaction{
		TxHash:           t.Hash.String(),
		Amount:           int64(t.Amount),
		NumConfirmations: t.Confirmations,
		BlockHeight:      t.BlockHeight,
		TotalFees:        int64(t.Fee),
		Label:            t.Label,
		//lint:ignore SA1019 deprecated in lnd, but apps still read it.
		DestAddresses:     []string{},
		OutputDetails:     []*lnrpc.OutputDetail{},
		PreviousOutpoints: []*lnrpc.PreviousOutPoint{},
	}
	if t.BlockHash != nil {
		out.BlockHash = t.BlockHash.String()
	}
	if !t.Timestamp.IsZero() {
		out.TimeStamp = t.Timestamp.Unix()
	}
	if t.Tx == nil {
		return out
	}
	var raw strings.Builder
	if err := t.Tx.Serialize(hex.NewEncoder(&raw)); err == nil {
		out.RawTxHex = raw.String()
	}
	params := l.s.cfg.Network.Params
	for i, txOut := range t.Tx.TxOut {
		class, addrs, _, _ := txscript.ExtractPkScriptAddrs(txOut.PkScript, params)
		d := &lnrpc.OutputDetail{
			OutputType:   scriptType(class),
			PkScript:     hex.EncodeToString(txOut.PkScript),
			OutputIndex:  int64(i),
			Amount:       txOut.Value,
			IsOurAddress: i < len(t.IsOurOutput) && t.IsOurOutput[i],
		}
		if len(addrs) > 0 {
			d.Address = addrs[0].EncodeAddress()
			//lint:ignore SA1019 deprecated in lnd, but apps still read it.
			out.DestAddresses = append(out.DestAddresses, d.Address)
		}
		out.OutputDetails = append(out.OutputDetails, d)
	}
	for i, in := range t.Tx.TxIn {
		out.PreviousOutpoints = append(out.PreviousOutpoints, &lnrpc.PreviousOutPoint{
			Outpoint:    in.PreviousOutPoint.String(),
			IsOurOutput: i < len(t.IsOurInput) && t.IsOurInput[i],
		})
	}
	return out
}

func scriptType(c txscript.ScriptClass) lnrpc.OutputScriptType {
	switch c {
	case txscript.PubKeyHashTy:
		return lnrpc.OutputScriptType_SCRIPT_TYPE_PUBKEY_HASH
	case txscript.ScriptHashTy:
		return lnrpc.OutputScriptType_SCRIPT_TYPE_SCRIPT_HASH
	case txscript.WitnessV0PubKeyHashTy:
		return lnrpc.OutputScriptType_SCRIPT_TYPE_WITNESS_V0_PUBKEY_HASH
	case txscript.WitnessV0ScriptHashTy:
		return lnrpc.OutputScriptType_SCRIPT_TYPE_WITNESS_V0_SCRIPT_HASH
	case txscript.PubKeyTy:
		return lnrpc.OutputScriptType_SCRIPT_TYPE_PUBKEY
	case txscript.MultiSigTy:
		return lnrpc.OutputScriptType_SCRIPT_TYPE_MULTISIG
	case txscript.NullDataTy:
		return lnrpc.OutputScriptType_SCRIPT_TYPE_NULLDATA
	case txscript.WitnessUnknownTy:
		return lnrpc.OutputScriptType_SCRIPT_TYPE_WITNESS_UNKNOWN
	case txscript.WitnessV1TaprootTy:
		return lnrpc.OutputScriptType_SCRIPT_TYPE_WITNESS_V1_TAPROOT
	default:
		return lnrpc.OutputScriptType_SCRIPT_TYPE_NON_STANDARD
	}
}

// decodeAddress parses an address of our network.
func (l *lightningService) decodeAddress(field, s string) (btcutil.Address, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, invalidf("%s is required", field)
	}
	// A bare public key would decode as a pay-to-pubkey address; lnd
	// refuses it, it is almost certainly a mistake.
	if raw, err := hex.DecodeString(s); err == nil {
		if _, err := btcec.ParsePubKey(raw); err == nil {
			return nil, invalidf("cannot send coins to pubkeys")
		}
	}
	params := l.s.cfg.Network.Params
	addr, err := btcutil.DecodeAddress(s, params)
	if err != nil {
		return nil, invalidf("%s %q is not a valid address: %v", field, s, err)
	}
	if !addr.IsForNet(params) {
		return nil, invalidf("address: %v is not valid for this network: %v", s, l.s.cfg.Network.Name)
	}
	return addr, nil
}

// minConfs applies lnd's rules for min_confs and spend_unconfirmed.
func minConfs(minConfs int32, spendUnconfirmed bool) (int32, error) {
	switch {
	case minConfs < 0:
		return 0, invalidf("min_confs must be >= 0")
	case minConfs > 0 && spendUnconfirmed:
		return 0, invalidf("spend_unconfirmed set to true with min_confs > 0: set one of them")
	case spendUnconfirmed:
		return 0, nil
	case minConfs == 0:
		return 1, nil
	}
	return minConfs, nil
}

func coinSelection(s lnrpc.CoinSelectionStrategy) (CoinSelection, error) {
	switch s {
	case lnrpc.CoinSelectionStrategy_STRATEGY_USE_GLOBAL_CONFIG:
		return CoinSelectDefault, nil
	case lnrpc.CoinSelectionStrategy_STRATEGY_LARGEST:
		return CoinSelectLargest, nil
	case lnrpc.CoinSelectionStrategy_STRATEGY_RANDOM:
		return CoinSelectRandom, nil
	}
	return 0, invalidf("unknown coin_selection_strategy %v", s)
}

func parseOutPoint(op *lnrpc.OutPoint) (wire.OutPoint, error) {
	if op == nil {
		return wire.OutPoint{}, invalidf("outpoint is empty")
	}
	var h chainhash.Hash
	switch {
	case len(op.TxidBytes) > 0:
		if len(op.TxidBytes) != chainhash.HashSize {
			return wire.OutPoint{}, invalidf("outpoint txid_bytes must be 32 bytes, got %d", len(op.TxidBytes))
		}
		copy(h[:], op.TxidBytes)
	case op.TxidStr != "":
		p, err := chainhash.NewHashFromStr(op.TxidStr)
		if err != nil || len(op.TxidStr) != 2*chainhash.HashSize {
			return wire.OutPoint{}, invalidf("outpoint txid_str %q is not a 64-hex-digit txid", op.TxidStr)
		}
		h = *p
	default:
		return wire.OutPoint{}, invalidf("outpoint needs txid_bytes or txid_str")
	}
	return wire.OutPoint{Hash: h, Index: op.OutputIndex}, nil
}

// feeChoice returns the fee rate or conf target of a send: exactly one is
// non-zero.
func feeChoice(satPerVByte uint64, satPerByte int64, targetConf int32) (chain.SatPerKWeight, uint32, error) {
	if satPerByte < 0 {
		return 0, 0, invalidf("sat_per_byte must be >= 0")
	}
	if satPerVByte != 0 && satPerByte != 0 {
		return 0, 0, invalidf("either sat_per_byte or sat_per_vbyte should be set, but not both")
	}
	rate := satPerVByte
	if satPerByte != 0 {
		rate = uint64(satPerByte)
	}
	if targetConf < 0 {
		return 0, 0, invalidf("target_conf must be >= 0")
	}
	if rate != 0 && targetConf != 0 {
		return 0, 0, invalidf("either target_conf or sat_per_vbyte may be set, not both")
	}
	if rate == 0 {
		if targetConf == 0 {
			targetConf = defaultConfTarget
		}
		return 0, uint32(targetConf), nil
	}
	if rate > math.MaxInt64/1000 {
		return 0, 0, invalidf("sat_per_vbyte %d is out of range", rate)
	}
	return chain.SatPerVByte(rate).FeePerKWeight(), 0, nil
}

func (l *lightningService) SendCoins(ctx context.Context, req *lnrpc.SendCoinsRequest) (*lnrpc.SendCoinsResponse, error) {
	b, err := l.node()
	if err != nil {
		return nil, err
	}
	addr, err := l.decodeAddress("addr", req.Addr)
	if err != nil {
		return nil, err
	}
	//lint:ignore SA1019 deprecated in lnd, but old clients still send it.
	feeRate, target, err := feeChoice(req.SatPerVbyte, req.SatPerByte, req.TargetConf)
	if err != nil {
		return nil, err
	}
	switch {
	case req.SendAll && req.Amount != 0:
		return nil, invalidf("amount set while SendAll is active: give one of them")
	case !req.SendAll && req.Amount <= 0:
		return nil, invalidf("amount must be positive (or set send_all)")
	case req.Amount > int64(btcutil.MaxSatoshi):
		return nil, invalidf("amount %d exceeds the 21e14 satoshi supply", req.Amount)
	}
	confs, err := minConfs(req.MinConfs, req.SpendUnconfirmed)
	if err != nil {
		return nil, err
	}
	if len(req.Label) > maxLabelLen {
		return nil, invalidf("label length: %d exceeds limit of %d", len(req.Label), maxLabelLen)
	}
	label := req.Label
	if label == "" {
		label = labelExternal
	}
	strategy, err := coinSelection(req.CoinSelectionStrategy)
	if err != nil {
		return nil, err
	}
	var inputs []wire.OutPoint
	seen := make(map[wire.OutPoint]bool)
	for _, op := range req.Outpoints {
		wop, err := parseOutPoint(op)
		if err != nil {
			return nil, err
		}
		if seen[wop] {
			return nil, invalidf("selected outpoints contain duplicate values")
		}
		seen[wop] = true
		inputs = append(inputs, wop)
	}

	l.s.log.Info("SendCoins", "addr", addr, "amt", btcutil.Amount(req.Amount),
		"send_all", req.SendAll, "fee_rate", feeRate, "target_conf", target, "min_confs", confs)
	txid, err := b.Wallet.SendCoins(ctx, &SendRequest{
		Address:    addr,
		Amount:     btcutil.Amount(req.Amount),
		SendAll:    req.SendAll,
		FeeRate:    feeRate,
		TargetConf: target,
		MinConfs:   confs,
		Strategy:   strategy,
		Inputs:     inputs,
		Label:      label,
	})
	if err != nil {
		return nil, l.s.toStatus(err)
	}
	return &lnrpc.SendCoinsResponse{Txid: txid.String()}, nil
}

func (l *lightningService) EstimateFee(ctx context.Context, req *lnrpc.EstimateFeeRequest) (*lnrpc.EstimateFeeResponse, error) {
	b, err := l.node()
	if err != nil {
		return nil, err
	}
	if len(req.AddrToAmount) == 0 {
		return nil, invalidf("AddrToAmount is empty: give at least one address and amount")
	}
	outputs := make([]*wire.TxOut, 0, len(req.AddrToAmount))
	for s, amt := range req.AddrToAmount {
		addr, err := l.decodeAddress("AddrToAmount address", s)
		if err != nil {
			return nil, err
		}
		if amt <= 0 || amt > int64(btcutil.MaxSatoshi) {
			return nil, invalidf("amount for %s must be between 1 and 21e14 satoshis", s)
		}
		script, err := txscript.PayToAddrScript(addr)
		if err != nil {
			return nil, invalidf("cannot pay to %s: %v", s, err)
		}
		outputs = append(outputs, wire.NewTxOut(amt, script))
	}
	if req.TargetConf < 0 {
		return nil, invalidf("target_conf must be >= 0")
	}
	target := uint32(req.TargetConf)
	if target == 0 {
		target = defaultConfTarget
	}
	confs, err := minConfs(req.MinConfs, req.SpendUnconfirmed)
	if err != nil {
		return nil, err
	}
	strategy, err := coinSelection(req.CoinSelectionStrategy)
	if err != nil {
		return nil, err
	}
	est, err := b.Wallet.EstimateFee(ctx, &FeeRequest{
		Outputs:    outputs,
		TargetConf: target,
		MinConfs:   confs,
		Strategy:   strategy,
	})
	if err != nil {
		return nil, l.s.toStatus(err)
	}
	perVByte := int64(est.FeeRate.FeePerVByte())
	return &lnrpc.EstimateFeeResponse{
		FeeSat: int64(est.Fee),
		//lint:ignore SA1019 deprecated in lnd, but apps still read it.
		FeerateSatPerByte: perVByte,
		SatPerVbyte:       uint64(perVByte),
	}, nil
}

func (l *lightningService) StopDaemon(context.Context, *lnrpc.StopRequest) (*lnrpc.StopResponse, error) {
	b, err := l.node()
	if err != nil {
		return nil, err
	}
	l.s.log.Info("StopDaemon requested")
	b.Stop()
	return &lnrpc.StopResponse{Status: "shutdown initiated, check logs for progress"}, nil
}
