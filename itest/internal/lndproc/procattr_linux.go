package lndproc

import (
	"os/exec"
	"syscall"
)

// setProcAttr has lnd die with the tool.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
