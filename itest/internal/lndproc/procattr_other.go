//go:build !linux

package lndproc

import "os/exec"

// setProcAttr does nothing here: lnd is stopped at the tool's exit.
func setProcAttr(*exec.Cmd) {}
