package rpc

import (
	"context"
	"net/http"
	"sync/atomic"
)

// restStream links a REST request to the in-process stream the gateway
// forwards for it, so that the request's response writer can see when the
// stream has ended.
//
// The gateway flushes after every message of a server stream, and net/http
// writes the chunked body's terminator when the handler returns: the last
// message and the terminator go out as two TLS records and two system
// calls on every payment a client follows. When the service has already
// returned and nothing is queued, the message just written is the last, the
// gateway's next step is to return, and net/http writes the message and the
// terminator together then. No message waits for another: a flush is
// skipped only when no other message can follow.
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

// ended reports whether the stream's handler has returned with every
// message taken by the gateway.
func (rs *restStream) ended() bool {
	st := rs.st.Load()
	if st == nil {
		return false
	}
	select {
	case <-st.done:
		return len(st.resps) == 0
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

// FlushError flushes what the handler wrote, unless the stream has ended
// (net/http flushes it with the terminator when the handler returns).
func (w *restWriter) FlushError() error {
	if w.rs.ended() {
		return nil
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap gives http.ResponseController the server's writer for the
// other controls (deadlines, hijacking).
func (w *restWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
