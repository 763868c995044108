package rpc

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"lnd.xprv/chain"
	"lnd.xprv/rpc/lnrpc/signrpc"
	"lnd.xprv/rpc/lnrpc/walletrpc"
	"lnd.xprv/wallet"
)

// lndInternalLockID is the lease id lnd's FundPsbt uses when the caller
// gives none; apps release such leases with it.
var lndInternalLockID = wallet.LockID{
	0xed, 0xe1, 0x9a, 0x92, 0xed, 0x32, 0x1a, 0x47,
	0x05, 0xf8, 0xa1, 0xcc, 0xcc, 0x1d, 0x4f, 0x61,
	0x82, 0x54, 0x5d, 0x4b, 0xb4, 0xfa, 0xe0, 0x8b,
	0xd5, 0x93, 0x78, 0x31, 0xb7, 0xe3, 0x8f, 0x98,
}

// walletKitService implements walletrpc.WalletKitServer over the Backend.
type walletKitService struct {
	walletrpc.UnimplementedWalletKitServer
	s *Server
}

// kit returns the backend and its WalletKit.
func (k *walletKitService) kit() (*Backend, WalletKit, error) {
	b := k.s.backend.Load()
	if b == nil {
		return nil, nil, status.Error(codes.Unavailable, msgRPCStarting)
	}
	if b.WalletKit == nil {
		return nil, nil, status.Error(codes.Unimplemented, "WalletKit is not served by this node")
	}
	return b, b.WalletKit, nil
}

func (k *walletKitService) ListUnspent(ctx context.Context, req *walletrpc.ListUnspentRequest) (*walletrpc.ListUnspentResponse, error) {
	b, _, err := k.kit()
	if err != nil {
		return nil, err
	}
	minC, maxC := req.MinConfs, req.MaxConfs
	if req.UnconfirmedOnly && (minC != 0 || maxC != 0) {
		return nil, invalidf("min_confs and max_confs must be zero if unconfirmed_only is true")
	}
	if maxC == 0 && !req.UnconfirmedOnly {
		maxC = math.MaxInt32
	}
	if minC < 0 || maxC < minC {
		return nil, invalidf("min_confs (%d) must be >= 0 and <= max_confs (%d)", minC, maxC)
	}
	utxos, err := b.Wallet.ListUnspent(ctx, req.Account, minC, maxC)
	if err != nil {
		return nil, k.s.toStatus(err)
	}
	return &walletrpc.ListUnspentResponse{Utxos: marshalUtxos(utxos)}, nil
}

// lockID parses a lease id as lnd does: 32 bytes, not all zero.
func lockID(id []byte) (wallet.LockID, error) {
	var l wallet.LockID
	if len(id) != len(l) {
		return l, invalidf("id must be 32 random bytes")
	}
	copy(l[:], id)
	if l == (wallet.LockID{}) {
		return l, invalidf("id must be 32 random bytes")
	}
	return l, nil
}

// leaseDuration is seconds as a duration; 0 is the wallet's default.
func leaseDuration(secs uint64) (time.Duration, error) {
	const maxSecs = 365 * 24 * 60 * 60
	if secs > maxSecs {
		return 0, invalidf("lease of %d seconds is longer than a year", secs)
	}
	return time.Duration(secs) * time.Second, nil
}

func (k *walletKitService) LeaseOutput(_ context.Context, req *walletrpc.LeaseOutputRequest) (*walletrpc.LeaseOutputResponse, error) {
	_, kit, err := k.kit()
	if err != nil {
		return nil, err
	}
	id, err := lockID(req.Id)
	if err != nil {
		return nil, err
	}
	if id == lndInternalLockID {
		return nil, invalidf("reserved id cannot be used")
	}
	op, err := parseOutPoint(req.Outpoint)
	if err != nil {
		return nil, err
	}
	d, err := leaseDuration(req.ExpirationSeconds)
	if err != nil {
		return nil, err
	}
	expiry, err := kit.LeaseOutput(id, op, d)
	if err != nil {
		return nil, k.s.toStatus(err)
	}
	return &walletrpc.LeaseOutputResponse{Expiration: uint64(expiry.Unix())}, nil
}

func (k *walletKitService) ReleaseOutput(_ context.Context, req *walletrpc.ReleaseOutputRequest) (*walletrpc.ReleaseOutputResponse, error) {
	_, kit, err := k.kit()
	if err != nil {
		return nil, err
	}
	id, err := lockID(req.Id)
	if err != nil {
		return nil, err
	}
	op, err := parseOutPoint(req.Outpoint)
	if err != nil {
		return nil, err
	}
	if err := kit.ReleaseOutput(id, op); err != nil {
		return nil, k.s.toStatus(err)
	}
	return &walletrpc.ReleaseOutputResponse{Status: fmt.Sprintf("output %v released", op)}, nil
}

func (k *walletKitService) ListLeases(context.Context, *walletrpc.ListLeasesRequest) (*walletrpc.ListLeasesResponse, error) {
	_, kit, err := k.kit()
	if err != nil {
		return nil, err
	}
	leases, err := kit.ListLeases()
	if err != nil {
		return nil, k.s.toStatus(err)
	}
	resp := &walletrpc.ListLeasesResponse{LockedUtxos: make([]*walletrpc.UtxoLease, 0, len(leases))}
	for _, l := range leases {
		resp.LockedUtxos = append(resp.LockedUtxos, marshalLease(l))
	}
	return resp, nil
}

func marshalLease(l wallet.Lease) *walletrpc.UtxoLease {
	return &walletrpc.UtxoLease{
		Id:         l.LockID[:],
		Outpoint:   marshalOutPoint(l.OutPoint),
		Expiration: uint64(l.Expiry.Unix()),
		PkScript:   l.PkScript,
		Value:      uint64(l.Value),
	}
}

func marshalKey(d wallet.KeyDescriptor) *signrpc.KeyDescriptor {
	return &signrpc.KeyDescriptor{
		RawKeyBytes: d.PubKey.SerializeCompressed(),
		KeyLoc: &signrpc.KeyLocator{
			KeyFamily: int32(d.Family),
			KeyIndex:  int32(d.Index),
		},
	}
}

func (k *walletKitService) DeriveNextKey(_ context.Context, req *walletrpc.KeyReq) (*signrpc.KeyDescriptor, error) {
	_, kit, err := k.kit()
	if err != nil {
		return nil, err
	}
	if req.KeyFamily < 0 {
		return nil, invalidf("key_family must be >= 0")
	}
	d, err := kit.DeriveNextKey(wallet.KeyFamily(req.KeyFamily))
	if err != nil {
		return nil, k.s.toStatus(err)
	}
	return marshalKey(d), nil
}

func (k *walletKitService) DeriveKey(_ context.Context, req *signrpc.KeyLocator) (*signrpc.KeyDescriptor, error) {
	_, kit, err := k.kit()
	if err != nil {
		return nil, err
	}
	if req.KeyFamily < 0 || req.KeyIndex < 0 {
		return nil, invalidf("key_family and key_index must be >= 0")
	}
	d, err := kit.DeriveKey(wallet.KeyLocator{Family: wallet.KeyFamily(req.KeyFamily), Index: uint32(req.KeyIndex)})
	if err != nil {
		return nil, k.s.toStatus(err)
	}
	return marshalKey(d), nil
}

// walletAddressType maps WalletKit's address types to the wallet's, as
// lnd's NextAddr does (UNKNOWN is P2WPKH; the hybrid type names an account,
// not an address).
func walletAddressType(t walletrpc.AddressType) (wallet.AddressType, error) {
	switch t {
	case walletrpc.AddressType_UNKNOWN, walletrpc.AddressType_WITNESS_PUBKEY_HASH:
		return wallet.AddressP2WPKH, nil
	case walletrpc.AddressType_TAPROOT_PUBKEY:
		return wallet.AddressP2TR, nil
	case walletrpc.AddressType_NESTED_WITNESS_PUBKEY_HASH:
		return wallet.AddressNP2WPKH, nil
	}
	return 0, invalidf("invalid address type for next address: %v", t)
}

func checkKitAccount(account string) error {
	if account != "" && account != "default" {
		return status.Errorf(codes.InvalidArgument, "account %q: %v", account, ErrUnknownAccount)
	}
	return nil
}

func (k *walletKitService) NextAddr(_ context.Context, req *walletrpc.AddrRequest) (*walletrpc.AddrResponse, error) {
	_, kit, err := k.kit()
	if err != nil {
		return nil, err
	}
	if err := checkKitAccount(req.Account); err != nil {
		return nil, err
	}
	t, err := walletAddressType(req.Type)
	if err != nil {
		return nil, err
	}
	addr, err := kit.NewAddress(t, req.Change)
	if err != nil {
		return nil, k.s.toStatus(err)
	}
	return &walletrpc.AddrResponse{Addr: addr.EncodeAddress()}, nil
}

// marshalAccountType names an account's type as lnd does. The nested
// account is lnd's default hybrid one: nested P2WPKH receive addresses,
// while change is never nested (the wallet pays change to P2WPKH or P2TR).
func marshalAccountType(t wallet.AddressType) walletrpc.AddressType {
	switch t {
	case wallet.AddressP2TR:
		return walletrpc.AddressType_TAPROOT_PUBKEY
	case wallet.AddressNP2WPKH:
		return walletrpc.AddressType_HYBRID_NESTED_WITNESS_PUBKEY_HASH
	}
	return walletrpc.AddressType_WITNESS_PUBKEY_HASH
}

// accountOrder is lnd's order of the default accounts (by BIP 43 purpose).
func accountOrder(t wallet.AddressType) int {
	switch t {
	case wallet.AddressNP2WPKH:
		return 0
	case wallet.AddressP2WPKH:
		return 1
	}
	return 2
}

func (k *walletKitService) ListAccounts(_ context.Context, req *walletrpc.ListAccountsRequest) (*walletrpc.ListAccountsResponse, error) {
	_, kit, err := k.kit()
	if err != nil {
		return nil, err
	}
	accts, err := kit.Accounts()
	if err != nil {
		return nil, k.s.toStatus(err)
	}
	sort.SliceStable(accts, func(i, j int) bool {
		return accountOrder(accts[i].Type) < accountOrder(accts[j].Type)
	})
	resp := &walletrpc.ListAccountsResponse{Accounts: []*walletrpc.Account{}}
	for _, a := range accts {
		t := marshalAccountType(a.Type)
		if req.Name != "" && req.Name != "default" {
			continue
		}
		if req.AddressType != walletrpc.AddressType_UNKNOWN && req.AddressType != t {
			continue
		}
		resp.Accounts = append(resp.Accounts, &walletrpc.Account{
			Name:              "default",
			AddressType:       t,
			ExtendedPublicKey: a.XPub,
			DerivationPath:    a.Path,
			ExternalKeyCount:  a.External,
			InternalKeyCount:  a.Internal,
		})
	}
	return resp, nil
}

// parseTx decodes a raw transaction from a caller.
func parseTx(field string, raw []byte) (*wire.MsgTx, error) {
	if len(raw) == 0 {
		return nil, invalidf("%s is empty", field)
	}
	tx, err := decodeTx(raw)
	if err != nil {
		return nil, invalidf("%s is not a transaction: %v", field, err)
	}
	return tx, nil
}

func checkLabel(label string) error {
	if len(label) > maxLabelLen {
		return invalidf("label length: %v exceeds limit of %v", len(label), maxLabelLen)
	}
	return nil
}

func (k *walletKitService) PublishTransaction(ctx context.Context, req *walletrpc.Transaction) (*walletrpc.PublishResponse, error) {
	_, kit, err := k.kit()
	if err != nil {
		return nil, err
	}
	if err := checkLabel(req.Label); err != nil {
		return nil, err
	}
	tx, err := parseTx("tx_hex", req.TxHex)
	if err != nil {
		return nil, err
	}
	if err := kit.PublishTx(ctx, tx, req.Label); err != nil {
		return nil, k.s.toStatus(err)
	}
	return &walletrpc.PublishResponse{}, nil
}

func (k *walletKitService) SendOutputs(ctx context.Context, req *walletrpc.SendOutputsRequest) (*walletrpc.SendOutputsResponse, error) {
	_, kit, err := k.kit()
	if err != nil {
		return nil, err
	}
	if err := checkLabel(req.Label); err != nil {
		return nil, err
	}
	if len(req.Outputs) == 0 {
		return nil, invalidf("must specify at least one output")
	}
	if req.SatPerKw <= 0 {
		return nil, invalidf("sat_per_kw must be > 0")
	}
	rate := chain.SatPerKWeight(req.SatPerKw)
	if rate < chain.FeePerKwFloor {
		return nil, invalidf("fee rate of %d sat/kw is too low, minimum is %d sat/kw", req.SatPerKw, chain.FeePerKwFloor)
	}
	if _, err := coinSelection(req.CoinSelectionStrategy); err != nil {
		return nil, err
	}
	confs, err := minConfs(req.MinConfs, req.SpendUnconfirmed)
	if err != nil {
		return nil, err
	}
	outs := make([]*wire.TxOut, 0, len(req.Outputs))
	for i, o := range req.Outputs {
		if o == nil || len(o.PkScript) == 0 {
			return nil, invalidf("output %d has no pk_script", i)
		}
		outs = append(outs, wire.NewTxOut(o.Value, o.PkScript))
	}
	tx, err := kit.SendOutputs(ctx, outs, wallet.FeePreference{SatPerKWeight: rate}, confs, req.Label)
	if err != nil {
		return nil, k.s.toStatus(err)
	}
	raw, err := serializeTx(tx)
	if err != nil {
		return nil, k.s.toStatus(err)
	}
	return &walletrpc.SendOutputsResponse{RawTx: raw}, nil
}

func (k *walletKitService) EstimateFee(ctx context.Context, req *walletrpc.EstimateFeeRequest) (*walletrpc.EstimateFeeResponse, error) {
	_, kit, err := k.kit()
	if err != nil {
		return nil, err
	}
	if req.ConfTarget <= 0 {
		return nil, invalidf("confirmation target must be greater than 0")
	}
	rate, err := kit.FeeRate(ctx, wallet.FeePreference{ConfTarget: uint32(req.ConfTarget)})
	if err != nil {
		return nil, k.s.toStatus(err)
	}
	return &walletrpc.EstimateFeeResponse{
		SatPerKw:            int64(rate),
		MinRelayFeeSatPerKw: int64(kit.RelayFeePerKW()),
	}, nil
}

func (k *walletKitService) LabelTransaction(_ context.Context, req *walletrpc.LabelTransactionRequest) (*walletrpc.LabelTransactionResponse, error) {
	_, kit, err := k.kit()
	if err != nil {
		return nil, err
	}
	if req.Label == "" {
		return nil, invalidf("cannot label transaction with empty label")
	}
	if err := checkLabel(req.Label); err != nil {
		return nil, err
	}
	txid, err := chainhash.NewHash(req.Txid)
	if err != nil {
		return nil, invalidf("txid must be 32 bytes, got %d", len(req.Txid))
	}
	if err := kit.LabelTransaction(*txid, req.Label, req.Overwrite); err != nil {
		return nil, k.s.toStatus(err)
	}
	return &walletrpc.LabelTransactionResponse{
		Status: fmt.Sprintf("transaction label '%s' added", req.Label),
	}, nil
}
