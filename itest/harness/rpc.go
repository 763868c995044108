package harness

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"lnd.xprv/rpc/cert"
)

// macaroonFile sends the macaroon in a file with every call, read at call
// time: the file appears when the wallet is created, after the connection
// is made. No file, no macaroon.
type macaroonFile string

func (m macaroonFile) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	data, err := os.ReadFile(string(m))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return map[string]string{"macaroon": hex.EncodeToString(data)}, nil
}

func (macaroonFile) RequireTransportSecurity() bool { return true }

// dial connects to the node's gRPC port, trusting its certificate and
// sending the macaroon at macPath ("" for none).
func (n *Node) dial(macPath string) (*grpc.ClientConn, error) {
	tlsCfg, err := cert.ClientConfig(n.TLSCertPath())
	if err != nil {
		return nil, fmt.Errorf("harness: %s: %w", n.Name(), err)
	}
	opts := []grpc.DialOption{grpc.WithTransportCredentials(credentials.NewTLS(tlsCfg))}
	if macPath != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(macaroonFile(macPath)))
	}
	conn, err := grpc.NewClient(n.rpcAddr, opts...)
	if err != nil {
		return nil, fmt.Errorf("harness: %s: dial %s: %w", n.Name(), n.rpcAddr, err)
	}
	n.mu.Lock()
	n.conns = append(n.conns, conn)
	n.mu.Unlock()
	return conn, nil
}

// Conn is a new gRPC connection to the running node that sends the
// macaroon at macPath with every call, or none if macPath is "". It is
// closed when the process stops.
func (n *Node) Conn(macPath string) (*grpc.ClientConn, error) {
	if !n.Running() {
		return nil, fmt.Errorf("harness: %s is not running", n.Name())
	}
	return n.dial(macPath)
}

// REST makes an HTTPS request to the node's REST port, trusting its
// certificate, with the macaroon at macPath in the Grpc-Metadata-macaroon
// header (none if macPath is ""). body is nil, []byte, a string, a proto
// message (sent as protojson) or any value encoding/json takes. It returns
// the status code and the response body.
func (n *Node) REST(method, path string, body any, macPath string) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := n.RESTStream(ctx, method, path, body, macPath)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return resp.StatusCode, data, fmt.Errorf("harness: REST %s %s: %w", method, path, err)
	}
	return resp.StatusCode, data, nil
}

// RESTStream is REST for a server stream: it returns the response as soon
// as its headers arrive; the caller reads the body (one JSON message a
// line) and closes it. The request lasts until ctx ends.
func (n *Node) RESTStream(ctx context.Context, method, path string, body any, macPath string) (*http.Response, error) {
	var payload []byte
	var err error
	switch b := body.(type) {
	case nil:
	case []byte:
		payload = b
	case string:
		payload = []byte(b)
	case proto.Message:
		payload, err = protojson.MarshalOptions{UseProtoNames: true}.Marshal(b)
	default:
		payload, err = json.Marshal(b)
	}
	if err != nil {
		return nil, fmt.Errorf("harness: REST body: %w", err)
	}
	tlsCfg, err := cert.ClientConfig(n.TLSCertPath())
	if err != nil {
		return nil, fmt.Errorf("harness: %s: %w", n.Name(), err)
	}
	req, err := http.NewRequestWithContext(ctx, method,
		"https://"+n.restAddr+path, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("harness: REST request: %w", err)
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if macPath != "" {
		mac, err := os.ReadFile(macPath)
		if err != nil {
			return nil, fmt.Errorf("harness: macaroon: %w", err)
		}
		req.Header.Set("Grpc-Metadata-macaroon", hex.EncodeToString(mac))
	}
	// One connection per request, closed with the body.
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg, DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("harness: REST %s %s: %w", method, path, err)
	}
	return resp, nil
}

// CLIArgs are the xlncli options that reach this node explicitly: server,
// certificate and admin macaroon.
func (n *Node) CLIArgs() []string {
	return []string{
		"--rpcserver=" + n.rpcAddr,
		"--tlscertpath=" + n.TLSCertPath(),
		"--macaroonpath=" + n.AdminMacaroonPath(),
	}
}

// CLIPath is the xlncli binary.
func (n *Node) CLIPath() string { return filepath.Join(n.net.binDir, "xlncli") }

// CLI runs xlncli with args as given (add CLIArgs to reach this node) and
// returns its standard output; a non-zero exit is an error carrying
// standard error.
func (n *Node) CLI(args ...string) ([]byte, error) {
	return n.CLIInput(nil, args...)
}

// CLIInput is CLI with stdin as the command's standard input.
func (n *Node) CLIInput(stdin []byte, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, n.CLIPath(), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	cmd.Stdin = bytes.NewReader(stdin)
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("harness: xlncli %q: %w; stderr: %s",
			args, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return stdout.Bytes(), nil
}
