//go:build unix

package channeldb

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwire"
)

const crashDirEnv = "XLND_CHANNELDB_CRASH_DIR"

var crashChan = []byte("crash-test-channel")

// crashRound writes round i: several stores in one transaction, a few KB,
// like one commitment round of a forwarding node.
func crashRound(tx kvdb.RwTx, i uint64) error {
	if err := AppendRevocationLog(tx, crashChan, sampleRevLog(i, 3)); err != nil {
		return err
	}
	c := sampleCircuit()
	c.Incoming.HtlcID, c.Outgoing.HtlcID = i, i
	if err := PutCircuit(tx, c); err != nil {
		return err
	}
	p := sampleFwdPkg()
	p.Height = i
	for j := range p.Adds {
		add := p.Adds[j].Msg.(*lnwire.UpdateAddHTLC)
		add.OnionBlob[0], add.OnionBlob[1365] = byte(i), byte(i>>8)
	}
	if err := PutFwdPkg(tx, p); err != nil {
		return err
	}
	n := sampleLinkNode()
	n.LastSeen = time.Unix(int64(i), 0)
	return PutLinkNode(tx, n)
}

// checkRound fails unless every record of round i is there and whole.
func checkRound(tx kvdb.RTx, i uint64) error {
	if _, err := FetchRevocationLog(tx, crashChan, i); err != nil {
		return err
	}
	c := sampleCircuit()
	if _, err := FetchCircuitByOutgoing(tx, CircuitKey{ChanID: c.Outgoing.ChanID, HtlcID: i}); err != nil {
		return err
	}
	p, err := FetchFwdPkg(tx, sampleFwdPkg().Source, i)
	if err != nil {
		return err
	}
	if add := p.Adds[1].Msg.(*lnwire.UpdateAddHTLC); add.OnionBlob[0] != byte(i) || add.OnionBlob[1365] != byte(i>>8) {
		return fmt.Errorf("round %d: forwarding package holds another round's onion", i)
	}
	return nil
}

// TestCrashDuringWrites runs rounds of writes in a child process, fsync
// on, and SIGKILLs it at random moments, several times over the same
// file. After each kill the file must pass bbolt's consistency check,
// hold every round whose Update had returned (the child reports each on
// its stdout), hold rounds only as a gap-free prefix (at most one more
// than reported: killed between commit and report), and every round
// whole. SIGKILL tests a process crash, not a power cut: the kernel keeps
// what was written.
func TestCrashDuringWrites(t *testing.T) {
	if dir := os.Getenv(crashDirEnv); dir != "" {
		crashWriter(t, dir)
		return
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "channel.db")
	seed := uint64(time.Now().UnixNano())
	t.Logf("kill times from seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	var last uint64
	for kill := 0; kill < 8; kill++ {
		acked := runAndKill(t, dir, time.Duration(20+rng.IntN(300))*time.Millisecond)
		if acked < last {
			t.Fatalf("kill %d: child acknowledged %d, below the %d already stored", kill, acked, last)
		}
		checkBolt(t, path)
		db, err := Open(path, WithNoSync())
		if err != nil {
			t.Fatalf("kill %d: reopen: %v", kill, err)
		}
		var stored uint64
		err = db.View(func(tx kvdb.RTx) error {
			var want uint64 = 1
			err := ForEachRevocationLog(tx, crashChan, func(e *RevocationLogEntry) error {
				if e.CommitNum != want {
					return fmt.Errorf("round %d stored after round %d", e.CommitNum, want-1)
				}
				want++
				return checkRound(tx, e.CommitNum)
			})
			stored = want - 1
			if err != nil {
				return err
			}
			n, err := FetchLinkNode(tx, sampleLinkNode().IdentityPub)
			if stored > 0 && (err != nil || n.LastSeen.Unix() != int64(stored)) {
				return fmt.Errorf("link node of round %d: %+v, %v", stored, n, err)
			}
			return nil
		})
		db.Close()
		if err != nil {
			t.Fatalf("kill %d: %v", kill, err)
		}
		if stored < acked || stored > acked+1 {
			t.Fatalf("kill %d: %d rounds stored, child acknowledged %d", kill, stored, acked)
		}
		t.Logf("kill %d: %d rounds acknowledged, %d stored", kill, acked, stored)
		last = stored
	}
	if last == 0 {
		t.Fatal("no round was ever written")
	}
}

// runAndKill starts the writer and SIGKILLs it after d, returning the
// last round it reported done.
func runAndKill(t *testing.T, dir string, d time.Duration) uint64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashDuringWrites$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acks := make(chan uint64)
	go func() {
		defer close(acks)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if n, err := strconv.ParseUint(sc.Text(), 10, 64); err == nil {
				acks <- n
			}
		}
		io.Copy(io.Discard, out)
	}()
	var acked uint64
	// Wait for the first round, so the kill lands amid writes rather
	// than during start-up, then give it d more.
	if n, ok := <-acks; ok {
		acked = n
	}
	deadline := time.After(d)
wait:
	for {
		select {
		case n, ok := <-acks:
			if !ok {
				break wait
			}
			acked = n
		case <-deadline:
			break wait
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill: %v", err)
	}
	for n := range acks {
		acked = n // reports that were in the pipe when it died
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("writer ended on its own: %v", err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("writer ended with %v, want SIGKILL", err)
	}
	return acked
}

// crashWriter is the child: it continues after the last stored round
// and reports each on stdout once its Update returned.
func crashWriter(t *testing.T, dir string) {
	db, err := Open(filepath.Join(dir, "channel.db"))
	if err != nil {
		t.Fatal(err)
	}
	var next uint64 = 1
	err = db.View(func(tx kvdb.RTx) error {
		return ForEachRevocationLog(tx, crashChan, func(e *RevocationLogEntry) error {
			next = e.CommitNum + 1
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := next; ; i++ {
		if err := db.Update(func(tx kvdb.RwTx) error { return crashRound(tx, i) }); err != nil {
			t.Fatal(err)
		}
		fmt.Println(i)
	}
}

// checkBolt runs bbolt's own consistency check over the file: pages,
// freelist, ordering.
func checkBolt(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, PreLoadFreelist: true})
	if err != nil {
		t.Fatalf("bbolt open after kill: %v", err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatalf("bbolt check after kill: %v", err)
	}
}
