package rpc

import (
	"context"
	"encoding/hex"
	"errors"
	"slices"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/macaroons"
)

// msgMacaroonsDisabled is lnd's answer to macaroon calls on a node started
// without macaroons.
const msgMacaroonsDisabled = "macaroon authentication disabled, remove --no-macaroons flag to enable"

// The entities and actions BakeMacaroon accepts without
// allow_external_permissions, lnd's.
var (
	bakeEntities = []string{
		"onchain", "offchain", "address", "message", "remotesigner",
		"peers", "info", "invoices", "signer", "macaroon", macaroons.EntityURI,
	}
	bakeActions = []string{"read", "write", "generate"}
)

// macaroonsOn answers FailedPrecondition on a node without macaroons.
func (l *lightningService) macaroonsOn() error {
	if l.s.cfg.NoMacaroons || l.s.macStore == nil {
		return status.Error(codes.FailedPrecondition, msgMacaroonsDisabled)
	}
	return nil
}

// rootKeyID is the store id of a numeric root key id, lnd's decimal form.
func rootKeyID(id uint64) string { return strconv.FormatUint(id, 10) }

// BakeMacaroon bakes a macaroon with exactly the requested permissions and
// no caveats (callers add those offline, as lncli does). A new root key id
// creates its root key.
func (l *lightningService) BakeMacaroon(_ context.Context, req *lnrpc.BakeMacaroonRequest) (*lnrpc.BakeMacaroonResponse, error) {
	if err := l.macaroonsOn(); err != nil {
		return nil, err
	}
	help := "supported entities are " + strings.Join(bakeEntities, ", ") +
		"; supported actions are " + strings.Join(bakeActions, ", ") +
		"; or uri with a full method name such as /lnrpc.Lightning/GetInfo"
	if len(req.Permissions) == 0 {
		return nil, invalidf("permission list cannot be empty: give at least one entity:action pair (%s)", help)
	}
	ops := make([]macaroons.Op, 0, len(req.Permissions))
	for _, p := range req.Permissions {
		if p == nil || p.Entity == "" || p.Action == "" {
			return nil, invalidf("a permission needs an entity and an action (%s)", help)
		}
		op := macaroons.Op{Entity: p.Entity, Action: p.Action}
		if !req.AllowExternalPermissions {
			if err := l.checkBakeOp(op, help); err != nil {
				return nil, err
			}
		}
		ops = append(ops, op)
	}
	id := rootKeyID(req.RootKeyId)
	if _, err := l.s.macStore.CreateRootKey(id); err != nil {
		return nil, l.macStatus(err)
	}
	raw, err := l.s.macSvc.BakeBinaryWithID(id, ops)
	if err != nil {
		return nil, l.macStatus(err)
	}
	l.s.log.Info("Macaroon baked", "root_key_id", id, "permissions", ops)
	return &lnrpc.BakeMacaroonResponse{Macaroon: hex.EncodeToString(raw)}, nil
}

// checkBakeOp checks one requested permission against what the node knows.
func (l *lightningService) checkBakeOp(op macaroons.Op, help string) error {
	if !slices.Contains(bakeEntities, op.Entity) {
		return invalidf("invalid permission entity %q: %s", op.Entity, help)
	}
	if op.Entity == macaroons.EntityURI {
		if _, ok := l.s.perms[op.Action]; !ok {
			return invalidf("invalid permission action %q: must be an existing method in the form /package.Service/MethodName", op.Action)
		}
		return nil
	}
	if !slices.Contains(bakeActions, op.Action) {
		return invalidf("invalid permission action %q: %s", op.Action, help)
	}
	return nil
}

// macStatus is toStatus for the macaroon store's errors, with lnd's text
// for a locked store.
func (l *lightningService) macStatus(err error) error {
	if errors.Is(err, macaroons.ErrStoreLocked) {
		return status.Error(codes.Unavailable, msgWalletLocked)
	}
	return l.s.toStatus(err)
}

func (l *lightningService) ListMacaroonIDs(context.Context, *lnrpc.ListMacaroonIDsRequest) (*lnrpc.ListMacaroonIDsResponse, error) {
	if err := l.macaroonsOn(); err != nil {
		return nil, err
	}
	ids, err := l.s.macStore.RootKeyIDs()
	if err != nil {
		return nil, l.macStatus(err)
	}
	out := make([]uint64, 0, len(ids))
	for _, id := range ids {
		n, err := strconv.ParseUint(id, 10, 64)
		if err != nil {
			// Only numeric ids are ever stored; say so rather than
			// hide one.
			return nil, status.Errorf(codes.Internal, "root key id %q is not a number", id)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return &lnrpc.ListMacaroonIDsResponse{RootKeyIds: out}, nil
}

// DeleteMacaroonID deletes a root key: every macaroon baked with it stops
// working at once. The default root key (0) cannot be deleted.
func (l *lightningService) DeleteMacaroonID(_ context.Context, req *lnrpc.DeleteMacaroonIDRequest) (*lnrpc.DeleteMacaroonIDResponse, error) {
	if err := l.macaroonsOn(); err != nil {
		return nil, err
	}
	deleted, err := l.s.macStore.DeleteRootKey(rootKeyID(req.RootKeyId))
	if err != nil {
		return nil, l.macStatus(err)
	}
	if deleted {
		l.s.log.Info("Macaroon root key deleted", "root_key_id", req.RootKeyId)
	}
	return &lnrpc.DeleteMacaroonIDResponse{Deleted: deleted}, nil
}

// ListPermissions lists every method the node serves with the permissions
// it needs.
func (l *lightningService) ListPermissions(context.Context, *lnrpc.ListPermissionsRequest) (*lnrpc.ListPermissionsResponse, error) {
	out := make(map[string]*lnrpc.MacaroonPermissionList, len(l.s.perms))
	for method, ops := range l.s.perms {
		out[method] = &lnrpc.MacaroonPermissionList{Permissions: marshalOps(ops)}
	}
	return &lnrpc.ListPermissionsResponse{MethodPermissions: out}, nil
}

func marshalOps(ops []macaroons.Op) []*lnrpc.MacaroonPermission {
	sorted := slices.Clone(ops)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].String() < sorted[j].String() })
	out := make([]*lnrpc.MacaroonPermission, len(sorted))
	for i, op := range sorted {
		out[i] = &lnrpc.MacaroonPermission{Entity: op.Entity, Action: op.Action}
	}
	return out
}

// CheckMacaroonPermissions checks a macaroon as a call would be checked:
// signature, root key, caveats (an ipaddr caveat against the caller's
// address), then the permissions. A macaroon that fails is an
// InvalidArgument error, as in lnd.
func (l *lightningService) CheckMacaroonPermissions(ctx context.Context, req *lnrpc.CheckMacPermRequest) (*lnrpc.CheckMacPermResponse, error) {
	if err := l.macaroonsOn(); err != nil {
		return nil, err
	}
	switch {
	case len(req.Permissions) > 0 && req.CheckDefaultPermsFromFullMethod:
		return nil, invalidf("cannot check default permissions from full method and from provided permission list at the same time")
	case req.FullMethod == "" && req.CheckDefaultPermsFromFullMethod:
		return nil, invalidf("cannot check default permissions from full method without providing the full method name")
	}
	required := make([]macaroons.Op, 0, len(req.Permissions))
	for _, p := range req.Permissions {
		if p != nil {
			required = append(required, macaroons.Op{Entity: p.Entity, Action: p.Action})
		}
	}
	if req.CheckDefaultPermsFromFullMethod {
		ops, ok := l.s.perms[req.FullMethod]
		if !ok {
			return nil, invalidf("no permissions found for full method %s", req.FullMethod)
		}
		required = ops
	}
	md, _ := metadata.FromIncomingContext(ctx)
	err := l.s.macSvc.Verify(req.Macaroon, req.FullMethod, required, l.s.clientIP(ctx, md))
	switch {
	case errors.Is(err, macaroons.ErrStoreLocked):
		return nil, status.Error(codes.Unavailable, msgWalletLocked)
	case err != nil:
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &lnrpc.CheckMacPermResponse{Valid: true}, nil
}
