//go:build !breachtest

package main

// startBreachHook does nothing in a release build; see breachtest_on.go.
func (d *daemon) startBreachHook() func() { return func() {} }
