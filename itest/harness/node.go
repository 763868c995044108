package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"

	"lnd.xprv/rpc/lnrpc"
)

// NodeConfig describes a node.
type NodeConfig struct {
	// Name is the node's alias and the name of its directory.
	Name string

	// ExtraArgs are appended to xlnd's command line.
	ExtraArgs []string

	// Password, if set, runs the node without --noseedbackup: Start
	// creates the wallet with GenSeed and InitWallet under this password
	// the first time, and unlocks it with UnlockWallet after that. Empty
	// means a wallet with no password, created at start (--noseedbackup).
	Password []byte

	// Binary is the daemon's file in the bin directory: xlnd if empty
	// (xlnd-breach is the test build that can be made to cheat).
	Binary string

	// Env holds KEY=VALUE pairs added to the process's environment
	// (the harness's own is inherited).
	Env []string
}

// Node is one xlnd process (or none, while stopped) with a fixed data
// directory and fixed ports.
type Node struct {
	net      *Network
	cfg      NodeConfig
	dir      string
	p2pAddr  string
	rpcAddr  string
	restAddr string

	// RPC, State and Unlocker talk to the running process with TLS and the
	// admin macaroon (sent once the file exists). Every Start replaces
	// them.
	RPC      lnrpc.LightningClient
	State    lnrpc.StateClient
	Unlocker lnrpc.WalletUnlockerClient

	mu       sync.Mutex
	proc     *process
	conns    []*grpc.ClientConn // closed when the process stops
	pubKey   string
	mnemonic []string
	active   bool // reached SERVER_ACTIVE once: peers may know its ports
	serving  bool // the current process reached SERVER_ACTIVE
	last     *os.ProcessState
}

// process is one run of xlnd.
type process struct {
	cmd    *exec.Cmd
	out    *os.File
	exited chan struct{} // closed once state is set
	state  *os.ProcessState
}

func newNode(n *Network, cfg NodeConfig) (*Node, error) {
	node := &Node{
		net: n,
		cfg: cfg,
		dir: filepath.Join(n.dir, cfg.Name),
	}
	if err := os.MkdirAll(node.dir, 0o700); err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	if err := node.pickPorts(); err != nil {
		return nil, err
	}
	return node, nil
}

// pickPorts chooses free loopback ports by binding and releasing them,
// none that the network handed out before (the kernel may offer a port
// again as soon as it is released).
func (n *Node) pickPorts() error {
	for _, p := range []*string{&n.p2pAddr, &n.rpcAddr, &n.restAddr} {
		addr, err := n.net.freePort()
		if err != nil {
			return err
		}
		*p = addr
	}
	return nil
}

// Name is the node's name (also its alias).
func (n *Node) Name() string { return n.cfg.Name }

// SetExtraArgs replaces the arguments appended to xlnd's command line
// from the next start on.
func (n *Node) SetExtraArgs(args ...string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cfg.ExtraArgs = append([]string(nil), args...)
}

// SetEnv replaces the variables added to xlnd's environment from the
// next start on (none: the harness's environment only).
func (n *Node) SetEnv(env ...string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cfg.Env = append([]string(nil), env...)
}

// Config is the node's configuration.
func (n *Node) Config() NodeConfig {
	n.mu.Lock()
	defer n.mu.Unlock()
	cfg := n.cfg
	cfg.ExtraArgs = append([]string(nil), cfg.ExtraArgs...)
	cfg.Env = append([]string(nil), cfg.Env...)
	return cfg
}

// DataDir is the node's --datadir.
func (n *Node) DataDir() string { return n.dir }

// P2PAddr is the peer port, host:port (also its --externalip).
func (n *Node) P2PAddr() string { return n.p2pAddr }

// RPCAddr is the gRPC host:port.
func (n *Node) RPCAddr() string { return n.rpcAddr }

// RESTAddr is the REST host:port.
func (n *Node) RESTAddr() string { return n.restAddr }

// TLSCertPath is the RPC certificate xlnd creates at first start.
func (n *Node) TLSCertPath() string { return filepath.Join(n.dir, "tls.cert") }

// MacaroonPath is the path of a macaroon file of the node's regtest chain
// directory ("admin.macaroon", "readonly.macaroon", "invoice.macaroon").
func (n *Node) MacaroonPath(file string) string {
	return filepath.Join(n.dir, "data", "chain", "bitcoin", "regtest", file)
}

// AdminMacaroonPath is the admin macaroon's path.
func (n *Node) AdminMacaroonPath() string { return n.MacaroonPath("admin.macaroon") }

// ReadOnlyMacaroonPath is the read-only macaroon's path.
func (n *Node) ReadOnlyMacaroonPath() string { return n.MacaroonPath("readonly.macaroon") }

// LogPath is xlnd's own log file.
func (n *Node) LogPath() string {
	return filepath.Join(n.dir, "logs", "bitcoin", "regtest", "xlnd.log")
}

// OutputPath is where the harness writes the process's stdout and stderr,
// across every start (a panic or a start-up error shows here only).
func (n *Node) OutputPath() string { return filepath.Join(n.dir, "xlnd.out") }

// PubKey is the identity public key (hex) GetInfo reported at the last
// start.
func (n *Node) PubKey() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.pubKey
}

// URI is pubkey@host:port of the node's peer port.
func (n *Node) URI() string { return n.PubKey() + "@" + n.p2pAddr }

// Mnemonic is the seed InitWallet created the wallet from (password nodes
// only).
func (n *Node) Mnemonic() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.mnemonic...)
}

// Running reports whether the process is up.
func (n *Node) Running() bool {
	n.mu.Lock()
	p := n.proc
	n.mu.Unlock()
	if p == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Serving reports whether the running process reached SERVER_ACTIVE.
func (n *Node) Serving() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.serving
}

// PID is the process id of the running process (0 if none).
func (n *Node) PID() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc == nil {
		return 0
	}
	return n.proc.cmd.Process.Pid
}

// LastExit is how the last process exited (nil if none has).
func (n *Node) LastExit() *os.ProcessState {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.last
}

// Args is xlnd's command line, without the binary.
func (n *Node) Args() []string {
	b := n.net.btcd
	args := []string{
		"--datadir=" + n.dir,
		"--network=regtest",
		"--listen=" + n.p2pAddr,
		"--rpclisten=" + n.rpcAddr,
		"--restlisten=" + n.restAddr,
		"--externalip=" + n.p2pAddr,
		"--alias=" + n.cfg.Name,
		"--debuglevel=" + n.net.cfg.DebugLevel,
		"--btcd.rpchost=" + b.RPCHost(),
		"--btcd.rpcuser=" + b.RPCUser(),
		"--btcd.rpcpass=" + b.RPCPass(),
		"--btcd.rpccert=" + b.RPCCertPath(),
	}
	if len(n.cfg.Password) == 0 {
		args = append(args, "--noseedbackup")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return append(args, n.cfg.ExtraArgs...)
}

// Start starts the process and brings it to SERVER_ACTIVE: a node with no
// password creates or opens its wallet by itself; a password node gets its
// wallet created (GenSeed, InitWallet) or unlocked (UnlockWallet) with its
// password. It records the identity key from GetInfo and returns once the
// node has synced to btcd's tip.
func (n *Node) Start() error {
	for attempt := 0; ; attempt++ {
		err := n.start()
		if err == nil || attempt == 2 || !n.mayMove() || !n.portClash() {
			return err
		}
		n.Kill()
		n.net.logf("%s: a port was taken; trying new ones", n.Name())
		if err := n.pickPorts(); err != nil {
			return err
		}
	}
}

// mayMove reports whether the node may still change ports: it never
// became active, so no peer knows its address.
func (n *Node) mayMove() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return !n.active
}

// portClash reports whether the last run failed on a port another process
// took between the harness picking it and xlnd binding it.
func (n *Node) portClash() bool {
	return strings.Contains(n.outputSinceStart(), "address already in use")
}

func (n *Node) start() error {
	state, err := n.StartLocked()
	if err != nil {
		return err
	}
	if len(n.cfg.Password) > 0 {
		switch state {
		case lnrpc.WalletState_NON_EXISTING:
			if _, err := n.InitWallet(n.cfg.Password); err != nil {
				return err
			}
		case lnrpc.WalletState_LOCKED:
			if err := n.Unlock(n.cfg.Password); err != nil {
				return err
			}
		}
	}
	if err := n.WaitActive(); err != nil {
		return err
	}
	// Tests compare heights and balances with btcd's: start from its tip.
	height, err := n.net.TipHeight()
	if err != nil {
		return err
	}
	return n.WaitHeight(height)
}

// StartLocked starts the process and waits until it answers over gRPC: for
// a password node, until the WalletUnlocker is there (NON_EXISTING or
// LOCKED), which it returns; for a node with no password, until any state.
// The caller drives the wallet from there (InitWallet, Unlock, WaitActive).
func (n *Node) StartLocked() (lnrpc.WalletState, error) {
	n.mu.Lock()
	running := n.proc != nil
	n.mu.Unlock()
	if running {
		return 0, fmt.Errorf("harness: %s is already running", n.Name())
	}
	// Ports were picked by binding and releasing them: another process
	// may take one first. Until the node was active once, try new ports
	// then; after that, peers know its address and it must keep it.
	for attempt := 0; ; attempt++ {
		state, err := n.startOnce(false)
		if err == nil || attempt == 2 || !n.mayMove() || !n.portClash() {
			return state, err
		}
		n.net.logf("%s: a port was taken; trying new ones", n.Name())
		if err := n.pickPorts(); err != nil {
			return 0, err
		}
	}
}

// startOnce starts the process and waits for its State service; standby:
// a cluster node that answers WAITING_TO_START until it leads.
func (n *Node) startOnce(standby bool) (lnrpc.WalletState, error) {
	n.net.mu.Lock()
	closed := n.net.closed
	n.net.mu.Unlock()
	if closed {
		return 0, errors.New("harness: network is stopped")
	}
	out, err := os.OpenFile(n.OutputPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return 0, fmt.Errorf("harness: %w", err)
	}
	fmt.Fprintf(out, "==== harness: %s starting at %s\n", n.Name(),
		time.Now().UTC().Format(time.RFC3339Nano))
	bin := n.cfg.Binary
	if bin == "" {
		bin = "xlnd"
	}
	cmd := exec.Command(filepath.Join(n.net.binDir, bin), n.Args()...)
	cmd.Stdout = out
	cmd.Stderr = out
	if env := n.Config().Env; len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		out.Close()
		return 0, fmt.Errorf("harness: start %s: %w", n.Name(), err)
	}
	p := &process{cmd: cmd, out: out, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		p.state = cmd.ProcessState
		out.Close()
		close(p.exited)
	}()
	n.mu.Lock()
	n.proc = p
	n.mu.Unlock()
	n.net.logf("%s: started pid %d (p2p %s, rpc %s, rest %s)", n.Name(),
		cmd.Process.Pid, n.p2pAddr, n.rpcAddr, n.restAddr)

	state, err := n.connect(p, standby)
	if err != nil {
		n.Kill()
		return 0, err
	}
	return state, nil
}

// connect waits for the certificate, dials, and waits until the State
// service answers with a state the node's kind can be at before unlock
// (a standby: any state).
func (n *Node) connect(p *process, standby bool) (lnrpc.WalletState, error) {
	deadline := time.Now().Add(StartTimeout)
	if err := n.waitProc(p, deadline, func() error {
		_, err := os.Stat(n.TLSCertPath())
		return err
	}); err != nil {
		return 0, fmt.Errorf("harness: %s: no TLS certificate: %w", n.Name(), err)
	}
	conn, err := n.dial(n.AdminMacaroonPath())
	if err != nil {
		return 0, err
	}
	n.RPC = lnrpc.NewLightningClient(conn)
	n.State = lnrpc.NewStateClient(conn)
	n.Unlocker = lnrpc.NewWalletUnlockerClient(conn)

	var state lnrpc.WalletState
	err = n.waitProc(p, deadline, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		resp, err := n.State.GetState(ctx, &lnrpc.GetStateRequest{})
		if err != nil {
			return err
		}
		state = resp.State
		if state == lnrpc.WalletState_WAITING_TO_START && !standby {
			return errors.New("waiting to start")
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("harness: %s: State.GetState: %w", n.Name(), err)
	}
	return state, nil
}

// StartStandby starts a node of a cluster (--cluster.enable-leader-election)
// and returns once its State service answers, whatever the state: a
// standby stays in WAITING_TO_START until it leads. WaitActive waits for
// it to take over.
func (n *Node) StartStandby() error {
	n.mu.Lock()
	running := n.proc != nil
	n.mu.Unlock()
	if running {
		return fmt.Errorf("harness: %s is already running", n.Name())
	}
	_, err := n.startOnce(true)
	return err
}

// waitProc polls cond until it holds, the deadline passes or the process
// exits.
func (n *Node) waitProc(p *process, deadline time.Time, cond func() error) error {
	return poll(deadline, func() (bool, error) {
		select {
		case <-p.exited:
			return true, fmt.Errorf("xlnd exited (%s); output:\n%s", p.state,
				tail(n.outputSinceStart(), 20))
		default:
		}
		return false, cond()
	})
}

// InitWallet creates the wallet with GenSeed and InitWallet under password
// and waits until the server is active. It returns the 24 seed words.
func (n *Node) InitWallet(password []byte) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	seed, err := n.Unlocker.GenSeed(ctx, &lnrpc.GenSeedRequest{})
	if err != nil {
		return nil, fmt.Errorf("harness: %s: GenSeed: %w", n.Name(), err)
	}
	_, err = n.Unlocker.InitWallet(ctx, &lnrpc.InitWalletRequest{
		WalletPassword:     password,
		CipherSeedMnemonic: seed.CipherSeedMnemonic,
	})
	if err != nil {
		return nil, fmt.Errorf("harness: %s: InitWallet: %w", n.Name(), err)
	}
	n.mu.Lock()
	n.mnemonic = seed.CipherSeedMnemonic
	n.mu.Unlock()
	return seed.CipherSeedMnemonic, n.WaitActive()
}

// RestoreWallet creates the wallet from an existing seed with InitWallet
// (scanning recoveryWindow addresses ahead for funds) and waits until the
// server is active.
func (n *Node) RestoreWallet(password []byte, mnemonic []string, recoveryWindow int32) error {
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	_, err := n.Unlocker.InitWallet(ctx, &lnrpc.InitWalletRequest{
		WalletPassword:     password,
		CipherSeedMnemonic: mnemonic,
		RecoveryWindow:     recoveryWindow,
	})
	if err != nil {
		return fmt.Errorf("harness: %s: InitWallet (restore): %w", n.Name(), err)
	}
	n.mu.Lock()
	n.mnemonic = append([]string(nil), mnemonic...)
	n.mu.Unlock()
	return n.WaitActive()
}

// Unlock calls UnlockWallet with password. It does not wait for the
// server: see WaitActive.
func (n *Node) Unlock(password []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	_, err := n.Unlocker.UnlockWallet(ctx, &lnrpc.UnlockWalletRequest{
		WalletPassword: password,
	})
	if err != nil {
		return fmt.Errorf("harness: %s: UnlockWallet: %w", n.Name(), err)
	}
	return nil
}

// WaitActive waits until the node reports SERVER_ACTIVE, then records its
// identity key from GetInfo.
func (n *Node) WaitActive() error {
	n.mu.Lock()
	p := n.proc
	n.mu.Unlock()
	if p == nil {
		return fmt.Errorf("harness: %s is not running", n.Name())
	}
	var state lnrpc.WalletState
	err := n.waitProc(p, time.Now().Add(StartTimeout), func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		resp, err := n.State.GetState(ctx, &lnrpc.GetStateRequest{})
		if err != nil {
			return err
		}
		state = resp.State
		if state != lnrpc.WalletState_SERVER_ACTIVE {
			return fmt.Errorf("state %v", state)
		}
		// The macaroon is written with the wallet; GetInfo needs it.
		info, err := n.RPC.GetInfo(ctx, &lnrpc.GetInfoRequest{})
		if err != nil {
			return fmt.Errorf("GetInfo: %w", err)
		}
		n.mu.Lock()
		n.pubKey = info.IdentityPubkey
		n.active = true
		n.serving = n.proc == p
		n.mu.Unlock()
		return nil
	})
	if err != nil {
		return fmt.Errorf("harness: %s: not active: %w", n.Name(), err)
	}
	return nil
}

// Stop asks the node to stop with StopDaemon and waits for the process to
// exit; if it does not (or the call fails, e.g. before unlock), it sends
// SIGTERM, then SIGKILL, each after StopTimeout. It is an error if the
// process had to be killed or exited with a non-zero status.
func (n *Node) Stop() error {
	n.mu.Lock()
	p := n.proc
	n.mu.Unlock()
	if p == nil {
		return nil
	}
	var steps []string
	exited := !n.processUp(p)
	if exited {
		steps = append(steps, "had exited")
	} else if n.RPC != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := n.RPC.StopDaemon(ctx, &lnrpc.StopRequest{})
		cancel()
		if err == nil {
			steps = append(steps, "StopDaemon")
			exited = waitExited(p, StopTimeout)
		} else {
			steps = append(steps, fmt.Sprintf("StopDaemon failed (%v)", err))
		}
	}
	if !exited {
		steps = append(steps, "SIGTERM")
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		exited = waitExited(p, StopTimeout)
	}
	if !exited {
		steps = append(steps, "SIGKILL")
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	n.release(p)
	how := strings.Join(steps, ", then ")
	n.net.logf("%s: stopped (%s): %s", n.Name(), how, p.state)
	if !exited {
		return fmt.Errorf("harness: %s did not stop within %v (%s)", n.Name(), StopTimeout, how)
	}
	if !p.state.Success() {
		return fmt.Errorf("harness: %s exited with %s (%s)", n.Name(), p.state, how)
	}
	return nil
}

// waitExited waits up to timeout for the process to exit.
func waitExited(p *process, timeout time.Duration) bool {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.exited:
		return true
	case <-t.C:
		return false
	}
}

// Kill kills the process with SIGKILL and waits for it (a crash).
func (n *Node) Kill() {
	n.mu.Lock()
	p := n.proc
	n.mu.Unlock()
	if p == nil {
		return
	}
	how := "killed"
	if !n.processUp(p) {
		how = "had exited"
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
	n.release(p)
	n.net.logf("%s: %s: %s", n.Name(), how, p.state)
}

// WaitExit waits up to timeout for the process to exit by itself (after a
// StopDaemon the caller made) and returns how it exited. The process is
// left running on timeout.
func (n *Node) WaitExit(timeout time.Duration) (*os.ProcessState, error) {
	n.mu.Lock()
	p := n.proc
	n.mu.Unlock()
	if p == nil {
		return nil, fmt.Errorf("harness: %s is not running", n.Name())
	}
	select {
	case <-p.exited:
	case <-time.After(timeout):
		return nil, fmt.Errorf("harness: %s still running %v later (pid %d)",
			n.Name(), timeout, p.cmd.Process.Pid)
	}
	n.release(p)
	return p.state, nil
}

// Restart stops the node (see Stop) and starts it again (see Start) on the
// same directory and ports.
func (n *Node) Restart() error {
	if err := n.Stop(); err != nil {
		return err
	}
	return n.Start()
}

func (n *Node) processUp(p *process) bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// release forgets an exited process and closes its connections.
func (n *Node) release(p *process) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc != p {
		return
	}
	n.proc = nil
	n.serving = false
	n.last = p.state
	for _, c := range n.conns {
		c.Close()
	}
	n.conns = nil
}

// outputSinceStart is the process output written since the last start
// marker.
func (n *Node) outputSinceStart() string {
	data, _ := os.ReadFile(n.OutputPath())
	if i := bytes.LastIndex(data, []byte("==== harness: ")); i >= 0 {
		data = data[i:]
	}
	return string(data)
}

// LogTail is the last lines of the node's output (stdout and stderr of
// every run, which include its log).
func (n *Node) LogTail(lines int) string {
	data, err := os.ReadFile(n.OutputPath())
	if err != nil {
		return fmt.Sprintf("(no output: %v)", err)
	}
	return tail(string(data), lines)
}

// LogContains reports whether the node's log file or its output holds s.
func (n *Node) LogContains(s string) bool {
	for _, path := range []string{n.LogPath(), n.OutputPath()} {
		if data, err := os.ReadFile(path); err == nil && bytes.Contains(data, []byte(s)) {
			return true
		}
	}
	return false
}

// LogLines returns the lines of the node's log file that contain every one
// of parts.
func (n *Node) LogLines(parts ...string) []string {
	data, err := os.ReadFile(n.LogPath())
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(line, p)
		}
		if ok {
			out = append(out, line)
		}
	}
	return out
}

// WaitLogLine waits until the node's log file has a line containing every
// one of parts, and returns the first such line.
func (n *Node) WaitLogLine(timeout time.Duration, parts ...string) (string, error) {
	var line string
	err := WaitFor(func() error {
		lines := n.LogLines(parts...)
		if len(lines) == 0 {
			return fmt.Errorf("no line in %s contains %q", n.LogPath(), parts)
		}
		line = lines[0]
		return nil
	}, timeout)
	return line, err
}

func tail(s string, lines int) string {
	s = strings.TrimRight(s, "\n")
	all := strings.Split(s, "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// Signal sends sig to the running process (see WaitExit).
func (n *Node) Signal(sig os.Signal) error {
	n.mu.Lock()
	p := n.proc
	n.mu.Unlock()
	if p == nil {
		return fmt.Errorf("harness: %s is not running", n.Name())
	}
	return p.cmd.Process.Signal(sig)
}
