package rpc

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/textproto"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/chainrpc"
	"lnd.xprv/rpc/lnrpc/invoicesrpc"
	"lnd.xprv/rpc/lnrpc/routerrpc"
	"lnd.xprv/rpc/lnrpc/verrpc"
	"lnd.xprv/rpc/lnrpc/walletrpc"
)

// RESTMarshaler is the JSON codec of the REST gateway, lnd's settings:
// proto (snake_case) field names, zero values emitted, 64-bit integers as
// strings, enums as names, bytes as base64. Input accepts either name
// style, numbers or strings for integers, and ignores unknown fields.
func RESTMarshaler() runtime.Marshaler {
	return restJSON{&runtime.JSONPb{
		MarshalOptions: protojson.MarshalOptions{
			UseProtoNames:   true,
			EmitUnpopulated: true,
		},
		UnmarshalOptions: protojson.UnmarshalOptions{
			DiscardUnknown: true,
		},
	}}
}

// restJSON is the gateway's JSONPb with a direct path for the chunks of a
// server stream. The gateway hands each streamed message over as
// {"result": msg} in a map, which JSONPb marshals by reflection and
// encoding/json, for every payment update a client follows. The same
// bytes are written here: the message's JSON, compacted as encoding/json
// compacts it (protojson varies its spacing), inside the same object.
type restJSON struct {
	*runtime.JSONPb
}

// streamResultPrefix opens a stream chunk.
const streamResultPrefix = `{"result":`

// Marshal implements runtime.Marshaler.
func (m restJSON) Marshal(v any) ([]byte, error) {
	if chunk, ok := v.(map[string]any); ok && len(chunk) == 1 {
		if msg, ok := chunk["result"].(proto.Message); ok {
			b, err := m.JSONPb.Marshal(msg)
			if err != nil {
				return nil, err
			}
			var out bytes.Buffer
			out.Grow(len(streamResultPrefix) + len(b) + 1)
			out.WriteString(streamResultPrefix)
			if err := json.Compact(&out, b); err != nil {
				return nil, err
			}
			out.WriteByte('}')
			return out.Bytes(), nil
		}
	}
	return m.JSONPb.Marshal(v)
}

// restHeaderMatcher forwards the macaroon header (Grpc-Metadata-macaroon,
// any case) as gRPC metadata "macaroon", and the standard HTTP headers as
// the gateway does by default. Other Grpc-Metadata- headers are dropped:
// nothing else a client could set is trusted downstream.
func restHeaderMatcher(key string) (string, bool) {
	if textproto.CanonicalMIMEHeaderKey(key) == "Grpc-Metadata-Macaroon" {
		return MacaroonMetadataKey, true
	}
	return runtime.DefaultHeaderMatcher(key)
}

// gatewayBuffer is the buffer of each direction of the gateway's
// in-process connection to the gRPC server: a writer blocks while it is
// full, so it bounds memory, not message sizes; the node keeps it resident
// once traffic has gone round it.
const gatewayBuffer = 256 << 10

// startREST starts the gateway listeners, forwarding to the gRPC server
// over an in-process connection: the same TLS and HTTP/2 as a client's,
// verified against the name a loopback dial to the first gRPC listener
// would use, without a socket, so that each call costs no system calls
// between the two and no loopback TCP.
func (s *Server) startREST(tlsCfg *tls.Config) error {
	host, _, err := net.SplitHostPort(loopbackAddr(s.grpcLns[0].Addr()))
	if err != nil {
		return fmt.Errorf("rpc: rest: %w", err)
	}
	creds, err := loopbackTLS(s.cfg.TLSCertPath, host)
	if err != nil {
		return fmt.Errorf("rpc: rest: %w", err)
	}
	ln := bufconn.Listen(gatewayBuffer)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.grpcServer.Serve(ln); err != nil {
			s.log.Error("gRPC server stopped", "addr", "in-process gateway", "err", err)
		}
	}()
	conn, err := grpc.NewClient("passthrough:///xlnd-rest-gateway",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			return ln.DialContext(ctx)
		}),
		grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(50<<20)),
	)
	if err != nil {
		ln.Close()
		return fmt.Errorf("rpc: rest: in-process gRPC client: %w", err)
	}
	s.restConn = conn

	// The marshaler is registered for every content type: clients send
	// JSON with whatever Content-Type they like.
	mux := runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, RESTMarshaler()),
		runtime.WithIncomingHeaderMatcher(restHeaderMatcher),
		runtime.WithMetadata(func(_ context.Context, r *http.Request) metadata.MD {
			return metadata.Pairs(gatewayTokenKey, s.gatewayToken, gatewayClientKey, r.RemoteAddr)
		}),
	)
	ctx := context.Background()
	for _, register := range []func(context.Context, *runtime.ServeMux, *grpc.ClientConn) error{
		lnrpc.RegisterLightningHandler,
		lnrpc.RegisterWalletUnlockerHandler,
		lnrpc.RegisterStateHandler,
		walletrpc.RegisterWalletKitHandler,
		chainrpc.RegisterChainNotifierHandler,
		verrpc.RegisterVersionerHandler,
		invoicesrpc.RegisterInvoicesHandler,
		routerrpc.RegisterRouterHandler,
	} {
		if err := register(ctx, mux, conn); err != nil {
			return err
		}
	}

	for _, addr := range s.cfg.RESTListen {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("rpc: rest listen %s: %w", addr, err)
		}
		s.restLns = append(s.restLns, ln)
		srv := &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          nil,
		}
		s.restSrvs = append(s.restSrvs, srv)
		tlsLn := tls.NewListener(ln, tlsCfg)
		s.log.Info("REST listening", "addr", ln.Addr())
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := srv.Serve(tlsLn); err != nil && err != http.ErrServerClosed {
				s.log.Error("REST server stopped", "addr", ln.Addr(), "err", err)
			}
		}()
	}
	return nil
}
