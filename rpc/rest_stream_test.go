package rpc

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"lnd.xprv/rpc/lnrpc"
)

// twoStates is a State service whose SubscribeState sends LOCKED, waits
// for next, sends SERVER_ACTIVE and returns; with one, it returns after
// LOCKED.
type twoStates struct {
	lnrpc.UnimplementedStateServer
	next chan struct{}
	one  bool
}

func (p *twoStates) SubscribeState(_ *lnrpc.SubscribeStateRequest, st lnrpc.State_SubscribeStateServer) error {
	if err := st.Send(&lnrpc.SubscribeStateResponse{State: lnrpc.WalletState_LOCKED}); err != nil {
		return err
	}
	if p.one {
		return nil
	}
	select {
	case <-p.next:
	case <-st.Context().Done():
		return st.Context().Err()
	}
	return st.Send(&lnrpc.SubscribeStateResponse{State: lnrpc.WalletState_SERVER_ACTIVE})
}

// countingListener counts the writes on the connections it accepts.
type countingListener struct {
	net.Listener
	writes *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countingConn{Conn: c, writes: l.writes}, nil
}

type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(b)
}

// lateFlush holds the gateway's flush number hold until the service has
// returned: the order the race between the two usually has under load,
// made certain.
type lateFlush struct {
	http.ResponseWriter
	done    <-chan struct{}
	hold    int
	flushes int
}

func (w *lateFlush) FlushError() error {
	w.flushes++
	if w.flushes == w.hold {
		<-w.done
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// streamThrough serves GET /v1/state/subscribe from svc through the
// gateway, with restHandler or without it, holding the gateway's flush
// number hold until the service has returned. It returns the server's
// connection writes so far, and the client's answer.
func streamThrough(t *testing.T, svc *twoStates, withRestHandler bool, hold int) (*atomic.Int64, *http.Response) {
	t.Helper()
	conn := newInprocConn(nil, nil, maxMsgSize)
	lnrpc.RegisterStateServer(conn, svc)
	t.Cleanup(func() { conn.stop(10 * time.Second) })
	s := &Server{gatewayToken: "tok"}
	mux, err := s.gatewayRoutes(conn)
	if err != nil {
		t.Fatal(err)
	}
	// The service's end, once its stream has started.
	ended := make(chan struct{})
	held := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		go func() {
			for {
				if rs := streamOf(r.Context()); rs != nil {
					if st := rs.st.Load(); st != nil {
						<-st.done
						close(ended)
						return
					}
				}
				time.Sleep(time.Millisecond)
			}
		}()
		mux.ServeHTTP(&lateFlush{ResponseWriter: w, done: ended, hold: hold}, r)
	})
	var h http.Handler = restHandler(held)
	if !withRestHandler {
		// The stream is still linked to the request, so that the hold
		// works, but no writer consults it.
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			held.ServeHTTP(w, r.WithContext(withStream(r.Context(), &restStream{})))
		})
	}
	writes := new(atomic.Int64)
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = countingListener{Listener: srv.Listener, writes: writes}
	srv.Start()
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + "/v1/state/subscribe")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return writes, resp
}

// TestRESTStreamLastChunk: a stream's first message reaches the client
// while the service still runs, with the response header in one write;
// its last message and the chunked body's terminator go out in one write
// when the service has returned. Without restHandler the same stream
// takes three writes.
func TestRESTStreamLastChunk(t *testing.T) {
	for _, c := range []struct {
		name        string
		restHandler bool
		wantWrites  int64
	}{{"restHandler", true, 2}, {"gateway alone", false, 3}} {
		t.Run(c.name, func(t *testing.T) {
			svc := &twoStates{next: make(chan struct{})}
			writes, resp := streamThrough(t, svc, c.restHandler, 2)
			rd := bufio.NewReader(resp.Body)
			first, err := rd.ReadString('\n')
			if err != nil || first != `{"result":{"state":"LOCKED"}}`+"\n" {
				t.Fatalf("first line %q, %v", first, err)
			}
			if n := writes.Load(); n != 1 {
				t.Fatalf("%d writes for the header and the first message, want 1", n)
			}
			close(svc.next)
			rest, err := io.ReadAll(rd)
			if err != nil || string(rest) != `{"result":{"state":"SERVER_ACTIVE"}}`+"\n" {
				t.Fatalf("rest of the stream %q, %v", rest, err)
			}
			if len(resp.TransferEncoding) != 1 || resp.TransferEncoding[0] != "chunked" {
				t.Fatalf("transfer encoding %v", resp.TransferEncoding)
			}
			if n := writes.Load(); n != c.wantWrites {
				t.Fatalf("%d writes for the stream, want %d", n, c.wantWrites)
			}
		})
	}
}

// TestRESTStreamOneMessage: a stream whose service has returned by the
// first flush (a tracked payment already final) goes out in one write,
// the same header and chunked body as with the flush.
func TestRESTStreamOneMessage(t *testing.T) {
	var answers [2]httpAnswer
	for i, withRestHandler := range []bool{false, true} {
		writes, resp := streamThrough(t, &twoStates{one: true}, withRestHandler, 1)
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		h := resp.Header.Clone()
		h.Del("Date")
		answers[i] = httpAnswer{Status: resp.StatusCode, Header: h, Trailer: resp.Trailer,
			Chunked: len(resp.TransferEncoding) == 1 && resp.TransferEncoding[0] == "chunked",
			Body:    string(body)}
		want := int64(2)
		if withRestHandler {
			want = 1
		}
		if n := writes.Load(); n != want {
			t.Fatalf("restHandler %v: %d writes, want %d", withRestHandler, n, want)
		}
	}
	if !reflect.DeepEqual(answers[0], answers[1]) || !answers[1].Chunked ||
		answers[1].Body != `{"result":{"state":"LOCKED"}}`+"\n" {
		t.Fatalf("without restHandler %+v\nwith it %+v", answers[0], answers[1])
	}
}

// TestRESTStreamSkipFlush: the flush is skipped while another message is
// queued, and once the handler has returned; not while the handler runs
// with nothing queued.
func TestRESTStreamSkipFlush(t *testing.T) {
	rs := &restStream{}
	if rs.skipFlush() {
		t.Fatal("skipped without a stream")
	}
	st := &inprocStream{done: make(chan struct{}), resps: make(chan proto.Message, 1)}
	rs.st.Store(st)
	if rs.skipFlush() {
		t.Fatal("skipped while the handler runs with nothing queued")
	}
	st.resps <- &lnrpc.SubscribeStateResponse{}
	if !rs.skipFlush() {
		t.Fatal("not skipped with a message queued")
	}
	<-st.resps
	if rs.skipFlush() {
		t.Fatal("skipped after the queued message was taken")
	}
	close(st.done)
	if !rs.skipFlush() {
		t.Fatal("not skipped after the handler returned and its messages were taken")
	}

	// A flush that is not skipped reaches the server's writer.
	rec := httptest.NewRecorder()
	w := &restWriter{ResponseWriter: rec, rs: &restStream{}}
	if err := http.NewResponseController(w).Flush(); err != nil || !rec.Flushed {
		t.Fatalf("flush: %v, flushed %v", err, rec.Flushed)
	}
	rec = httptest.NewRecorder()
	w = &restWriter{ResponseWriter: rec, rs: rs}
	if err := http.NewResponseController(w).Flush(); err != nil || rec.Flushed {
		t.Fatalf("flush at the end: %v, flushed %v", err, rec.Flushed)
	}
}
