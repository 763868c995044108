package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// restConn is one kept-alive HTTP/1.1 connection over TLS to a node's
// REST listener, carrying one request at a time.
type restConn struct {
	tc *tls.Conn
	br *bufio.Reader
	bw *bufio.Writer

	// lines is the first buffer of the scanner of a stream's lines.
	lines []byte
}

// connBuffer is the size of a connection's read and write buffers, as
// net/http's client has them.
const connBuffer = 4 << 10

// restResp is an answer being read. Its connection goes back to the pool
// at release if the body was read to its end.
type restResp struct {
	*http.Response
	node *restNode
	conn *restConn
	body *eofReader
	stop func() bool // ends the watch on the request's context
}

// eofReader notes whether its reader has reported io.EOF.
type eofReader struct {
	r   io.Reader
	eof bool
}

func (e *eofReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		e.eof = true
	}
	return n, err
}

// release ends the answer: its connection is kept for the next request
// if the answer was read to its end, on time, and the server keeps it
// open; otherwise it is closed.
func (r *restResp) release() {
	onTime := r.stop()
	if onTime && r.body.eof && !r.Close {
		r.node.put(r.conn)
		return
	}
	r.conn.tc.Close()
}

// get takes a kept-alive connection, or opens one.
func (n *restNode) get(ctx context.Context) (*restConn, error) {
	n.mu.Lock()
	if k := len(n.idle); k > 0 {
		c := n.idle[k-1]
		n.idle = n.idle[:k-1]
		n.mu.Unlock()
		return c, nil
	}
	n.mu.Unlock()
	d := tls.Dialer{Config: n.tlsCfg}
	nc, err := d.DialContext(ctx, "tcp", n.addr)
	if err != nil {
		return nil, err
	}
	return &restConn{tc: nc.(*tls.Conn), br: bufio.NewReaderSize(nc, connBuffer),
		bw: bufio.NewWriterSize(nc, connBuffer), lines: make([]byte, streamLineStart)}, nil
}

// put keeps a connection for the next request, up to maxIdle of them.
func (n *restNode) put(c *restConn) {
	n.mu.Lock()
	if len(n.idle) < n.maxIdle {
		n.idle = append(n.idle, c)
		n.mu.Unlock()
		return
	}
	n.mu.Unlock()
	c.tc.Close()
}

// roundTrip writes a request and reads the answer's status and header
// on the caller's goroutine. The request's context ending interrupts
// the connection's reads and writes (and the connection is then closed).
func (n *restNode) roundTrip(ctx context.Context, method, path string, body []byte) (*restResp, error) {
	c, err := n.get(ctx)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() {
		_ = c.tc.SetDeadline(time.Unix(1, 0))
	})
	fail := func(err error) (*restResp, error) {
		stop()
		c.tc.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	if err := writeRequest(c.bw, method, path, n.host, n.mac, body); err != nil {
		return fail(err)
	}
	resp, err := http.ReadResponse(c.br, &http.Request{Method: method})
	if err != nil {
		return fail(err)
	}
	// Asked with Accept-Encoding: gzip as net/http asks; no node
	// compresses, and the load does not decode it.
	if ce := resp.Header.Get("Content-Encoding"); ce != "" {
		return fail(fmt.Errorf("answer with Content-Encoding %q", ce))
	}
	body2 := &eofReader{r: resp.Body}
	resp.Body = io.NopCloser(body2)
	return &restResp{Response: resp, node: n, conn: c, body: body2, stop: stop}, nil
}

// errPath refuses a request line that would not be one.
var errPath = errors.New("path with a space or line break")

// writeRequest writes the request net/http's client writes for an
// http.NewRequest with the Content-Type (for a body) and
// Grpc-Metadata-macaroon headers set: the same header lines in the same
// order, then the body, in one flush.
func writeRequest(w *bufio.Writer, method, path, host, mac string, body []byte) error {
	for i := 0; i < len(path); i++ {
		if c := path[i]; c == ' ' || c == '\r' || c == '\n' {
			return errPath
		}
	}
	w.WriteString(method)
	w.WriteByte(' ')
	w.WriteString(path)
	w.WriteString(" HTTP/1.1\r\nHost: ")
	w.WriteString(host)
	w.WriteString("\r\nUser-Agent: Go-http-client/1.1\r\n")
	switch {
	case body != nil:
		var num [20]byte
		w.WriteString("Content-Length: ")
		w.Write(strconv.AppendInt(num[:0], int64(len(body)), 10))
		w.WriteString("\r\nContent-Type: application/json\r\n")
	case method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch:
		w.WriteString("Content-Length: 0\r\n")
	}
	w.WriteString("Grpc-Metadata-Macaroon: ")
	w.WriteString(mac)
	w.WriteString("\r\nAccept-Encoding: gzip\r\n\r\n")
	w.Write(body)
	return w.Flush()
}
