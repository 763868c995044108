package regtest

import (
	"os/exec"
	"syscall"
)

// setProcAttr has the kernel kill btcd if the process that started it dies
// without cleaning up (a test binary killed on timeout), so no btcd
// outlives its test.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
