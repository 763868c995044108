//go:build !linux

package main

import "os/exec"

// setProcAttr does nothing here: lnd is stopped at the tool's exit.
func setProcAttr(*exec.Cmd) {}
