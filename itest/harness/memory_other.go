//go:build !linux

package harness

import "errors"

// ResidentMemory is the running process's resident set size in bytes;
// only Linux is supported.
func (n *Node) ResidentMemory() (int64, error) {
	return 0, errors.New("harness: resident memory is read from /proc (Linux only)")
}
