package lndproc

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"lnd.xprv/internal/regtest"
)

// StopTimeout bounds a graceful stop (SIGTERM) before the process is
// killed.
const StopTimeout = 30 * time.Second

// Config describes one lnd.
type Config struct {
	// Bin is the lnd binary.
	Bin string

	// Dir is its --lnddir; its output goes to Dir/lnd.out.
	Dir string

	// Name is its alias.
	Name string

	// Btcd is the chain backend.
	Btcd *regtest.Btcd

	// Args are appended to the command line.
	Args []string
}

// Process is a running lnd with a wallet of no password
// (--noseedbackup), listening on loopback ports of its own.
type Process struct {
	RPCAddr, RESTAddr, P2PAddr string

	// CertPath and MacaroonPath are its TLS certificate and admin
	// macaroon (they exist once it has started far enough).
	CertPath, MacaroonPath string

	// Output is the file holding its stdout and stderr.
	Output string

	cmd    *exec.Cmd
	exited chan struct{}
}

// Start starts lnd on free ports with the defaults and cfg.Args. It
// does not wait for lnd to answer.
func Start(cfg Config) (*Process, error) {
	ports := make([]string, 3)
	for i := range ports {
		p, err := FreePort()
		if err != nil {
			return nil, err
		}
		ports[i] = p
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, err
	}
	p := &Process{RPCAddr: ports[0], RESTAddr: ports[1], P2PAddr: ports[2],
		CertPath: filepath.Join(cfg.Dir, "tls.cert"),
		MacaroonPath: filepath.Join(cfg.Dir, "data", "chain", "bitcoin", "regtest",
			"admin.macaroon"),
		Output: filepath.Join(cfg.Dir, "lnd.out"),
		exited: make(chan struct{})}
	out, err := os.Create(p.Output)
	if err != nil {
		return nil, err
	}
	b := cfg.Btcd
	args := append([]string{"--lnddir=" + cfg.Dir, "--bitcoin.regtest",
		"--bitcoin.node=btcd", "--btcd.rpchost=" + b.RPCHost(),
		"--btcd.rpcuser=" + b.RPCUser(), "--btcd.rpcpass=" + b.RPCPass(),
		"--btcd.rpccert=" + b.RPCCertPath(), "--noseedbackup",
		"--rpclisten=" + p.RPCAddr, "--restlisten=" + p.RESTAddr,
		"--listen=" + p.P2PAddr, "--alias=" + cfg.Name, "--debuglevel=info"},
		cfg.Args...)
	p.cmd = exec.Command(cfg.Bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = out, out
	setProcAttr(p.cmd)
	if err := p.cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("start %s: %w", cfg.Bin, err)
	}
	go func() {
		_ = p.cmd.Wait()
		out.Close()
		close(p.exited)
	}()
	return p, nil
}

// PID is the process's id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM and waits for the process to exit, killing it after
// StopTimeout. Safe to call more than once.
func (p *Process) Stop() error {
	if p.Exited() {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(StopTimeout):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	return nil
}

// FreePort is a loopback host:port free now.
func FreePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
