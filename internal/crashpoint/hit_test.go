package crashpoint

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// helperEnv marks the re-executed test binary that calls Hit.
const helperEnv = "XLND_CRASHPOINT_HELPER"

// TestHelperProcess is the child of TestHit: it hits a point, then
// prints what a surviving process would.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		return
	}
	defer os.Stdout.WriteString("deferred code ran\n")
	Hit(FundingOpen)
	os.Stdout.WriteString("survived the point\n")
}

// TestHit: with XLND_CRASHPOINT naming the point, a crashpoint build
// dies by SIGKILL at it, before deferred code; a normal build, or a
// crashpoint build told another point, goes on.
func TestHit(t *testing.T) {
	run := func(point string) (string, *os.ProcessState) {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run", "^TestHelperProcess$", "-test.v")
		cmd.Env = append(os.Environ(), helperEnv+"=1", EnvVar+"="+point)
		out, _ := cmd.CombinedOutput()
		return string(out), cmd.ProcessState
	}
	out, st := run(string(FundingOpen))
	killed := false
	if ws, ok := st.Sys().(syscall.WaitStatus); ok {
		killed = ws.Signaled() && ws.Signal() == syscall.SIGKILL
	}
	switch {
	case Enabled && !killed:
		t.Fatalf("crashpoint build not killed at its point: %v\n%s", st, out)
	case Enabled && !strings.Contains(out, Marker+string(FundingOpen)):
		t.Fatalf("no marker line before the kill:\n%s", out)
	case Enabled && (strings.Contains(out, "deferred") || strings.Contains(out, "survived")):
		t.Fatalf("code ran after the point:\n%s", out)
	case !Enabled && (killed || !strings.Contains(out, "survived the point")):
		t.Fatalf("normal build stopped at a point: %v\n%s", st, out)
	}

	out, st = run(string(FundingCreated))
	if !st.Success() || !strings.Contains(out, "deferred code ran") {
		t.Fatalf("process told another point did not go on: %v\n%s", st, out)
	}
}
