package rpc

import (
	"context"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/macaroons"
)

// Messages for calls refused by state, lnd's texts.
const (
	msgWaitingToStart = "waiting to start, RPC services not available"
	msgNoWallet       = "wallet not created, create one to enable full RPC access"
	msgWalletLocked   = "wallet locked, unlock it to enable full RPC access"
	msgWalletUnlocked = "wallet already unlocked, WalletUnlocker service is no longer available"
	msgRPCStarting    = "the RPC server is in the process of starting up, but not yet ready to accept calls"
)

// MacaroonMetadataKey is the gRPC metadata key of the hex macaroon.
const MacaroonMetadataKey = "macaroon"

func (s *Server) unaryInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo,
	handler grpc.UnaryHandler) (any, error) {

	if err := s.authorize(ctx, info.FullMethod); err != nil {
		s.log.Debug("RPC refused", "method", info.FullMethod, "err", err)
		return nil, err
	}
	return handler(ctx, req)
}

func (s *Server) streamInterceptor(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo,
	handler grpc.StreamHandler) error {

	if err := s.authorize(ss.Context(), info.FullMethod); err != nil {
		s.log.Debug("RPC refused", "method", info.FullMethod, "err", err)
		return err
	}
	return handler(srv, ss)
}

// authorize checks that the method may run in the current state and that
// the caller's macaroon grants it.
func (s *Server) authorize(ctx context.Context, fullMethod string) error {
	service, _, _ := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	state := s.state.get()

	switch service {
	case stateServiceName:
		return nil

	case unlockerServiceName:
		switch state {
		case lnrpc.WalletState_NON_EXISTING, lnrpc.WalletState_LOCKED:
			return nil
		case lnrpc.WalletState_WAITING_TO_START:
			return status.Error(codes.Unavailable, msgWaitingToStart)
		default:
			return status.Error(codes.Unavailable, msgWalletUnlocked)
		}
	}

	switch state {
	case lnrpc.WalletState_RPC_ACTIVE, lnrpc.WalletState_SERVER_ACTIVE:
	case lnrpc.WalletState_WAITING_TO_START:
		return status.Error(codes.Unavailable, msgWaitingToStart)
	case lnrpc.WalletState_NON_EXISTING:
		return status.Error(codes.Unavailable, msgNoWallet)
	case lnrpc.WalletState_LOCKED:
		return status.Error(codes.Unavailable, msgWalletLocked)
	default:
		return status.Error(codes.Unavailable, msgRPCStarting)
	}

	if s.cfg.NoMacaroons {
		return nil
	}
	required, ok := s.perms[fullMethod]
	if !ok {
		// A registered method without a permission entry is a bug here;
		// refuse rather than let it through unchecked.
		return status.Errorf(codes.PermissionDenied, "no permissions defined for %s", fullMethod)
	}

	md, _ := metadata.FromIncomingContext(ctx)
	values := md.Get(MacaroonMetadataKey)
	if len(values) != 1 {
		return status.Errorf(codes.Unauthenticated,
			"expected 1 macaroon, got %d (send the hex macaroon in metadata %q)",
			len(values), MacaroonMetadataKey)
	}
	raw, err := hex.DecodeString(strings.TrimSpace(values[0]))
	if err != nil {
		return status.Errorf(codes.Unauthenticated, "macaroon is not hex: %v", err)
	}

	peerIP := s.clientIP(ctx, md)

	err = s.macSvc.Verify(raw, fullMethod, required, peerIP)
	switch code := errorCode(err); {
	case err == nil:
		return nil
	case errors.Is(err, macaroons.ErrStoreLocked):
		return status.Error(code, msgWalletLocked)
	case code == codes.Unknown:
		// The store failed, not the caller.
		return status.Error(codes.Internal, err.Error())
	default:
		return status.Error(code, err.Error())
	}
}

// Metadata the REST gateway adds to each forwarded call: the HTTP client's
// address, vouched for by a per-process secret so that no one else can
// claim an address. Clients cannot set these keys through the gateway (only
// the macaroon header is forwarded).
const (
	gatewayTokenKey  = "xlnd-gateway-token"
	gatewayClientKey = "xlnd-gateway-client"
)

// clientIP is the address an ipaddr caveat is checked against: the gRPC
// peer, or for a call from our own REST gateway, the HTTP client.
func (s *Server) clientIP(ctx context.Context, md metadata.MD) net.IP {
	addr := ""
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		addr = p.Addr.String()
	}
	tok, client := md.Get(gatewayTokenKey), md.Get(gatewayClientKey)
	if len(tok) == 1 && len(client) == 1 &&
		subtle.ConstantTimeCompare([]byte(tok[0]), []byte(s.gatewayToken)) == 1 {
		addr = client[0]
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil
	}
	return net.ParseIP(host)
}
