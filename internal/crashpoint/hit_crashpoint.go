//go:build crashpoint

package crashpoint

import (
	"os"
	"syscall"
)

// Enabled reports whether this build has crash points (the crashpoint
// tag).
const Enabled = true

// Hit kills the process with SIGKILL if p is the point XLND_CRASHPOINT
// names. The environment is read at every call: a crash build is for
// tests, and this keeps no state.
func Hit(p Point) {
	if os.Getenv(EnvVar) != string(p) {
		return
	}
	os.Stderr.WriteString(Marker + string(p) + "\n")
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	// The signal is delivered before the kill returns on Linux; should
	// it not be, nothing after this point may run.
	select {}
}
