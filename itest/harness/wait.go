package harness

import (
	"errors"
	"fmt"
	"time"
)

// ErrTimeout: a condition did not hold before its deadline.
var ErrTimeout = errors.New("timed out")

// WaitFor calls cond until it returns nil or timeout passes, and returns
// the last error cond gave, wrapped in ErrTimeout.
func WaitFor(cond func() error, timeout time.Duration) error {
	return poll(time.Now().Add(timeout), func() (bool, error) {
		return false, cond()
	})
}

// poll calls check until it returns a nil error or stop, backing off from
// 10 ms to 250 ms between calls. On deadline it wraps the last error.
func poll(deadline time.Time, check func() (stop bool, err error)) error {
	delay := 10 * time.Millisecond
	for {
		stop, err := check()
		if err == nil || stop {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: %w", ErrTimeout, err)
		}
		time.Sleep(delay)
		delay = min(delay*2, 250*time.Millisecond)
	}
}
