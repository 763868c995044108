package rpc

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/textproto"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
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
	return restJSON{chunk: &chunkJSON{}, JSONPb: &runtime.JSONPb{
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
// bytes are written here: the message's JSON as encoding/json rewrites a
// json.RawMessage (compacted, since protojson varies its spacing, and
// HTML-escaped), inside the same object.
type restJSON struct {
	*runtime.JSONPb
	chunk *chunkJSON
}

// chunkStart is the first buffer of a stream chunk: a payment update
// fits.
const chunkStart = 2048

// streamResultPrefix opens a stream chunk.
const streamResultPrefix = `{"result":`

// Marshal implements runtime.Marshaler.
func (m restJSON) Marshal(v any) ([]byte, error) {
	if chunk, ok := v.(map[string]any); ok && len(chunk) == 1 {
		if msg, ok := chunk["result"].(proto.Message); ok {
			out := append(make([]byte, 0, chunkStart), streamResultPrefix...)
			if fast, err := m.chunk.append(out, msg.ProtoReflect()); err == nil {
				return append(fast, '}'), nil
			}
			// A type without a plan, or an error protojson reports
			// in its own words.
			b, err := m.MarshalOptions.Marshal(msg)
			if err != nil {
				return nil, err
			}
			out = appendCompactJSON(out, b)
			return append(out, '}'), nil
		}
	}
	return m.JSONPb.Marshal(v)
}

// appendCompactJSON appends src, valid JSON (protojson's), to dst as
// encoding/json writes a json.RawMessage with HTML escaping on: spaces
// outside strings dropped, and <, >, &, U+2028 and U+2029 escaped. It
// is json.Compact's output plus that escaping, without the validating
// scanner, which cost most of the time of a chunk.
func appendCompactJSON(dst, src []byte) []byte {
	const hex = "0123456789abcdef"
	start, inString := 0, false
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '<' || c == '>' || c == '&':
			// Only inside strings in valid JSON.
			dst = append(dst, src[start:i]...)
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			start = i + 1
		case c == 0xE2 && i+2 < len(src) && src[i+1] == 0x80 && src[i+2]&^1 == 0xA8:
			dst = append(dst, src[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[src[i+2]&0xF])
			i += 2
			start = i + 1
		case inString:
			switch c {
			case '\\':
				// The escaped byte cannot end the string; the rest of
				// a \uXXXX escape is hex digits.
				i++
			case '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			dst = append(dst, src[start:i]...)
			start = i + 1
		}
	}
	return append(dst, src[start:]...)
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

// startREST starts the gateway listeners. The gateway calls the services
// through the in-process connection, which runs the gRPC server's
// interceptors and handlers without the gRPC transport, so authentication
// and the start-up state checks still happen in one place.
func (s *Server) startREST(tlsCfg *tls.Config) error {
	mux, err := s.gatewayMux(s.inproc)
	if err != nil {
		return err
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

// gatewayMux returns the REST gateway's routes, calling the services
// through conn, behind restHandler.
func (s *Server) gatewayMux(conn grpc.ClientConnInterface) (http.Handler, error) {
	mux, err := s.gatewayRoutes(conn)
	if err != nil {
		return nil, err
	}
	return restHandler(mux), nil
}

// gatewayRoutes returns the gateway's routes, calling the services
// through conn.
func (s *Server) gatewayRoutes(conn grpc.ClientConnInterface) (*runtime.ServeMux, error) {
	// The marshaler is registered for every content type: clients send
	// JSON with whatever Content-Type they like.
	mux := runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, RESTMarshaler()),
		runtime.WithIncomingHeaderMatcher(restHeaderMatcher),
		// The gateway's own matchers, without its fmt.Sprintf per key
		// of every response.
		runtime.WithOutgoingHeaderMatcher(func(key string) (string, bool) {
			return runtime.MetadataHeaderPrefix + key, true
		}),
		runtime.WithOutgoingTrailerMatcher(func(key string) (string, bool) {
			return runtime.MetadataTrailerPrefix + key, true
		}),
		runtime.WithMetadata(func(_ context.Context, r *http.Request) metadata.MD {
			return metadata.Pairs(gatewayTokenKey, s.gatewayToken, gatewayClientKey, r.RemoteAddr)
		}),
	)
	if err := registerGateway(context.Background(), mux, conn); err != nil {
		return nil, fmt.Errorf("rpc: rest: %w", err)
	}
	return mux, nil
}

// registerGateway registers every service's REST routes on mux, calling
// the services through conn.
func registerGateway(ctx context.Context, mux *runtime.ServeMux, conn grpc.ClientConnInterface) error {
	for _, err := range []error{
		lnrpc.RegisterLightningHandlerClient(ctx, mux, lnrpc.NewLightningClient(conn)),
		lnrpc.RegisterWalletUnlockerHandlerClient(ctx, mux, lnrpc.NewWalletUnlockerClient(conn)),
		lnrpc.RegisterStateHandlerClient(ctx, mux, lnrpc.NewStateClient(conn)),
		walletrpc.RegisterWalletKitHandlerClient(ctx, mux, walletrpc.NewWalletKitClient(conn)),
		chainrpc.RegisterChainNotifierHandlerClient(ctx, mux, chainrpc.NewChainNotifierClient(conn)),
		verrpc.RegisterVersionerHandlerClient(ctx, mux, verrpc.NewVersionerClient(conn)),
		invoicesrpc.RegisterInvoicesHandlerClient(ctx, mux, invoicesrpc.NewInvoicesClient(conn)),
		routerrpc.RegisterRouterHandlerClient(ctx, mux, routerrpc.NewRouterClient(conn)),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}
