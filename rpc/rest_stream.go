package rpc

import (
	"context"
	"net/http"
	"sync/atomic"
)

// restStream links a REST request to the in-process stream the gateway
// forwards for it, so that the request's response writer can see what
// the stream still holds.
//
// The gateway flushes after every message of a server stream, and net/http
// writes the chunked body's terminator when the handler returns: each
// message, and the terminator, would go out as a TLS record and a system
// call of its own. A flush is skipped when the next write carries it:
// another message is already queued (a payment's first two states come
// together), or the service has returned and nothing is queued, so the
// gateway's next step is to return and net/http writes the message with
// the terminator. A message never waits for one not yet sent.
type restStream struct {
	st atomic.Pointer[inprocStream]
}

// restStreamKey is the request context's key of its *restStream.
type restStreamKey struct{}

// withStream returns ctx carrying rs.
func withStream(ctx context.Context, rs *restStream) context.Context {
	return context.WithValue(ctx, restStreamKey{}, rs)
}

// streamOf is the request's restStream, nil outside the REST handler.
func streamOf(ctx context.Context) *restStream {
	rs, _ := ctx.Value(restStreamKey{}).(*restStream)
	return rs
}

// skipFlush reports whether a flush now would only split what the next
// write sends anyway: another message is already queued (the gateway
// takes it at once, writes it and flushes then), or the handler has
// returned with every message taken (net/http writes what is buffered
// with the terminator when the gateway returns). No message waits for
// one not yet sent.
func (rs *restStream) skipFlush() bool {
	st := rs.st.Load()
	if st == nil {
		return false
	}
	if len(st.resps) > 0 {
		return true
	}
	select {
	case <-st.done:
		// Done with nothing queued; a message queued between the two
		// reads is still taken before the gateway returns.
		return true
	default:
		return false
	}
}

// restHandler serves the gateway's routes with each request's restStream
// in its context and a response writer that consults it.
func restHandler(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rs := &restStream{}
		r = r.WithContext(withStream(r.Context(), rs))
		mux.ServeHTTP(&restWriter{ResponseWriter: w, rs: rs}, r)
	})
}

// restWriter is the gateway's http.ResponseWriter: the server's, with a
// flush that is skipped at the end of an in-process stream.
type restWriter struct {
	http.ResponseWriter
	rs *restStream
}

// FlushError flushes what the handler wrote, unless skipFlush says the
// next write carries it.
func (w *restWriter) FlushError() error {
	if w.rs.skipFlush() {
		return nil
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap gives http.ResponseController the server's writer for the
// other controls (deadlines, hijacking).
func (w *restWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
