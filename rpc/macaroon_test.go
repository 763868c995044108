package rpc

import (
	"encoding/hex"
	"net/http"
	"slices"
	"testing"

	"google.golang.org/grpc/codes"

	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/macaroons"
)

func perm(e, a string) *lnrpc.MacaroonPermission {
	return &lnrpc.MacaroonPermission{Entity: e, Action: a}
}

// TestBakeAndRevoke: a macaroon baked for info:read under its own root key
// reads, is refused what moves money, and stops working when its root key
// is deleted while admin keeps working; over gRPC and REST.
func TestBakeAndRevoke(t *testing.T) {
	h := newHarness(t, true)
	h.unlockAndActivate()
	ctx := t.Context()
	admin := h.lightning(macaroons.AdminFile)
	adminRaw := h.macaroon(macaroons.AdminFile)

	baked, err := admin.BakeMacaroon(ctx, &lnrpc.BakeMacaroonRequest{
		Permissions: []*lnrpc.MacaroonPermission{perm("info", "read")},
		RootKeyId:   5,
	})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := hex.DecodeString(baked.Macaroon)
	if err != nil {
		t.Fatal(err)
	}
	infoOnly := lnrpc.NewLightningClient(h.conn(raw))
	if _, err := infoOnly.GetInfo(ctx, &lnrpc.GetInfoRequest{}); err != nil {
		t.Fatalf("info:read macaroon refused GetInfo: %v", err)
	}
	_, err = infoOnly.SendCoins(ctx, &lnrpc.SendCoinsRequest{Addr: "bcrt1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqdku202", Amount: 1000})
	wantCode(t, err, codes.PermissionDenied)
	_, err = infoOnly.NewAddress(ctx, &lnrpc.NewAddressRequest{})
	wantCode(t, err, codes.PermissionDenied)
	if resp := h.rest("GET", "/v1/getinfo", "", raw); resp.StatusCode != http.StatusOK {
		t.Fatalf("REST getinfo with baked macaroon: %d", resp.StatusCode)
	}
	if resp := h.rest("GET", "/v1/newaddress", "", raw); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("REST newaddress with baked macaroon: %d", resp.StatusCode)
	}

	ids, err := admin.ListMacaroonIDs(ctx, &lnrpc.ListMacaroonIDsRequest{})
	if err != nil || !slices.Equal(ids.RootKeyIds, []uint64{0, 5}) {
		t.Fatalf("ids %v, %v", ids, err)
	}
	check := func(mac []byte, perms ...*lnrpc.MacaroonPermission) error {
		_, err := admin.CheckMacaroonPermissions(ctx, &lnrpc.CheckMacPermRequest{Macaroon: mac, Permissions: perms})
		return err
	}
	if err := check(raw, perm("info", "read")); err != nil {
		t.Fatalf("check info:read: %v", err)
	}
	wantCode(t, check(raw, perm("onchain", "write")), codes.InvalidArgument)
	_, err = admin.CheckMacaroonPermissions(ctx, &lnrpc.CheckMacPermRequest{
		Macaroon: raw, FullMethod: "/lnrpc.Lightning/SendCoins", CheckDefaultPermsFromFullMethod: true})
	wantCode(t, err, codes.InvalidArgument)

	// Delete over REST, as lncli's users would through the gateway.
	resp := h.rest("DELETE", "/v1/macaroon/5", "", adminRaw)
	if body := readJSON(t, resp); resp.StatusCode != http.StatusOK || body["deleted"] != true {
		t.Fatalf("REST delete: %d %v", resp.StatusCode, body)
	}
	_, err = infoOnly.GetInfo(ctx, &lnrpc.GetInfoRequest{})
	wantCode(t, err, codes.Unauthenticated)
	if resp := h.rest("GET", "/v1/getinfo", "", raw); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("REST getinfo with revoked macaroon: %d", resp.StatusCode)
	}
	wantCode(t, check(raw, perm("info", "read")), codes.InvalidArgument)
	if _, err := admin.GetInfo(ctx, &lnrpc.GetInfoRequest{}); err != nil {
		t.Fatalf("admin after revocation: %v", err)
	}
	del, err := admin.DeleteMacaroonID(ctx, &lnrpc.DeleteMacaroonIDRequest{RootKeyId: 5})
	if err != nil || del.Deleted {
		t.Fatalf("second delete: %v, %v", del, err)
	}
	_, err = admin.DeleteMacaroonID(ctx, &lnrpc.DeleteMacaroonIDRequest{RootKeyId: 0})
	wantCode(t, err, codes.InvalidArgument)
}

func TestBakeMacaroonValidates(t *testing.T) {
	h := newHarness(t, true)
	h.unlockAndActivate()
	ctx := t.Context()
	admin := h.lightning(macaroons.AdminFile)
	for name, req := range map[string]*lnrpc.BakeMacaroonRequest{
		"empty":          {},
		"unknown entity": {Permissions: []*lnrpc.MacaroonPermission{perm("wallet", "read")}},
		"unknown action": {Permissions: []*lnrpc.MacaroonPermission{perm("info", "delete")}},
		"unknown uri":    {Permissions: []*lnrpc.MacaroonPermission{perm("uri", "/lnrpc.Lightning/Nope")}},
	} {
		_, err := admin.BakeMacaroon(ctx, req)
		if err == nil {
			t.Errorf("%s: baked", name)
			continue
		}
		wantCode(t, err, codes.InvalidArgument)
	}
	// External permissions pass with the flag; a uri permission grants
	// exactly its method.
	if _, err := admin.BakeMacaroon(ctx, &lnrpc.BakeMacaroonRequest{
		Permissions: []*lnrpc.MacaroonPermission{perm("loop", "in")}, AllowExternalPermissions: true,
	}); err != nil {
		t.Fatalf("external permission: %v", err)
	}
	baked, err := admin.BakeMacaroon(ctx, &lnrpc.BakeMacaroonRequest{
		Permissions: []*lnrpc.MacaroonPermission{perm("uri", "/lnrpc.Lightning/GetInfo")},
	})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := hex.DecodeString(baked.Macaroon)
	uri := lnrpc.NewLightningClient(h.conn(raw))
	if _, err := uri.GetInfo(ctx, &lnrpc.GetInfoRequest{}); err != nil {
		t.Fatalf("uri macaroon refused its method: %v", err)
	}
	_, err = uri.ListPeers(ctx, &lnrpc.ListPeersRequest{})
	wantCode(t, err, codes.PermissionDenied)

	// readonly may not bake.
	_, err = h.lightning(macaroons.ReadOnlyFile).BakeMacaroon(ctx, &lnrpc.BakeMacaroonRequest{
		Permissions: []*lnrpc.MacaroonPermission{perm("info", "read")}})
	wantCode(t, err, codes.PermissionDenied)
}

func TestListPermissions(t *testing.T) {
	h := newHarness(t, true)
	h.unlockAndActivate()
	resp, err := h.lightning(macaroons.ReadOnlyFile).ListPermissions(t.Context(), &lnrpc.ListPermissionsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	perms := Permissions()
	if len(resp.MethodPermissions) != len(perms) {
		t.Fatalf("%d methods listed, %d have permissions", len(resp.MethodPermissions), len(perms))
	}
	for m, ops := range perms {
		got := resp.MethodPermissions[m]
		if got == nil || len(got.Permissions) != len(ops) {
			t.Errorf("%s: %v, want %v", m, got, ops)
			continue
		}
		for _, p := range got.Permissions {
			if !slices.Contains(ops, macaroons.Op{Entity: p.Entity, Action: p.Action}) {
				t.Errorf("%s lists %v, not among %v", m, p, ops)
			}
		}
	}
	if got := resp.MethodPermissions["/lnrpc.Lightning/SendCoins"].Permissions; len(got) != 1 || got[0].Entity != "onchain" || got[0].Action != "write" {
		t.Errorf("SendCoins needs %v", got)
	}
}
