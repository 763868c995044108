package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// shape is one measured topology: payer pays invoices of payee.
type shape struct {
	name   string
	payer  *restNode
	payee  *restNode
	amtSat int64
	hints  bool // invoices carry route hints (the payee's private channel)
}

// result is one run of the load.
type result struct {
	impl, shape string
	n, c        int
	ok, failed  int
	elapsed     time.Duration
	latencies   []time.Duration // of the payments that succeeded
	ends        []time.Duration // when each success ended, from the start
	firstErr    error
	cpu         []nodeCPU // of the tool and each node over the load
}

// settledWithin is how many payments succeeded in the first d of the
// run: the payments a CPU profile of that window paid for.
func (r *result) settledWithin(d time.Duration) int {
	n := 0
	for _, e := range r.ends {
		if e <= d {
			n++
		}
	}
	return n
}

func (r *result) perSecond() float64 {
	return float64(r.ok) / r.elapsed.Seconds()
}

// quantile is the q-th latency (0..1) of the successful payments.
func (r *result) quantile(q float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	i := int(q * float64(len(r.latencies)-1))
	return r.latencies[i]
}

// payOne has the payee issue an invoice (POST /v1/invoices) and the
// payer pay it (POST /v2/router/send, streamed until the payment is
// final), as an app does. The latency is the payment's: from the send
// to its final status.
func payOne(ctx context.Context, s shape, timeout time.Duration) (time.Duration, error) {
	var inv struct {
		PaymentRequest string `json:"payment_request"`
	}
	err := s.payee.do(ctx, "POST", "/v1/invoices", invoiceBody(s.amtSat, s.hints), &inv)
	if err != nil {
		return 0, err
	}
	if inv.PaymentRequest == "" {
		return 0, errors.New("invoice without payment_request")
	}
	start := time.Now()
	req := sendBody(inv.PaymentRequest, timeout)
	var final string
	var reason string
	err = s.payer.stream(ctx, "POST", "/v2/router/send", req, func(line []byte) (bool, error) {
		msg, err := parseUpdate(line)
		if err != nil {
			return true, err
		}
		if msg.Error != nil {
			return true, fmt.Errorf("send: %s", msg.Error.Message)
		}
		if msg.Result == nil {
			return false, nil
		}
		switch msg.Result.Status {
		case "SUCCEEDED", "FAILED":
			final, reason = msg.Result.Status, msg.Result.FailureReason
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		return 0, err
	}
	if final != "SUCCEEDED" {
		return 0, fmt.Errorf("payment %s: %s", final, reason)
	}
	return time.Since(start), nil
}

// invoiceBody is the JSON of the invoice request: what json.Marshal
// makes of the map {"value": amt as a string, "private": hints}, written
// without the map and reflection.
func invoiceBody(amtSat int64, hints bool) []byte {
	b := make([]byte, 0, 48)
	b = append(b, `{"private":`...)
	b = strconv.AppendBool(b, hints)
	b = append(b, `,"value":"`...)
	b = strconv.AppendInt(b, amtSat, 10)
	return append(b, `"}`...)
}

// sendBody is the JSON of the send request: what json.Marshal makes of
// the map {"payment_request": payReq, "timeout_seconds": the timeout's
// whole seconds, "fee_limit_sat": "100"}. A payment request is bech32,
// written as it is; one with any other byte goes through json.Marshal.
func sendBody(payReq string, timeout time.Duration) []byte {
	secs := int(timeout.Seconds())
	for i := 0; i < len(payReq); i++ {
		if c := payReq[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || 'A' <= c && c <= 'Z') {
			b, _ := json.Marshal(map[string]any{
				"payment_request": payReq,
				"timeout_seconds": secs,
				"fee_limit_sat":   "100",
			})
			return b
		}
	}
	b := make([]byte, 0, len(payReq)+80)
	b = append(b, `{"fee_limit_sat":"100","payment_request":"`...)
	b = append(b, payReq...)
	b = append(b, `","timeout_seconds":`...)
	b = strconv.AppendInt(b, int64(secs), 10)
	return append(b, '}')
}

// runLoad makes n payments with c concurrent payers and measures them.
// Failed payments count against the rate: it is successes per second of
// the whole run.
func runLoad(ctx context.Context, impl string, s shape, n, c int,
	timeout time.Duration) *result {

	r := &result{impl: impl, shape: s.name, n: n, c: c}
	var (
		next atomic.Int64
		mu   sync.Mutex
		wg   sync.WaitGroup
	)
	start := time.Now()
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) && ctx.Err() == nil {
				pctx, cancel := context.WithTimeout(ctx, timeout+30*time.Second)
				lat, err := payOne(pctx, s, timeout)
				cancel()
				mu.Lock()
				if err != nil {
					r.failed++
					if r.firstErr == nil {
						r.firstErr = err
					}
				} else {
					r.ok++
					r.latencies = append(r.latencies, lat)
					r.ends = append(r.ends, time.Since(start))
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	r.elapsed = time.Since(start)
	slices.Sort(r.latencies)
	return r
}
