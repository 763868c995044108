package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"

	"lnd.xprv/rpc/cert"
)

// restNode is one node's REST API as an app reaches it: HTTPS with the
// node's certificate, the admin macaroon in a header, and a pool of
// kept-alive connections shared by every payer.
//
// The requests are net/http's, byte for byte (see writeRequest), but each
// is written and its answer read on the caller's goroutine: net/http's
// client hands every request to a writer goroutine and every answer back
// from a reader goroutine, and those hand-offs and the scheduler's work
// for them were a third of the tool's CPU, on the cores the nodes under
// test use.
type restNode struct {
	name    string
	addr    string // host:port of the REST listener
	host    string // the Host header: addr, as net/http sends it
	p2p     string // host:port of the peer port
	mac     string // hex admin macaroon
	tlsCfg  *tls.Config
	pubKey  string
	stopped func() error
	pprof   string // host:port of its profiler, "" if none
	pid     int    // its process, 0 if unknown

	mu      sync.Mutex
	idle    []*restConn // kept-alive connections, the latest used last
	maxIdle int
}

func newRESTNode(name, restAddr, p2pAddr, certPath, macPath string,
	conns int) (*restNode, error) {

	tlsCfg, err := cert.ClientConfig(certPath)
	if err != nil {
		return nil, err
	}
	mac, err := os.ReadFile(macPath)
	if err != nil {
		return nil, err
	}
	return &restNode{name: name, addr: restAddr, host: restAddr, p2p: p2pAddr,
		mac: hex.EncodeToString(mac), tlsCfg: tlsCfg, maxIdle: conns}, nil
}

// do sends a JSON request and decodes a JSON answer into out (nil:
// discard). A status other than 200 is an error carrying the body. body
// is a value to marshal, or the JSON itself as []byte.
func (n *restNode) do(ctx context.Context, method, path string, body, out any) error {
	resp, err := n.send(ctx, method, path, body)
	if err != nil {
		return err
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	resp.release()
	if err != nil {
		return fmt.Errorf("%s %s %s: %w", n.name, method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s %s: HTTP %d: %s", n.name, method, path,
			resp.StatusCode, bytes.TrimSpace(data))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s %s: %w", n.name, method, path, err)
	}
	return nil
}

// send writes a request on a connection of the pool (or a new one) and
// reads the answer's header. The caller reads the body and releases the
// answer.
func (n *restNode) send(ctx context.Context, method, path string, body any) (*restResp, error) {
	var payload []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		payload = b
	default:
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, err
		}
	}
	resp, err := n.roundTrip(ctx, method, path, payload)
	if err != nil {
		return nil, fmt.Errorf("%s %s %s: %w", n.name, method, path, err)
	}
	return resp, nil
}

// openConns fills the node's connection pool with up to n connections:
// n concurrent GetInfo calls, each on a connection of its own while the
// others are in flight. A call that fails only leaves a connection
// fewer.
func (n *restNode) openConns(ctx context.Context, conns int) {
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = n.do(ctx, http.MethodGet, "/v1/getinfo", nil, nil)
		}()
	}
	wg.Wait()
}

// drainLimit bounds what drain reads of an answer nobody needs.
const drainLimit = 1 << 20

// drain reads what is left of a body up to drainLimit, so that releasing
// it returns the connection to the pool: one released before the end of
// its answer is closed, and the next request pays for a new TLS
// handshake. The server ends a payment's stream once it is final, so
// this reads at most the end of the chunked body.
func drain(body io.Reader) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, drainLimit))
}

// streamLineStart is the scanner's first buffer for a stream's lines.
const streamLineStart = 8 << 10

// stream sends a request whose answer is a server stream (one JSON
// object a line, as the REST gateway writes them) and calls each with
// every line until each returns true or the stream ends.
func (n *restNode) stream(ctx context.Context, method, path string, body any,
	each func(line []byte) (bool, error)) error {

	resp, err := n.send(ctx, method, path, body)
	if err != nil {
		return err
	}
	defer resp.release()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return fmt.Errorf("%s %s %s: HTTP %d: %s", n.name, method, path,
			resp.StatusCode, bytes.TrimSpace(data))
	}
	// A payment's line is a few KiB: the scanner starts with the
	// connection's buffer of that size and grows only for a longer one,
	// rather than allocating 64 KiB a payment on a machine the nodes under
	// test share.
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(resp.conn.lines[:0], 16<<20)
	for sc.Scan() {
		done, err := each(sc.Bytes())
		if err != nil {
			return err
		}
		if done {
			drain(resp.Body)
			return nil
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s %s %s: %w", n.name, method, path, err)
	}
	return fmt.Errorf("%s %s %s: stream ended without a final answer",
		n.name, method, path)
}
