package regtest

import (
	"os/exec"
	"syscall"
)

// setProcAttr has the kernel kill btcd if the process that started it dies
// without cleaning up (a test binary killed on timeout), so no btcd
// outlives its test; and puts btcd in its own process group, so a Ctrl-C
// at the terminal reaches the program that owns it (the demo), which
// stops it in order, rather than btcd itself.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}
