package itest

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
)

// TestSignVerifyMessage: a message alice signs over gRPC verifies on bob
// and recovers alice's key; bob's REST signature verifies on alice over
// REST. As in lnd, valid is true only for a node the verifier knows: each
// node knows itself, and neither keeps a graph with the other in it yet.
func TestSignVerifyMessage(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	bob := startNode(t, nw, "bob")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	msg := []byte("xlnd signs this")
	signed, err := alice.RPC.SignMessage(ctx, &lnrpc.SignMessageRequest{Msg: msg})
	check(t, err)
	got, err := bob.RPC.VerifyMessage(ctx, &lnrpc.VerifyMessageRequest{Msg: msg, Signature: signed.Signature})
	check(t, err)
	if got.Pubkey != alice.PubKey() || got.Valid {
		t.Fatalf("bob verifies alice's signature: %v (want alice's key %s, not valid: not in bob's graph)", got, alice.PubKey())
	}
	got, err = alice.RPC.VerifyMessage(ctx, &lnrpc.VerifyMessageRequest{Msg: msg, Signature: signed.Signature})
	check(t, err)
	if got.Pubkey != alice.PubKey() || !got.Valid {
		t.Fatalf("alice verifies her own signature: %v", got)
	}
	got, err = bob.RPC.VerifyMessage(ctx, &lnrpc.VerifyMessageRequest{Msg: []byte("something else"), Signature: signed.Signature})
	check(t, err)
	if got.Pubkey == alice.PubKey() {
		t.Fatalf("a signature of another message recovers alice's key")
	}

	// REST: bytes are base64 in lnd's JSON.
	var restSigned struct {
		Signature string `json:"signature"`
	}
	b64 := base64.StdEncoding.EncodeToString(msg)
	restJSON(t, bob, http.MethodPost, "/v1/signmessage", map[string]any{"msg": b64}, bob.AdminMacaroonPath(), &restSigned)
	var restGot struct {
		Valid  bool   `json:"valid"`
		Pubkey string `json:"pubkey"`
	}
	restJSON(t, alice, http.MethodPost, "/v1/verifymessage",
		map[string]any{"msg": b64, "signature": restSigned.Signature}, alice.ReadOnlyMacaroonPath(), &restGot)
	if restGot.Pubkey != bob.PubKey() || restGot.Valid {
		t.Fatalf("REST verify of bob's signature on alice: %+v", restGot)
	}
	// The read-only macaroon may verify but not sign.
	code, resp, err := alice.REST(http.MethodPost, "/v1/signmessage", map[string]any{"msg": b64}, alice.ReadOnlyMacaroonPath())
	check(t, err)
	if code != http.StatusForbidden {
		t.Fatalf("REST signmessage with the read-only macaroon: HTTP %d %s", code, resp)
	}
}

// TestBakedMacaroon: a macaroon baked with only info:read under its own
// root key calls GetInfo and is refused SendCoins and NewAddress, over
// gRPC and REST; DeleteMacaroonID revokes it (its next call fails) while
// admin.macaroon keeps working.
func TestBakedMacaroon(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	baked, err := alice.RPC.BakeMacaroon(ctx, &lnrpc.BakeMacaroonRequest{
		Permissions: []*lnrpc.MacaroonPermission{{Entity: "info", Action: "read"}},
		RootKeyId:   42,
	})
	check(t, err)
	raw, err := hex.DecodeString(baked.Macaroon)
	check(t, err)
	macPath := filepath.Join(t.TempDir(), "info.macaroon")
	check(t, os.WriteFile(macPath, raw, 0o600))

	conn, err := alice.Conn(macPath)
	check(t, err)
	infoOnly := lnrpc.NewLightningClient(conn)
	info, err := infoOnly.GetInfo(ctx, &lnrpc.GetInfoRequest{})
	if err != nil || info.IdentityPubkey != alice.PubKey() {
		t.Fatalf("GetInfo with info:read: %v, %v", info, err)
	}
	dest := nw.Btcd().MinerAddress().EncodeAddress()
	_, err = infoOnly.SendCoins(ctx, &lnrpc.SendCoinsRequest{Addr: dest, Amount: 10_000, SatPerVbyte: 2})
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("SendCoins with info:read: %v", err)
	}
	_, err = infoOnly.NewAddress(ctx, &lnrpc.NewAddressRequest{})
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("NewAddress with info:read: %v", err)
	}
	restCode := func(method, path string, body any) int {
		t.Helper()
		code, _, err := alice.REST(method, path, body, macPath)
		check(t, err)
		return code
	}
	if c := restCode(http.MethodGet, "/v1/getinfo", nil); c != http.StatusOK {
		t.Fatalf("REST getinfo with info:read: HTTP %d", c)
	}
	if c := restCode(http.MethodPost, "/v1/transactions", map[string]any{"addr": dest, "amount": "10000"}); c != http.StatusForbidden {
		t.Fatalf("REST sendcoins with info:read: HTTP %d", c)
	}
	if c := restCode(http.MethodGet, "/v1/newaddress", nil); c != http.StatusForbidden {
		t.Fatalf("REST newaddress with info:read: HTTP %d", c)
	}

	var ids struct {
		RootKeyIDs []string `json:"root_key_ids"`
	}
	restJSON(t, alice, http.MethodGet, "/v1/macaroon/ids", nil, alice.AdminMacaroonPath(), &ids)
	if strings.Join(ids.RootKeyIDs, ",") != "0,42" {
		t.Fatalf("root key ids %v", ids.RootKeyIDs)
	}
	var del struct {
		Deleted bool `json:"deleted"`
	}
	restJSON(t, alice, http.MethodDelete, "/v1/macaroon/42", nil, alice.AdminMacaroonPath(), &del)
	if !del.Deleted {
		t.Fatal("DELETE /v1/macaroon/42 deleted nothing")
	}
	_, err = infoOnly.GetInfo(ctx, &lnrpc.GetInfoRequest{})
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("GetInfo with a revoked macaroon: %v", err)
	}
	if c := restCode(http.MethodGet, "/v1/getinfo", nil); c != http.StatusUnauthorized {
		t.Fatalf("REST getinfo with a revoked macaroon: HTTP %d", c)
	}
	if _, err := alice.RPC.GetInfo(ctx, &lnrpc.GetInfoRequest{}); err != nil {
		t.Fatalf("admin after the revocation: %v", err)
	}
	// The revocation is on disk: it holds across a restart.
	check(t, alice.Stop())
	check(t, alice.Start())
	conn, err = alice.Conn(macPath)
	check(t, err)
	_, err = lnrpc.NewLightningClient(conn).GetInfo(ctx, &lnrpc.GetInfoRequest{})
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("GetInfo with a revoked macaroon after restart: %v", err)
	}
}

// TestListPermissionsAndDebugLevel: ListPermissions names every method of
// the Lightning service; DebugLevel lists the subsystems and changes a
// level, seen in the node's log.
func TestListPermissionsAndDebugLevel(t *testing.T) {
	t.Parallel()
	nw := harness.New(t)
	alice := startNode(t, nw, "alice")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	perms, err := alice.RPC.ListPermissions(ctx, &lnrpc.ListPermissionsRequest{})
	check(t, err)
	methods := lnrpc.File_lightning_proto.Services().ByName("Lightning").Methods()
	for i := 0; i < methods.Len(); i++ {
		full := "/lnrpc.Lightning/" + string(methods.Get(i).Name())
		if p := perms.MethodPermissions[full]; p == nil || len(p.Permissions) == 0 {
			t.Errorf("ListPermissions lacks %s", full)
		}
	}
	var restPerms struct {
		MethodPermissions map[string]any `json:"method_permissions"`
	}
	restJSON(t, alice, http.MethodGet, "/v1/macaroon/permissions", nil, alice.ReadOnlyMacaroonPath(), &restPerms)
	if len(restPerms.MethodPermissions) != len(perms.MethodPermissions) {
		t.Errorf("REST lists %d methods, gRPC %d", len(restPerms.MethodPermissions), len(perms.MethodPermissions))
	}

	show, err := alice.RPC.DebugLevel(ctx, &lnrpc.DebugLevelRequest{Show: true})
	check(t, err)
	for _, sub := range []string{"RPCS", "PEER", "WLLT"} {
		if !strings.Contains(" "+show.SubSystems+" ", " "+sub+" ") {
			t.Errorf("subsystems %q lack %s", show.SubSystems, sub)
		}
	}

	// A refused call is logged by RPCS at debug level: not at info.
	refused := func() int {
		t.Helper()
		conn, err := alice.Conn("")
		check(t, err)
		_, err = lnrpc.NewLightningClient(conn).GetInfo(ctx, &lnrpc.GetInfoRequest{})
		if status.Code(err) != codes.Unauthenticated {
			t.Fatalf("GetInfo without a macaroon: %v", err)
		}
		log, err := os.ReadFile(alice.LogPath())
		check(t, err)
		return strings.Count(string(log), "RPC refused")
	}
	set, err := alice.RPC.DebugLevel(ctx, &lnrpc.DebugLevelRequest{LevelSpec: "RPCS=info"})
	check(t, err)
	if !strings.Contains(set.SubSystems, "RPCS=INF") {
		t.Fatalf("DebugLevel RPCS=info: %q", set.SubSystems)
	}
	before := refused()
	if after := refused(); after != before {
		t.Fatalf("refused call logged at info level (%d -> %d)", before, after)
	}
	var restSet struct {
		SubSystems string `json:"sub_systems"`
	}
	restJSON(t, alice, http.MethodPost, "/v1/debuglevel", map[string]any{"level_spec": "RPCS=debug"}, alice.AdminMacaroonPath(), &restSet)
	if !strings.Contains(restSet.SubSystems, "RPCS=DBG") {
		t.Fatalf("REST debuglevel: %q", restSet.SubSystems)
	}
	if after := refused(); after != before+1 {
		t.Fatalf("refused call not logged at debug level (%d -> %d)", before, after)
	}
	_, err = alice.RPC.DebugLevel(ctx, &lnrpc.DebugLevelRequest{LevelSpec: "NOSUCH=debug"})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("DebugLevel of an unknown subsystem: %v", err)
	}
}
