//go:build unix

package lnwallet

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"lnd.xprv/channeldb"
	"lnd.xprv/lnwire"
)

// The crash test of the persist-then-send contract against real bbolt
// files: a child process (this test binary, re-executed) runs commitment
// rounds between two Channels, each persisting to its own channeldb file
// with fsync on, and reports on stdout every message it releases just
// before handing it over. The parent SIGKILLs it at random moments, then
// reopens both files and checks that (1) every reported message's state
// is on disk, and (2) the two channels, reconnected with
// channel_reestablish, converge to the same commitments: every crash left
// a state the protocol can resume from.

const crashEnv = "XLND_LNWALLET_CRASH_DIR"

var crashSpec = pairSpec{chanType: ChannelTypeAnchors, capacity: 10_000_000,
	pushMsat: 2_000_000_000, feeRate: 2500, seed: 77}

// crashNode is one side in the crash test.
type crashNode struct {
	name string
	p    *party
	db   *channeldb.DB
	ch   *Channel
}

// openCrashNodes opens (or creates) both sides' files in dir.
func openCrashNodes(t testing.TB, dir string, sync bool) [2]*crashNode {
	t.Helper()
	a, b, sa, sb := newStates(t, crashSpec)
	var nodes [2]*crashNode
	for i, init := range []*channeldb.OpenChannel{sa, sb} {
		var opts []channeldb.Option
		if !sync {
			opts = append(opts, channeldb.WithNoSync())
		}
		db, err := channeldb.Open(filepath.Join(dir,
			fmt.Sprintf("side%d.db", i)), opts...)
		if err != nil {
			t.Fatal(err)
		}
		st, err := db.FetchOpenChannel(init.FundingOutpoint)
		if errors.Is(err, channeldb.ErrChannelNotFound) {
			st = init
			err = db.PersistChannel(context.Background(),
				&channeldb.ChannelUpdate{State: init})
		}
		if err != nil {
			t.Fatal(err)
		}
		p := []*party{a, b}[i]
		ch, err := NewChannel(st, p.config())
		if err != nil {
			t.Fatal(err)
		}
		nodes[i] = &crashNode{name: "AB"[i : i+1], p: p, db: db, ch: ch}
	}
	return nodes
}

// crashLink moves messages between the two sides in process, reporting
// each released message through report before delivering it.
type crashLink struct {
	t      testing.TB
	nodes  [2]*crashNode
	report func(side int, msg lnwire.Message, ch *Channel)
}

// release persists p for side and sends what it releases.
func (l *crashLink) release(side int, p *Pending) {
	out, err := p.Persist(context.Background(), l.nodes[side].db)
	if err != nil {
		l.t.Fatalf("persist: %v", err)
	}
	l.send(side, out.Messages...)
}

// send reports and delivers msgs from side to the other side.
func (l *crashLink) send(side int, msgs ...lnwire.Message) {
	for _, m := range msgs {
		l.report(side, m, l.nodes[side].ch)
		l.deliver(1-side, m)
	}
}

// deliver hands msg to side, answering as a link would.
func (l *crashLink) deliver(side int, msg lnwire.Message) {
	ch := l.nodes[side].ch
	var (
		p   *Pending
		err error
	)
	switch m := msg.(type) {
	case *lnwire.UpdateAddHTLC:
		err = ch.ReceiveHTLC(m)
	case *lnwire.UpdateFulfillHTLC:
		err = ch.ReceiveHTLCSettle(m)
	case *lnwire.CommitSig:
		if err = ch.ReceiveNewCommitment(m); err == nil {
			p, err = ch.RevokeCurrentCommitment()
		}
	case *lnwire.RevokeAndAck:
		p, err = ch.ReceiveRevocation(m)
	default:
		err = fmt.Errorf("unexpected %v", msg.MsgType())
	}
	if err != nil {
		l.t.Fatalf("side %d receiving %v: %v", side, msg.MsgType(), err)
	}
	if p != nil {
		l.release(side, p)
	}
}

// reestablish reconnects the two sides.
func (l *crashLink) reestablish() {
	var re [2]*lnwire.ChannelReestablish
	for i, n := range l.nodes {
		m, err := n.ch.ChannelReestablish()
		if err != nil {
			l.t.Fatal(err)
		}
		re[i] = m
	}
	var retrans [2][]lnwire.Message
	for i, n := range l.nodes {
		msgs, err := n.ch.ReceiveReestablish(re[1-i])
		if err != nil {
			l.t.Fatalf("side %d reestablish: %v", i, err)
		}
		retrans[i] = msgs
	}
	for i := range retrans {
		l.send(i, retrans[i]...)
	}
}

// sign has side sign if it has anything to sign.
func (l *crashLink) sign(side int) {
	p, err := l.nodes[side].ch.SignNextCommitment()
	if err != nil {
		if expectedRefusal(err) {
			return
		}
		l.t.Fatal(err)
	}
	l.release(side, p)
}

// round runs one step of traffic: A pays B, B settles what is locked in
// every other step, both sign.
func (l *crashLink) round(i int, r *rand.Rand) {
	a, b := l.nodes[0].ch, l.nodes[1].ch
	n := uint64(r.Intn(1_000_000))
	_, hash := htlcPreimage(n)
	add, err := a.AddHTLC(&lnwire.UpdateAddHTLC{
		Amount: 50_000, PaymentHash: hash, Expiry: 1000 + uint32(n)})
	if err == nil {
		l.send(0, add)
	} else if !expectedRefusal(err) {
		l.t.Fatal(err)
	}
	if i%2 == 1 {
		for _, id := range removable(b) {
			h := b.st.LocalCommit.HTLCs[findHTLC(b.st.LocalCommit.HTLCs,
				id, true)]
			pre, _ := htlcPreimage(uint64(h.CltvExpiry - 1000))
			s, err := b.SettleHTLC(id, pre)
			if err != nil {
				if expectedRefusal(err) {
					continue
				}
				l.t.Fatal(err)
			}
			l.send(1, s)
		}
	}
	l.sign(0)
	l.sign(1)
}

// crashClaim is what a reported message says is on disk.
func crashClaim(msg lnwire.Message, ch *Channel) string {
	switch m := msg.(type) {
	case *lnwire.CommitSig:
		return fmt.Sprintf("signed %d", ch.latestRemote().Number)
	case *lnwire.RevokeAndAck:
		_ = m
		return fmt.Sprintf("revoked %d", ch.st.LocalCommit.Number-1)
	}
	return ""
}

func TestCrashDuringCommitmentRounds(t *testing.T) {
	if dir := os.Getenv(crashEnv); dir != "" {
		crashChild(t, dir)
		return
	}
	dir := t.TempDir()
	r := rand.New(rand.NewSource(time.Now().UnixNano()))
	total := 0
	for kill := 0; kill < 6; kill++ {
		claims := runCrashChild(t, dir,
			time.Duration(50+r.Intn(400))*time.Millisecond)
		total += len(claims)
		checkCrashState(t, dir, claims)
	}
	if total == 0 {
		t.Fatal("the child never released a commitment message")
	}
	t.Logf("%d commitment messages released across 6 kills", total)
}

// crashChild runs rounds until killed.
func crashChild(t *testing.T, dir string) {
	nodes := openCrashNodes(t, dir, true)
	out := bufio.NewWriter(os.Stdout)
	link := &crashLink{t: t, nodes: nodes,
		report: func(side int, msg lnwire.Message, ch *Channel) {
			if c := crashClaim(msg, ch); c != "" {
				fmt.Fprintf(out, "%d %s\n", side, c)
				out.Flush()
			}
		}}
	link.reestablish()
	r := rand.New(rand.NewSource(time.Now().UnixNano()))
	for i := 0; ; i++ {
		link.round(i, r)
	}
}

// runCrashChild runs the child for about d after its first report,
// SIGKILLs it and returns its reports.
func runCrashChild(t *testing.T, dir string, d time.Duration) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0],
		"-test.run=^TestCrashDuringCommitmentRounds$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+dir)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var claims []string
	timer := time.NewTimer(30 * time.Second)
	killed := false
	for line := range lines {
		if strings.HasPrefix(line, "0 ") || strings.HasPrefix(line, "1 ") {
			claims = append(claims, line)
		}
		if len(claims) == 1 {
			timer.Reset(d)
		}
		select {
		case <-timer.C:
			cmd.Process.Signal(syscall.SIGKILL)
			killed = true
		default:
		}
		if killed {
			break
		}
	}
	if !killed {
		cmd.Process.Signal(syscall.SIGKILL)
	}
	for line := range lines {
		if strings.HasPrefix(line, "0 ") || strings.HasPrefix(line, "1 ") {
			claims = append(claims, line)
		}
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("child ended on its own: %v", err)
	}
	return claims
}

// checkCrashState reopens both files after a kill and checks the claims
// and that the channel resumes.
func checkCrashState(t *testing.T, dir string, claims []string) {
	t.Helper()
	nodes := openCrashNodes(t, dir, false)
	defer func() {
		for _, n := range nodes {
			n.db.Close()
		}
	}()
	for _, c := range claims {
		f := strings.Fields(c)
		side, _ := strconv.Atoi(f[0])
		n, _ := strconv.ParseUint(f[2], 10, 64)
		st := nodes[side].ch.st
		switch f[1] {
		case "signed":
			if got := nodes[side].ch.latestRemote().Number; got < n {
				t.Fatalf("side %d sent commitment_signed for %d, "+
					"disk holds %d", side, n, got)
			}
		case "revoked":
			if st.LocalCommit.Number < n+1 {
				t.Fatalf("side %d sent revoke_and_ack for %d, disk "+
					"holds commitment %d", side, n,
					st.LocalCommit.Number)
			}
		}
	}
	// The two reconnect and finish every round in flight: they must
	// end on the same commitments.
	link := &crashLink{t: t, nodes: nodes,
		report: func(int, lnwire.Message, *Channel) {}}
	link.reestablish()
	for i := 0; i < 4; i++ {
		link.sign(0)
		link.sign(1)
	}
	for owner := 0; owner < 2; owner++ {
		own, other := nodes[owner].ch.st, nodes[1-owner].ch.st
		if err := mirrored(&own.LocalCommit, &other.RemoteCommit); err != nil {
			t.Fatalf("after reconnection: %v", err)
		}
		if own.LocalCommit.TxID != other.RemoteCommit.TxID {
			t.Fatal("after reconnection: commitment txids differ")
		}
	}
}
