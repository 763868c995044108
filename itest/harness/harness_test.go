package harness

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestWaitFor(t *testing.T) {
	calls := 0
	err := WaitFor(func() error {
		calls++
		if calls < 3 {
			return errors.New("not yet")
		}
		return nil
	}, time.Minute)
	if err != nil || calls != 3 {
		t.Fatalf("WaitFor: %v after %d calls, want nil after 3", err, calls)
	}

	cause := errors.New("never")
	err = WaitFor(func() error { return cause }, 50*time.Millisecond)
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, cause) {
		t.Fatalf("WaitFor on a condition that never holds: %v", err)
	}
}

func TestTail(t *testing.T) {
	tests := []struct {
		in    string
		lines int
		want  string
	}{
		{"a\nb\nc\n", 2, "b\nc"},
		{"a\nb\nc", 5, "a\nb\nc"},
		{"", 3, ""},
	}
	for _, tc := range tests {
		if got := tail(tc.in, tc.lines); got != tc.want {
			t.Errorf("tail(%q, %d) = %q, want %q", tc.in, tc.lines, got, tc.want)
		}
	}
}

// helperEnv makes TestFailedTestKeepsFiles act as the failing test it
// checks, in a child process.
const helperEnv = "XLND_HARNESS_FAILING_CHILD"

// TestFailedTestKeepsFiles runs a test that starts a node and fails, in a
// child process, and checks what the harness promises for failed tests:
// every process is gone, the directory is kept and named, and each node's
// log tail is printed.
func TestFailedTestKeepsFiles(t *testing.T) {
	if os.Getenv(helperEnv) != "" {
		nw := New(t)
		alice, err := nw.NewNode("alice")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("alice pid %d", alice.PID())
		t.Fatal("deliberate failure")
	}
	if testing.Short() {
		t.Skip("itest: starts btcd and xlnd processes; not run with -short")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFailedTestKeepsFiles$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("the failing child test did not fail: %v\n%s", err, out)
	}
	text := string(out)

	dirMatch := regexp.MustCompile(`every file is kept in (\S+)`).FindStringSubmatch(text)
	if dirMatch == nil {
		t.Fatalf("the failed test did not name its directory:\n%s", text)
	}
	dir := dirMatch[1]
	defer os.RemoveAll(dir)
	for _, f := range []string{"alice/xlnd.out", "alice/tls.cert", "btcd/btcd.out"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("kept directory lacks %s: %v", f, err)
		}
	}
	if !strings.Contains(text, "last 60 lines of alice's output") || !strings.Contains(text, "==== harness: alice starting") {
		t.Errorf("the failed test did not print alice's log tail:\n%s", text)
	}

	// Cleanup stopped the node itself, before the child exited.
	if !strings.Contains(text, "alice: stopped (StopDaemon): exit status 0") {
		t.Errorf("cleanup did not stop alice with StopDaemon:\n%s", text)
	}
	pidMatch := regexp.MustCompile(`alice pid (\d+)`).FindStringSubmatch(text)
	if pidMatch == nil {
		t.Fatalf("no pid in:\n%s", text)
	}
	pid, _ := strconv.Atoi(pidMatch[1])
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("xlnd pid %d after the failed test: kill 0 gave %v, want ESRCH", pid, err)
	}
}
