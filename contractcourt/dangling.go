package contractcourt

import (
	"lnd.xprv/channeldb"
)

// Some HTLCs we offered have no output on the commitment that confirmed:
// trimmed as dust on it, or offered after it (on the other commitment, or
// the peer's next one, that did not confirm). The peer can never claim
// them on chain, so nothing on chain resolves them either: without a
// word from the court the HTLC upstream that each pays for would wait
// for its expiry, and the upstream peer would go to chain for it (BOLT 5
// has them failed back once the commitment is irrevocably confirmed).

// unclaimable returns the ids of the HTLCs we offered that rec's
// confirmed commitment can never pay the peer: on it without an output
// (dust), or on another commitment of ours with an id the confirmed one
// had not reached. An HTLC with a lower id missing from the confirmed
// commitment was removed in it (settled or failed off chain) and is left
// to that removal. A breach or a commitment we do not know returns none:
// the first pays us every HTLC, the second tells us nothing.
func unclaimable(rec *channeldb.ContractRecord) []uint64 {
	st := rec.Channel
	if st == nil || rec.CloseTx == nil {
		return nil
	}
	commits := []*channeldb.ChannelCommitment{&st.LocalCommit, &st.RemoteCommit}
	if st.PendingRemote != nil {
		commits = append(commits, &st.PendingRemote.Commitment)
	}
	txid := rec.CloseTx.TxHash()
	var confirmed *channeldb.ChannelCommitment
	for _, c := range commits {
		if c.TxID == txid {
			confirmed = c
		}
	}
	if confirmed == nil || rec.Kind == channeldb.ContractBreach {
		return nil
	}
	var ids []uint64
	seen := map[uint64]bool{}
	for _, h := range confirmed.HTLCs {
		if h.Incoming {
			continue
		}
		seen[h.ID] = true
		if h.OutputIndex < 0 {
			ids = append(ids, h.ID)
		}
	}
	for _, c := range commits {
		for _, h := range c.HTLCs {
			if h.Incoming || seen[h.ID] || h.ID < confirmed.LocalHtlcID {
				continue
			}
			seen[h.ID] = true
			ids = append(ids, h.ID)
		}
	}
	return ids
}

// handUnclaimable hands the unclaimable HTLCs of rec upstream. A failure
// is logged: the restart hands them again while the contract is not
// final, and the HTLC's own deadline still applies upstream.
func (c *Court) handUnclaimable(rec *channeldb.ContractRecord) {
	if c.cfg.OnUnclaimable == nil {
		return
	}
	ids := unclaimable(rec)
	if len(ids) == 0 {
		return
	}
	c.log.Info("HTLCs the confirmed commitment cannot pay: resolving them "+
		"upstream", "chan_point", rec.ChanPoint, "ids", ids)
	if err := c.cfg.OnUnclaimable(rec.ChanPoint, ids); err != nil {
		c.log.Error("Unclaimable HTLCs not handed upstream", "chan_point",
			rec.ChanPoint, "ids", ids, "err", err)
	}
}

// offeredHTLC returns the id of the HTLC we offered that pays to output
// o of rec's confirmed commitment; false if the commitment is not one we
// hold or no HTLC of ours has that output.
func offeredHTLC(rec *channeldb.ContractRecord, o *channeldb.ContractOutput) (uint64, bool) {
	st := rec.Channel
	if st == nil || rec.CloseTx == nil || o.OutPoint.Hash != rec.CloseTx.TxHash() {
		return 0, false
	}
	commits := []*channeldb.ChannelCommitment{&st.LocalCommit, &st.RemoteCommit}
	if st.PendingRemote != nil {
		commits = append(commits, &st.PendingRemote.Commitment)
	}
	txid := rec.CloseTx.TxHash()
	for _, c := range commits {
		if c.TxID != txid {
			continue
		}
		for _, h := range c.HTLCs {
			if !h.Incoming && h.OutputIndex >= 0 && uint32(h.OutputIndex) == o.OutPoint.Index {
				return h.ID, true
			}
		}
	}
	return 0, false
}
