package harness

import (
	"os/exec"
	"syscall"
)

// setProcAttr has the kernel kill xlnd if the process that started it dies
// without cleaning up (a test killed on timeout), so no node outlives it;
// and puts xlnd in a process group of its own, so a Ctrl-C at the terminal
// reaches the harness (which stops the node with StopDaemon) and not the
// node directly.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}
