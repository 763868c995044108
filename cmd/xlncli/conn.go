package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"gopkg.in/macaroon.v2"

	"lnd.xprv/internal/netparams"
	"lnd.xprv/rpc"
	"lnd.xprv/rpc/cert"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/invoicesrpc"
	"lnd.xprv/rpc/lnrpc/routerrpc"
	"lnd.xprv/rpc/macaroons"
)

// paths resolves the TLS cert and macaroon paths as lncli does.
func (a *app) paths() (certPath, macPath string, err error) {
	if a.opts.Chain != "bitcoin" {
		return "", "", fmt.Errorf("unknown chain %q: only bitcoin", a.opts.Chain)
	}
	network, err := netparams.ByName(a.opts.Network)
	if err != nil {
		return "", "", err
	}
	p := rpc.DefaultPaths(a.dataDir(), network.Name)
	certPath, macPath = p.TLSCert, p.AdminMacaroon
	if a.opts.TLSCertPath != "" {
		certPath = expandPath(a.opts.TLSCertPath, a.home)
	}
	if a.opts.MacaroonPath != "" {
		macPath = expandPath(a.opts.MacaroonPath, a.home)
	}
	return certPath, macPath, nil
}

// macaroonCred sends a hex macaroon with every call.
type macaroonCred string

func (m macaroonCred) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{rpc.MacaroonMetadataKey: string(m)}, nil
}

func (macaroonCred) RequireTransportSecurity() bool { return true }

// loadMacaroon reads the macaroon file and adds lncli's caveats: a
// time-before caveat --macaroontimeout seconds ahead and, with
// --macaroonip, an ipaddr caveat.
func (a *app) loadMacaroon(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("unable to read macaroon path (check the network setting!): %w", err)
	}
	mac := &macaroon.Macaroon{}
	if err := mac.UnmarshalBinary(raw); err != nil {
		return "", fmt.Errorf("unable to decode macaroon %s: %w", path, err)
	}
	if a.opts.MacaroonTimeout < 0 {
		return "", fmt.Errorf("--macaroontimeout must be >= 0")
	}
	if a.opts.MacaroonTimeout > 0 {
		deadline := time.Now().Add(time.Duration(a.opts.MacaroonTimeout) * time.Second)
		if err := mac.AddFirstPartyCaveat([]byte(macaroons.TimeBeforeCaveat(deadline))); err != nil {
			return "", err
		}
	}
	if a.opts.MacaroonIP != "" {
		ip := net.ParseIP(a.opts.MacaroonIP)
		if ip == nil {
			return "", fmt.Errorf("--macaroonip %q is not an IP address", a.opts.MacaroonIP)
		}
		if err := mac.AddFirstPartyCaveat([]byte(macaroons.IPAddrCaveat(ip))); err != nil {
			return "", err
		}
	}
	out, err := mac.MarshalBinary()
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(out), nil
}

// dial connects to xlnd; withMacaroon is false for the unlocker and state
// services.
func (a *app) dial(withMacaroon bool) (*grpc.ClientConn, error) {
	certPath, macPath, err := a.paths()
	if err != nil {
		return nil, err
	}
	tlsCfg, err := cert.ClientConfig(certPath)
	if err != nil {
		return nil, err
	}
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(credentials.NewTLS(tlsCfg)),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(50 << 20)),
	}
	if withMacaroon && !a.opts.NoMacaroons {
		mac, err := a.loadMacaroon(macPath)
		if errors.Is(err, os.ErrNotExist) && a.opts.MacaroonPath == "" {
			if hint := a.stateHint(opts); hint != nil {
				return nil, hint
			}
		}
		if err != nil {
			return nil, err
		}
		opts = append(opts, grpc.WithPerRPCCredentials(macaroonCred(mac)))
	}
	return grpc.NewClient(a.opts.RPCServer, opts...)
}

// lightning runs fn with a Lightning client.
func (a *app) lightning(fn func(lnrpc.LightningClient) error) error {
	conn, err := a.dial(true)
	if err != nil {
		return err
	}
	defer conn.Close()
	return fn(lnrpc.NewLightningClient(conn))
}

// invoices runs fn with an Invoices sub-server client.
func (a *app) invoices(fn func(invoicesrpc.InvoicesClient) error) error {
	conn, err := a.dial(true)
	if err != nil {
		return err
	}
	defer conn.Close()
	return fn(invoicesrpc.NewInvoicesClient(conn))
}

// router runs fn with a Router sub-server client.
func (a *app) router(fn func(routerrpc.RouterClient) error) error {
	conn, err := a.dial(true)
	if err != nil {
		return err
	}
	defer conn.Close()
	return fn(routerrpc.NewRouterClient(conn))
}

// unlocker runs fn with a WalletUnlocker client (no macaroon).
func (a *app) unlocker(fn func(lnrpc.WalletUnlockerClient) error) error {
	conn, err := a.dial(false)
	if err != nil {
		return err
	}
	defer conn.Close()
	return fn(lnrpc.NewWalletUnlockerClient(conn))
}

// stateHint explains a missing default macaroon from the daemon's state:
// no wallet yet. It returns nil when the daemon cannot be asked or the
// state explains nothing, leaving the network hint of loadMacaroon.
func (a *app) stateHint(opts []grpc.DialOption) error {
	conn, err := grpc.NewClient(a.opts.RPCServer, opts...)
	if err != nil {
		return nil
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(a.ctx, 5*time.Second)
	defer cancel()
	st, err := lnrpc.NewStateClient(conn).GetState(ctx, &lnrpc.GetStateRequest{})
	if err != nil {
		return nil
	}
	// Only a missing wallet explains a missing macaroon for sure: once a
	// wallet exists its macaroons are on disk, so a missing one means
	// another network's path.
	if st.State == lnrpc.WalletState_NON_EXISTING {
		return errors.New("the wallet does not exist yet: create it with `xlncli create` " +
			"(xlnd waits for it; the macaroons are written then)")
	}
	return nil
}
