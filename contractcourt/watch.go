package contractcourt

import (
	"lnd.xprv/chain"
)

// At start the court watches every open channel's funding output and the
// outputs of every unresolved contract: a node with 1,000 channels
// registers 1,000 spends at once. Each registration asks the backend
// whether the output is spent already (and searches the blocks since its
// hint if so); made one by one that is 1,000 round trips to btcd in a
// row. Start collects them instead and registers them in one batch when
// the backend can (chain.SpendBatcher): the same answers, one search.

// spendWatch is a spend registration start makes in its batch: done
// takes the event, fail the error if there is none.
type spendWatch struct {
	req  chain.SpendRequest
	done func(*chain.SpendEvent)
	fail func(error)
}

// registerSpend registers q now, or adds it to start's batch. Nothing
// between the two drops a registration start collected (unclose, the
// one unwatch a resume does, comes before its contract's watches).
func (c *Court) registerSpend(q chain.SpendRequest, done func(*chain.SpendEvent),
	fail func(error)) {

	if c.batch != nil {
		*c.batch = append(*c.batch, &spendWatch{req: q, done: done, fail: fail})
		return
	}
	ev, err := c.cfg.Notifier.RegisterSpend(q.OutPoint, q.PkScript, q.HeightHint)
	if err != nil {
		fail(err)
		return
	}
	done(ev)
}

// registerBatch makes the registrations start collected: in one batch
// if the backend can, else one by one.
func (c *Court) registerBatch(ws []*spendWatch) {
	if len(ws) == 0 {
		return
	}
	sb, ok := c.cfg.Notifier.(chain.SpendBatcher)
	if !ok {
		for _, w := range ws {
			ev, err := c.cfg.Notifier.RegisterSpend(w.req.OutPoint,
				w.req.PkScript, w.req.HeightHint)
			if err != nil {
				w.fail(err)
				continue
			}
			w.done(ev)
		}
		return
	}
	reqs := make([]chain.SpendRequest, len(ws))
	for i, w := range ws {
		reqs[i] = w.req
	}
	evs, err := sb.RegisterSpends(reqs)
	for i, w := range ws {
		if i < len(evs) && evs[i] != nil {
			w.done(evs[i])
			continue
		}
		w.fail(err)
	}
}
