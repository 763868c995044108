package itest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"lnd.xprv/internal/etcdtest"
	"lnd.xprv/itest/harness"
	"lnd.xprv/rpc/lnrpc"
	"lnd.xprv/rpc/lnrpc/routerrpc"
)

// clusterTTL is the leader session TTL of the cluster tests, in seconds:
// short, so that a failover is quick.
const clusterTTL = 5

// clusterArgs are the options of a node of a two-node cluster over the
// etcd at endpoint.
func clusterArgs(endpoint, id, pwFile string) []string {
	args := []string{"--db.backend=etcd", "--db.etcd.host=" + endpoint,
		"--db.etcd.disabletls", "--db.etcd.namespace=cluster",
		"--cluster.enable-leader-election", "--cluster.leader-elector=etcd",
		"--cluster.etcd-election-prefix=/xlnd-leader/", "--cluster.id=" + id,
		"--cluster.leader-session-ttl=" + strconv.Itoa(clusterTTL)}
	if pwFile != "" {
		args = append(args, "--wallet-unlock-password-file="+pwFile)
	}
	return args
}

// state is n's start-up state.
func state(t *testing.T, n *harness.Node) lnrpc.WalletState {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := n.State.GetState(ctx, &lnrpc.GetStateRequest{})
	check(t, err)
	return resp.State
}

// checkStandby checks that n waits: WAITING_TO_START, and every service
// but State refuses.
func checkStandby(t *testing.T, n *harness.Node) {
	t.Helper()
	if s := state(t, n); s != lnrpc.WalletState_WAITING_TO_START {
		t.Fatalf("%s is %v, want WAITING_TO_START while another node leads", n.Name(), s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := n.RPC.GetInfo(ctx, &lnrpc.GetInfoRequest{}); err == nil ||
		!strings.Contains(err.Error(), "waiting to start") {
		t.Fatalf("%s answered GetInfo while standing by: %v", n.Name(), err)
	}
}

// channelOf returns n's channel at point.
func channelOf(t *testing.T, n *harness.Node, point string) *lnrpc.Channel {
	t.Helper()
	resp, err := n.RPC.ListChannels(context.Background(), &lnrpc.ListChannelsRequest{})
	check(t, err)
	for _, c := range resp.Channels {
		if c.ChannelPoint == point {
			return c
		}
	}
	t.Fatalf("%s has no channel %s", n.Name(), point)
	return nil
}

// sideBalances is what one side of the cluster test's channel holds: its
// balances in the channel and its confirmed on-chain wallet balance.
type sideBalances struct{ local, remote, wallet int64 }

// balancesOf returns n's balances in the channel at point and its wallet.
func balancesOf(t *testing.T, n *harness.Node, point string) sideBalances {
	t.Helper()
	c := channelOf(t, n, point)
	w, err := n.Balance()
	check(t, err)
	return sideBalances{c.LocalBalance, c.RemoteBalance, w.ConfirmedBalance}
}

// payBothWays has the leader pay an invoice of toCarol sat from carol, and
// carol pay fromCarol, an invoice of the cluster's, over their channel at
// point. Both invoices settle, neither payment pays a fee, and once the
// commitments settle each side's channel balance has moved by exactly
// the difference while neither wallet moved.
func payBothWays(t *testing.T, leader, carol *harness.Node, point string, toCarol int64,
	fromCarol *lnrpc.AddInvoiceResponse) {

	t.Helper()
	ctx := t.Context()
	inv, err := leader.RPC.LookupInvoice(ctx, &lnrpc.PaymentHash{RHash: fromCarol.RHash})
	check(t, err)
	in := inv.Value
	lBefore, cBefore := balancesOf(t, leader, point), balancesOf(t, carol, point)

	cInv, err := carol.RPC.AddInvoice(ctx, &lnrpc.Invoice{Memo: "to carol", Value: toCarol})
	check(t, err)
	for _, p := range []struct {
		payer, payee *harness.Node
		req          string
		hash         []byte
		amt          int64
	}{
		{leader, carol, cInv.PaymentRequest, cInv.RHash, toCarol},
		{carol, leader, fromCarol.PaymentRequest, fromCarol.RHash, in},
	} {
		got := mustPay(t, p.payer, &routerrpc.SendPaymentRequest{PaymentRequest: p.req})
		if got.ValueSat != p.amt || got.FeeMsat != 0 {
			t.Fatalf("%s paid %d sat with %d msat fee, want %d and none",
				p.payer.Name(), got.ValueSat, got.FeeMsat, p.amt)
		}
		if s := waitSettled(t, p.payee, p.hash); s.AmtPaidSat != p.amt {
			t.Fatalf("%s's invoice settled with %d sat, want %d", p.payee.Name(), s.AmtPaidSat, p.amt)
		}
	}

	net := in - toCarol
	lWant := sideBalances{lBefore.local + net, lBefore.remote - net, lBefore.wallet}
	cWant := sideBalances{cBefore.local - net, cBefore.remote + net, cBefore.wallet}
	err = harness.WaitFor(func() error {
		l, c := balancesOf(t, leader, point), balancesOf(t, carol, point)
		if l != lWant || c != cWant {
			return fmt.Errorf("%s %+v (want %+v), carol %+v (want %+v)",
				leader.Name(), l, lWant, c, cWant)
		}
		return nil
	}, harness.SyncTimeout)
	check(t, err)
}

// TestClusterFailover runs two xlnd processes as one node over a real etcd,
// with a third node (carol) as the peer. The leader opens a channel and
// pays carol and is paid by her; it is killed; the standby takes over
// within the session TTL, reconnects carol and the channel resumes through
// channel_reestablish with the same balances; payments go on both ways,
// channel and wallet balances on both sides exactly what they explain;
// the old leader, back, waits as the standby; a leader paused
// for longer than the TTL is replaced and, resumed, stops; and a leader
// cut off from etcd for longer than the TTL stops while the standby waits
// for etcd to come back and takes over.
func TestClusterFailover(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	nw := harness.New(t)
	password := []byte("cluster password")
	pwFile := filepath.Join(nw.Dir(), "cluster-password")
	check(t, os.WriteFile(pwFile, password, 0o600))

	// The first leader creates the cluster's wallet (in etcd) through the
	// WalletUnlocker; from then on both nodes unlock with the file.
	a, err := nw.AddNode(harness.NodeConfig{Name: "a", Password: password,
		ExtraArgs: clusterArgs(srv.Endpoint(), "a", "")})
	check(t, err)
	check(t, a.Start())
	a.SetExtraArgs(clusterArgs(srv.Endpoint(), "a", pwFile)...)
	b, err := nw.AddNode(harness.NodeConfig{Name: "b", Password: password,
		ExtraArgs: clusterArgs(srv.Endpoint(), "b", pwFile)})
	check(t, err)
	check(t, b.StartStandby())
	checkStandby(t, b)

	carol := startNode(t, nw, "carol")
	check(t, nw.Fund(a, 5_000_000))
	check(t, nw.ConnectNodes(a, carol, false))
	_, point := openChannel(t, nw, a, carol, lnrpc.CommitmentType_ANCHORS)
	_, err = nw.Mine(3)
	check(t, err)
	waitActive(t, a, point)
	waitActive(t, carol, point)

	// Payments both ways through the first leader; a second invoice of
	// the cluster's, made now, is paid only after the failover.
	ctx := t.Context()
	paidBefore := mustInvoice(t, a, 3_000)
	payBothWays(t, a, carol, point, 10_000, paidBefore)
	carried := mustInvoice(t, a, 7_000)

	before := channelOf(t, carol, point)
	leaderBefore := channelOf(t, a, point)
	walletBefore, err := a.Balance()
	check(t, err)
	identity := a.PubKey()
	checkStandby(t, b)

	// SIGKILL the leader: its lease runs out after the TTL and b leads,
	// unlocks the shared wallet with its password file, and reconnects
	// carol from the channel database it now reads from etcd.
	a.Kill()
	killed := time.Now()
	check(t, b.WaitActive())
	t.Logf("standby active %.1f s after the leader was killed (TTL %d s)",
		time.Since(killed).Seconds(), clusterTTL)
	if b.PubKey() != identity {
		t.Fatalf("standby's identity %s, want the cluster's %s", b.PubKey(), identity)
	}
	waitActive(t, b, point)
	waitActive(t, carol, point)
	after, leaderAfter := channelOf(t, carol, point), channelOf(t, b, point)
	if after.LocalBalance != before.LocalBalance || after.RemoteBalance != before.RemoteBalance ||
		leaderAfter.LocalBalance != leaderBefore.LocalBalance ||
		leaderAfter.RemoteBalance != leaderBefore.RemoteBalance ||
		after.NumUpdates != before.NumUpdates {
		t.Fatalf("balances moved across the failover: carol %d/%d -> %d/%d, leader %d/%d -> %d/%d",
			before.LocalBalance, before.RemoteBalance, after.LocalBalance, after.RemoteBalance,
			leaderBefore.LocalBalance, leaderBefore.RemoteBalance,
			leaderAfter.LocalBalance, leaderAfter.RemoteBalance)
	}
	if n := logCount(t, b, "Channel reestablished"); n < 1 {
		t.Fatal("the new leader did not reestablish the channel")
	}
	walletAfter, err := b.Balance()
	check(t, err)
	if walletAfter.ConfirmedBalance != walletBefore.ConfirmedBalance {
		t.Fatalf("wallet balance %d after failover, was %d", walletAfter.ConfirmedBalance,
			walletBefore.ConfirmedBalance)
	}

	// Payments go on both ways through the new leader, which pays from the
	// cluster's state in etcd, settles the invoice the old leader made and
	// lists the old leader's payment. Carol's side now holds exactly the
	// push and what the payments moved.
	payBothWays(t, b, carol, point, 20_000, carried)
	if got := channelOf(t, carol, point).LocalBalance; got != chanPush+10_000-3_000+20_000-7_000 {
		t.Fatalf("carol holds %d in the channel, not what the push and payments explain", got)
	}
	list, err := b.RPC.ListPayments(ctx, &lnrpc.ListPaymentsRequest{IncludeIncomplete: true})
	check(t, err)
	if len(list.Payments) != 2 || list.Payments[0].Status != lnrpc.Payment_SUCCEEDED ||
		list.Payments[0].ValueSat != 10_000 || list.Payments[1].Status != lnrpc.Payment_SUCCEEDED {
		t.Fatalf("the new leader lists payments %v, want the old leader's and its own", list.Payments)
	}
	walletAfter, err = b.Balance()
	check(t, err)
	if walletAfter.ConfirmedBalance != walletBefore.ConfirmedBalance {
		t.Fatalf("wallet balance %d after payments, was %d", walletAfter.ConfirmedBalance,
			walletBefore.ConfirmedBalance)
	}

	// The old leader comes back and waits.
	check(t, a.StartStandby())
	checkStandby(t, a)

	// The leader pauses (SIGSTOP) for longer than the TTL, as a stalled
	// machine would: a takes over. Resumed, b finds its lease gone and
	// stops; the fence keeps it from writing meanwhile.
	check(t, syscall.Kill(b.PID(), syscall.SIGSTOP))
	check(t, a.WaitActive())
	if a.PubKey() != identity {
		t.Fatalf("%s's identity %s, want %s", a.Name(), a.PubKey(), identity)
	}
	check(t, syscall.Kill(b.PID(), syscall.SIGCONT))
	st, err := b.WaitExit(harness.SyncTimeout)
	check(t, err)
	if st.Success() || logCount(t, b, "lost the cluster leadership") == 0 {
		t.Fatalf("deposed leader exited with %v, want an error naming the lost leadership", st)
	}

	// The cluster loses etcd for longer than the TTL: the leader must
	// stop rather than go on with state it can no longer persist (nor
	// keep exclusive); the standby waits for etcd and, once it is back,
	// takes over.
	check(t, b.StartStandby())
	checkStandby(t, b)
	srv.Stop()
	st, err = a.WaitExit(time.Duration(clusterTTL)*time.Second + harness.SyncTimeout)
	check(t, err)
	if st.Success() {
		t.Fatalf("leader cut off from etcd exited with %v, want an error", st)
	}
	if logCount(t, a, "lost the cluster leadership") == 0 {
		t.Fatal("the leader did not log why it stopped")
	}
	if !b.Running() {
		t.Fatal("the standby stopped with etcd")
	}
	srv.Restart()
	check(t, b.WaitActive())
	waitActive(t, b, point)
	waitActive(t, carol, point)

	// In the cluster's fourth term, after three leaders killed, paused
	// or cut off, the channel still pays both ways with exact balances.
	payBothWays(t, b, carol, point, 4_000, mustInvoice(t, b, 1_000))
}

// mustInvoice adds an invoice of amt sat to n.
func mustInvoice(t *testing.T, n *harness.Node, amt int64) *lnrpc.AddInvoiceResponse {
	t.Helper()
	inv, err := n.RPC.AddInvoice(t.Context(), &lnrpc.Invoice{Memo: "to the cluster", Value: amt})
	check(t, err)
	return inv
}

// TestEtcdBackendNode: a node with --db.backend=etcd and no cluster keeps
// its wallet and channel database in etcd (nothing in its data dir) across
// a restart; when etcd goes away at run time it stops; and with etcd
// unreachable it refuses to start, in one line.
func TestEtcdBackendNode(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	nw := harness.New(t)
	n := startNode(t, nw, "solo", "--db.backend=etcd", "--db.etcd.host="+srv.Endpoint(),
		"--db.etcd.disabletls", "--db.etcd.namespace=solo")
	check(t, nw.Fund(n, 1_000_000))
	check(t, n.Restart())
	bal, err := n.Balance()
	check(t, err)
	if bal.ConfirmedBalance != 1_000_000 {
		t.Fatalf("balance %d after restart, want 1000000", bal.ConfirmedBalance)
	}
	for _, f := range []string{"data/chain/bitcoin/regtest/wallet.db", "data/graph/regtest/channel.db"} {
		if _, err := os.Stat(filepath.Join(n.DataDir(), f)); !os.IsNotExist(err) {
			t.Errorf("%s exists on disk (%v): the store belongs in etcd", f, err)
		}
	}

	srv.Stop()
	st, err := n.WaitExit(harness.SyncTimeout)
	check(t, err)
	if st.Success() || logCount(t, n, "lost the connection to etcd") == 0 {
		t.Fatalf("node without etcd exited with %v, want an error naming the lost connection", st)
	}

	// Still no etcd: the node says so and exits.
	cmd := exec.Command(filepath.Join(nw.BinDir(), "xlnd"), n.Args()...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err = cmd.Run()
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if err == nil || len(lines) != 1 || !strings.Contains(lines[0], "--db.etcd.host") ||
		!strings.Contains(lines[0], "unreachable") {
		t.Fatalf("start without etcd: %v, stderr %q", err, stderr.String())
	}
	srv.Restart()
}
