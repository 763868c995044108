package rpc

import (
	"context"
	"io"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// inprocConn is the REST gateway's connection to the services: a
// grpc.ClientConnInterface that calls the registered handlers directly,
// through the interceptors the gRPC server runs, without marshaling,
// framing or TLS. What the gateway can observe is what it observed through
// a gRPC connection: the same status codes and messages, the same header
// metadata, io.EOF at the end of a stream, the message size limits.
//
// Messages cross by deep copy (proto.Clone/proto.Merge), as a gRPC
// transport serialises them: a service may keep or change a message after
// Send and the gateway may reuse one after SendMsg.
type inprocConn struct {
	methods map[string]*inprocMethod

	unaryInt  grpc.UnaryServerInterceptor
	streamInt grpc.StreamServerInterceptor

	// maxRecv bounds a request as the gRPC server's MaxRecvMsgSize does,
	// and an answer as the old gateway client's MaxCallRecvMsgSize did.
	maxRecv int

	peer *peer.Peer

	// quit ends every call at stop; closed refuses new ones and wg counts
	// the running handlers so that stop can wait for them.
	quit     context.Context
	quitFn   context.CancelFunc
	mu       sync.RWMutex
	closed   bool
	wg       sync.WaitGroup
	streamBf int
}

// inprocMethod is one registered method.
type inprocMethod struct {
	impl   any
	unary  *grpc.MethodDesc
	stream *grpc.StreamDesc
	name   string
}

// inprocAddr is the address the services see as the gateway's peer. As a
// bufconn address did, it has no host, so an ipaddr caveat is checked only
// against the client address the gateway vouches for.
type inprocAddr struct{}

func (inprocAddr) Network() string { return "inproc" }
func (inprocAddr) String() string  { return "inproc" }

// inprocStreamBuffer is how many answers a stream holds for a reader that
// is slower than the service, in place of the transport's flow-control
// window: a service's Send blocks beyond it.
const inprocStreamBuffer = 64

// newInprocConn returns a connection that runs handlers through the given
// interceptor chains (nil for none).
func newInprocConn(unary []grpc.UnaryServerInterceptor, stream []grpc.StreamServerInterceptor,
	maxRecv int) *inprocConn {

	quit, quitFn := context.WithCancel(context.Background())
	return &inprocConn{
		methods:   make(map[string]*inprocMethod),
		unaryInt:  chainUnary(unary),
		streamInt: chainStream(stream),
		maxRecv:   maxRecv,
		peer:      &peer.Peer{Addr: inprocAddr{}, LocalAddr: inprocAddr{}},
		quit:      quit,
		quitFn:    quitFn,
		streamBf:  inprocStreamBuffer,
	}
}

// RegisterService implements grpc.ServiceRegistrar: it keeps the
// descriptor's handlers, so that a service is registered on the gRPC
// server and here by the same generated Register function.
func (c *inprocConn) RegisterService(sd *grpc.ServiceDesc, impl any) {
	for i := range sd.Methods {
		md := &sd.Methods[i]
		name := "/" + sd.ServiceName + "/" + md.MethodName
		c.methods[name] = &inprocMethod{impl: impl, unary: md, name: name}
	}
	for i := range sd.Streams {
		d := &sd.Streams[i]
		name := "/" + sd.ServiceName + "/" + d.StreamName
		c.methods[name] = &inprocMethod{impl: impl, stream: d, name: name}
	}
}

// registrars fans a generated Register call out to several registrars.
type registrars []grpc.ServiceRegistrar

func (rs registrars) RegisterService(sd *grpc.ServiceDesc, impl any) {
	for _, r := range rs {
		r.RegisterService(sd, impl)
	}
}

// stop ends every running call, as the gRPC server's Stop does, and waits
// up to wait for the handlers to return (false if some have not). Later
// calls fail as on a closed connection.
func (c *inprocConn) stop(wait time.Duration) bool {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.quitFn()
	done := make(chan struct{})
	go func() {
		c.wg.Wait()
		close(done)
	}()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// begin counts a handler in, unless the connection is stopped.
func (c *inprocConn) begin() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return false
	}
	c.wg.Add(1)
	return true
}

var errInprocClosed = status.Error(codes.Canceled, "grpc: the client connection is closing")

// lookup finds a method as the gRPC server does, with its error texts.
func (c *inprocConn) lookup(method string) (*inprocMethod, error) {
	if m, ok := c.methods[method]; ok {
		return m, nil
	}
	svc, name, _ := strings.Cut(strings.TrimPrefix(method, "/"), "/")
	for k := range c.methods {
		if strings.HasPrefix(k, "/"+svc+"/") {
			return nil, status.Errorf(codes.Unimplemented, "unknown method %v for service %v", name, svc)
		}
	}
	return nil, status.Errorf(codes.Unimplemented, "unknown service %v", svc)
}

// serverContext is the context a handler runs in: the caller's deadline
// and cancellation, ended also by stop and when the handler returns; the
// caller's outgoing metadata as incoming metadata (and no outgoing
// metadata, so that nothing the gateway sent leaks into a call the service
// makes); the peer; and the transport stream grpc.SetHeader and friends
// use.
func (c *inprocConn) serverContext(ctx context.Context, ts grpc.ServerTransportStream) (context.Context, context.CancelFunc) {
	md, _ := metadata.FromOutgoingContext(ctx)
	ctx, cancel := context.WithCancel(ctx)
	unhook := context.AfterFunc(c.quit, cancel)
	ctx = metadata.NewOutgoingContext(ctx, nil)
	ctx = metadata.NewIncomingContext(ctx, md)
	ctx = peer.NewContext(ctx, c.peer)
	ctx = grpc.NewContextWithServerTransportStream(ctx, ts)
	return ctx, func() {
		unhook()
		cancel()
	}
}

// appStatus turns a handler's error into the status a gRPC client
// receives (the server's conversion: non-status errors are Unknown, context
// errors keep their codes).
func appStatus(err error) error {
	if _, ok := status.FromError(err); ok {
		return err
	}
	return status.FromContextError(err).Err()
}

// copyInto deep-copies src into dst, which the caller allocated, checking
// the size limit as a gRPC receiver would. A nil src is refused as the
// gRPC codec refuses to marshal it.
func copyInto(dst, src any, limit int) error {
	d, ok := dst.(proto.Message)
	if !ok {
		return status.Errorf(codes.Internal, "grpc: error while unmarshaling: message is %T, want proto.Message", dst)
	}
	s, ok := src.(proto.Message)
	if !ok || s == nil {
		return status.Errorf(codes.Internal, "grpc: error while marshaling: proto: failed to marshal, message is %T, want proto.Message", src)
	}
	if n := proto.Size(s); n > limit {
		return status.Errorf(codes.ResourceExhausted, "grpc: received message larger than max (%d vs. %d)", n, limit)
	}
	proto.Reset(d)
	if s.ProtoReflect().IsValid() {
		proto.Merge(d, s)
	}
	return nil
}

// callOpts reads the call options the gateway passes: where to store the
// header and trailer metadata.
func callOpts(opts []grpc.CallOption) (header, trailer *metadata.MD) {
	for _, o := range opts {
		switch o := o.(type) {
		case grpc.HeaderCallOption:
			header = o.HeaderAddr
		case grpc.TrailerCallOption:
			trailer = o.TrailerAddr
		}
	}
	return header, trailer
}

// Invoke implements grpc.ClientConnInterface for unary methods. The
// handler runs on its own goroutine, as on the gRPC server: the caller
// returns when its context ends even if the handler is still busy, and a
// handler's panic ends the daemon as it does under gRPC rather than being
// taken for a failed HTTP request.
func (c *inprocConn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	m, err := c.lookup(method)
	if err != nil {
		return err
	}
	if m.unary == nil {
		return status.Errorf(codes.Internal, "grpc: %s is a streaming method", method)
	}
	if err := ctx.Err(); err != nil {
		return status.FromContextError(err).Err()
	}
	if !c.begin() {
		return errInprocClosed
	}
	ts := &inprocTransport{method: method}
	sctx, cancel := c.serverContext(ctx, ts)
	type result struct {
		resp any
		err  error
	}
	done := make(chan result, 1)
	// decoded is closed once the request is copied: the caller may reuse
	// args when Invoke returns, even on cancellation.
	decoded := make(chan struct{})
	go func() {
		defer c.wg.Done()
		defer cancel()
		var once sync.Once
		markDecoded := func() { once.Do(func() { close(decoded) }) }
		defer markDecoded()
		dec := func(in any) error {
			defer markDecoded()
			return copyInto(in, args, c.maxRecv)
		}
		resp, err := m.unary.Handler(m.impl, sctx, dec, c.unaryInt)
		done <- result{resp, err}
	}()

	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		<-decoded
		return status.FromContextError(ctx.Err()).Err()
	}
	hdrAddr, trlAddr := callOpts(opts)
	if r.err != nil {
		// A failed call ends trailers-only: no header metadata, and the
		// content type among the trailers.
		if trlAddr != nil {
			*trlAddr = ts.trailerMD(true)
		}
		return appStatus(r.err)
	}
	if trlAddr != nil {
		*trlAddr = ts.trailerMD(false)
	}
	if err := copyInto(reply, r.resp, c.maxRecv); err != nil {
		return err
	}
	if hdrAddr != nil {
		*hdrAddr = ts.headerMD()
	}
	return nil
}

// NewStream implements grpc.ClientConnInterface: it starts the handler,
// which runs until it returns, the caller's context ends, or stop.
func (c *inprocConn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string,
	opts ...grpc.CallOption) (grpc.ClientStream, error) {

	m, err := c.lookup(method)
	if err != nil {
		return nil, err
	}
	if m.stream == nil {
		return nil, status.Errorf(codes.Internal, "grpc: %s is a unary method", method)
	}
	if err := ctx.Err(); err != nil {
		return nil, status.FromContextError(err).Err()
	}
	if !c.begin() {
		return nil, errInprocClosed
	}
	st := &inprocStream{
		conn:      c,
		desc:      m.stream,
		clientCtx: ctx,
		reqs:      make(chan proto.Message, 1),
		reqsDone:  make(chan struct{}),
		resps:     make(chan proto.Message, c.streamBf),
		hdrReady:  make(chan struct{}),
		done:      make(chan struct{}),
	}
	st.ts.method = method
	st.srvCtx, st.cancel = c.serverContext(ctx, &st.ts)
	if rs := streamOf(ctx); rs != nil {
		rs.st.Store(st)
	}
	hdrAddr, trlAddr := callOpts(opts)

	go func() {
		defer c.wg.Done()
		ss := (*inprocServerStream)(st)
		var err error
		if c.streamInt == nil {
			err = m.stream.Handler(m.impl, ss)
		} else {
			info := &grpc.StreamServerInfo{
				FullMethod:     method,
				IsClientStream: m.stream.ClientStreams,
				IsServerStream: m.stream.ServerStreams,
			}
			err = c.streamInt(m.impl, ss, info, m.stream.Handler)
		}
		if err != nil {
			st.status = appStatus(err)
		}
		st.cancel()
		// Headers not sent by now never will be: the stream ends
		// trailers-only.
		st.ts.mu.Lock()
		st.ts.ended = true
		st.ts.mu.Unlock()
		st.hdrOnce.Do(func() { close(st.hdrReady) })
		close(st.done)
	}()

	cs := (*inprocClientStream)(st)
	if hdrAddr != nil || trlAddr != nil {
		// The gateway asks Header itself; these options are honoured
		// once the stream has ended, as gRPC does.
		go func() {
			<-st.done
			if hdrAddr != nil {
				*hdrAddr, _ = cs.Header()
			}
			if trlAddr != nil {
				*trlAddr = cs.Trailer()
			}
		}()
	}
	return cs, nil
}

// inprocTransport holds a call's header and trailer metadata: the
// grpc.ServerTransportStream of a handler's context.
type inprocTransport struct {
	method string

	mu      sync.Mutex
	header  metadata.MD
	sent    bool
	ended   bool
	trailer metadata.MD
}

func (t *inprocTransport) Method() string { return t.method }

func (t *inprocTransport) SetHeader(md metadata.MD) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.sent || t.ended {
		return status.Error(codes.Internal, "transport: the stream is done or WriteHeader was already called")
	}
	t.header = metadata.Join(t.header, md)
	return nil
}

func (t *inprocTransport) SendHeader(md metadata.MD) error {
	if err := t.SetHeader(md); err != nil {
		return err
	}
	t.mu.Lock()
	t.sent = true
	t.mu.Unlock()
	return nil
}

func (t *inprocTransport) SetTrailer(md metadata.MD) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.trailer = metadata.Join(t.trailer, md)
	return nil
}

// grpcContentType is the header every gRPC answer carries; the gateway
// turned it into Grpc-Metadata-Content-Type, so it is kept.
const grpcContentType = "application/grpc"

// headerMD is the header metadata a client receives.
func (t *inprocTransport) headerMD() metadata.MD {
	t.mu.Lock()
	defer t.mu.Unlock()
	md := metadata.MD{"content-type": []string{grpcContentType}}
	for k, v := range t.header {
		md[k] = append(md[k], v...)
	}
	return md
}

// trailerMD is the trailer metadata a client receives; a call that ended
// without headers (trailers-only) has the content type among them.
func (t *inprocTransport) trailerMD(trailersOnly bool) metadata.MD {
	t.mu.Lock()
	defer t.mu.Unlock()
	md := t.trailer.Copy()
	if trailersOnly {
		md.Set("content-type", grpcContentType)
	}
	return md
}

// inprocStream is a streaming call; inprocServerStream and
// inprocClientStream are its two ends.
type inprocStream struct {
	conn      *inprocConn
	desc      *grpc.StreamDesc
	clientCtx context.Context
	srvCtx    context.Context
	cancel    context.CancelFunc
	ts        inprocTransport

	// reqs carries the client's messages; reqsDone is closed by
	// CloseSend.
	reqs      chan proto.Message
	reqsDone  chan struct{}
	closeOnce sync.Once
	sendMu    sync.Mutex

	// resps carries the service's messages.
	resps chan proto.Message

	// hdrReady is closed when the headers are sent: on the first
	// message, SendHeader, or the end of the call.
	hdrOnce  sync.Once
	hdrReady chan struct{}

	// done is closed when the handler has returned; status is its
	// result (nil for OK), set before.
	done   chan struct{}
	status error
}

// inprocServerStream is the handler's end: a grpc.ServerStream.
type inprocServerStream inprocStream

func (s *inprocServerStream) Context() context.Context { return s.srvCtx }

func (s *inprocServerStream) SetHeader(md metadata.MD) error { return s.ts.SetHeader(md) }

func (s *inprocServerStream) SendHeader(md metadata.MD) error {
	if err := s.ts.SendHeader(md); err != nil {
		return err
	}
	s.hdrOnce.Do(func() { close(s.hdrReady) })
	return nil
}

func (s *inprocServerStream) SetTrailer(md metadata.MD) { _ = s.ts.SetTrailer(md) }

// SendMsg queues a copy of m for the client, waiting while the client is
// inprocStreamBuffer answers behind.
func (s *inprocServerStream) SendMsg(m any) error {
	msg, ok := m.(proto.Message)
	if !ok || msg == nil {
		return status.Errorf(codes.Internal, "grpc: error while marshaling: proto: failed to marshal, message is %T, want proto.Message", m)
	}
	if err := s.srvCtx.Err(); err != nil {
		return status.FromContextError(err).Err()
	}
	cp := proto.Clone(msg)
	s.ts.mu.Lock()
	s.ts.sent = true
	s.ts.mu.Unlock()
	s.hdrOnce.Do(func() { close(s.hdrReady) })
	select {
	case s.resps <- cp:
		return nil
	case <-s.srvCtx.Done():
		return status.FromContextError(s.srvCtx.Err()).Err()
	}
}

// RecvMsg takes the client's next message; io.EOF after CloseSend.
func (s *inprocServerStream) RecvMsg(m any) error {
	select {
	case req := <-s.reqs:
		return copyInto(m, req, s.conn.maxRecv)
	default:
	}
	select {
	case req := <-s.reqs:
		return copyInto(m, req, s.conn.maxRecv)
	case <-s.reqsDone:
		// A message sent before CloseSend is still delivered.
		select {
		case req := <-s.reqs:
			return copyInto(m, req, s.conn.maxRecv)
		default:
			return io.EOF
		}
	case <-s.srvCtx.Done():
		return status.FromContextError(s.srvCtx.Err()).Err()
	}
}

// inprocClientStream is the gateway's end: a grpc.ClientStream.
type inprocClientStream inprocStream

func (s *inprocClientStream) Context() context.Context { return s.clientCtx }

// Header waits for the headers; nil if the call ended without sending any
// (its status then comes from RecvMsg), as a gRPC client stream does.
func (s *inprocClientStream) Header() (metadata.MD, error) {
	select {
	case <-s.hdrReady:
	case <-s.clientCtx.Done():
		return nil, nil
	}
	s.ts.mu.Lock()
	sent := s.ts.sent
	s.ts.mu.Unlock()
	if !sent {
		return nil, nil
	}
	return s.ts.headerMD(), nil
}

// Trailer is the trailer metadata once the call has ended.
func (s *inprocClientStream) Trailer() metadata.MD {
	select {
	case <-s.done:
		s.ts.mu.Lock()
		sent := s.ts.sent
		s.ts.mu.Unlock()
		return s.ts.trailerMD(!sent)
	default:
		return nil
	}
}

// CloseSend ends the client's messages.
func (s *inprocClientStream) CloseSend() error {
	s.closeOnce.Do(func() { close(s.reqsDone) })
	return nil
}

// SendMsg hands a copy of m to the handler. For a method without client
// streaming it is the one request.
func (s *inprocClientStream) SendMsg(m any) error {
	msg, ok := m.(proto.Message)
	if !ok || msg == nil {
		return status.Errorf(codes.Internal, "grpc: error while marshaling: proto: failed to marshal, message is %T, want proto.Message", m)
	}
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	select {
	case <-s.reqsDone:
		return status.Error(codes.Internal, "SendMsg called after CloseSend")
	default:
	}
	cp := proto.Clone(msg)
	select {
	case s.reqs <- cp:
		return nil
	case <-s.done:
		// As on gRPC: the status comes from RecvMsg.
		return io.EOF
	case <-s.clientCtx.Done():
		return status.FromContextError(s.clientCtx.Err()).Err()
	}
}

// RecvMsg takes the service's next message; at the end of the call io.EOF
// or the call's status, after every message sent before it.
func (s *inprocClientStream) RecvMsg(m any) error {
	select {
	case msg := <-s.resps:
		return s.deliver(m, msg)
	case <-s.done:
		select {
		case msg := <-s.resps:
			return s.deliver(m, msg)
		default:
		}
		if s.status != nil {
			return s.status
		}
		return io.EOF
	case <-s.clientCtx.Done():
		return status.FromContextError(s.clientCtx.Err()).Err()
	}
}

func (s *inprocClientStream) deliver(dst any, msg proto.Message) error {
	if err := copyInto(dst, msg, s.conn.maxRecv); err != nil {
		// The gRPC client ends the call on a message it cannot take.
		s.cancel()
		return err
	}
	return nil
}

// chainUnary composes interceptors as grpc.ChainUnaryInterceptor does:
// the first is outermost.
func chainUnary(ints []grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	switch len(ints) {
	case 0:
		return nil
	case 1:
		return ints[0]
	}
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		return ints[0](ctx, req, info, chainUnaryRest(ints[1:], info, handler))
	}
}

func chainUnaryRest(ints []grpc.UnaryServerInterceptor, info *grpc.UnaryServerInfo, final grpc.UnaryHandler) grpc.UnaryHandler {
	if len(ints) == 0 {
		return final
	}
	return func(ctx context.Context, req any) (any, error) {
		return ints[0](ctx, req, info, chainUnaryRest(ints[1:], info, final))
	}
}

// chainStream composes stream interceptors, the first outermost.
func chainStream(ints []grpc.StreamServerInterceptor) grpc.StreamServerInterceptor {
	switch len(ints) {
	case 0:
		return nil
	case 1:
		return ints[0]
	}
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return ints[0](srv, ss, info, chainStreamRest(ints[1:], info, handler))
	}
}

func chainStreamRest(ints []grpc.StreamServerInterceptor, info *grpc.StreamServerInfo, final grpc.StreamHandler) grpc.StreamHandler {
	if len(ints) == 0 {
		return final
	}
	return func(srv any, ss grpc.ServerStream) error {
		return ints[0](srv, ss, info, chainStreamRest(ints[1:], info, final))
	}
}

// Compile-time checks.
var (
	_ grpc.ClientConnInterface   = (*inprocConn)(nil)
	_ grpc.ServiceRegistrar      = (*inprocConn)(nil)
	_ grpc.ServerStream          = (*inprocServerStream)(nil)
	_ grpc.ClientStream          = (*inprocClientStream)(nil)
	_ grpc.ServerTransportStream = (*inprocTransport)(nil)
)
