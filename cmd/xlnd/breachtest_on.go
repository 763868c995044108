//go:build breachtest

package main

// This file is compiled only with -tags breachtest, into the test binary
// xlnd-breach, never into the release xlnd: it lets an integration test
// make a node cheat, so that breaches are real transactions on a real
// chain. The test drives it through files in <datadir>/breachtest/:
//
//   - save: every open channel's current commitment, signed, is written
//     to <txid>.hex (one per channel), then save is removed;
//   - send: a JSON request for an HTLC over a channel to its peer (a
//     one-hop onion to a hold invoice of the peer, which keeps it in
//     flight), sent through the switch, then send is removed.

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"

	"lnd.xprv/funding"
	"lnd.xprv/lnwire"
	"lnd.xprv/sphinx"
)

// breachSend is the content of the send file.
type breachSend struct {
	ChanPoint   string `json:"chan_point"`
	AmtMsat     uint64 `json:"amt_msat"`
	PaymentHash string `json:"payment_hash"`
	PaymentAddr string `json:"payment_addr"`
	Expiry      uint32 `json:"expiry"`
	AttemptID   uint64 `json:"attempt_id"`
}

func (d *daemon) startBreachHook() func() {
	dir := filepath.Join(d.cfg.DataDir, "breachtest")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		d.log.Error("breachtest hook", "err", err)
		return func() {}
	}
	d.log.Warn("breachtest build: this node can be made to cheat; never use it with real funds")
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
			}
			if _, err := os.Stat(filepath.Join(dir, "save")); err == nil {
				if err := d.breachSave(dir); err != nil {
					d.log.Error("breachtest save", "err", err)
				}
				os.Remove(filepath.Join(dir, "save"))
			}
			if b, err := os.ReadFile(filepath.Join(dir, "send")); err == nil {
				if err := d.breachSend(b); err != nil {
					d.log.Error("breachtest send", "err", err)
				}
				os.Remove(filepath.Join(dir, "send"))
			}
		}
	}()
	return func() { close(quit); <-done }
}

// breachSave writes every open channel's signed commitment.
func (d *daemon) breachSave(dir string) error {
	open, err := d.chanDB.ListOpenChannels()
	if err != nil {
		return err
	}
	for _, st := range open {
		ch, err := funding.NewChannel(d.wallet, st)
		if err != nil {
			return err
		}
		tx, err := ch.LocalCommitTx()
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := tx.Serialize(&buf); err != nil {
			return err
		}
		path := filepath.Join(dir, tx.TxHash().String()+".hex")
		if err := os.WriteFile(path, []byte(hex.EncodeToString(buf.Bytes())), 0o600); err != nil {
			return err
		}
		d.log.Warn("breachtest: commitment saved", "chan_point", st.FundingOutpoint,
			"number", st.LocalCommit.Number, "htlcs", len(st.LocalCommit.HTLCs),
			"txid", tx.TxHash())
	}
	return nil
}

// breachSend sends one HTLC to the peer of a channel.
func (d *daemon) breachSend(b []byte) error {
	var req breachSend
	if err := json.Unmarshal(b, &req); err != nil {
		return err
	}
	open, err := d.chanDB.ListOpenChannels()
	if err != nil {
		return err
	}
	for _, st := range open {
		if st.FundingOutpoint.String() != req.ChanPoint {
			continue
		}
		var hash, addr [32]byte
		if err := decode32(req.PaymentHash, &hash); err != nil {
			return err
		}
		if err := decode32(req.PaymentAddr, &addr); err != nil {
			return err
		}
		payload, err := (&sphinx.HopPayload{AmtToForward: req.AmtMsat,
			OutgoingCLTV: req.Expiry, PaymentData: &sphinx.PaymentData{
				PaymentSecret: addr, TotalMsat: req.AmtMsat}}).Encode()
		if err != nil {
			return err
		}
		session, err := btcec.NewPrivateKey()
		if err != nil {
			return err
		}
		onion, err := sphinx.NewOnionPacket([]sphinx.Hop{{PubKey: st.RemoteNode,
			Payload: payload}}, session, hash[:])
		if err != nil {
			return err
		}
		add := &lnwire.UpdateAddHTLC{Amount: lnwire.MilliSatoshi(req.AmtMsat),
			PaymentHash: hash, Expiry: req.Expiry}
		copy(add.OnionBlob[:], onion.Bytes())
		if req.AttemptID == 0 {
			var r [7]byte
			_, _ = rand.Read(r[:])
			for _, x := range r {
				req.AttemptID = req.AttemptID<<8 | uint64(x)
			}
		}
		d.log.Warn("breachtest: sending HTLC", "chan_point", st.FundingOutpoint,
			"amt_msat", req.AmtMsat)
		return d.sw.SendHTLC(st.ShortChannelID, req.AttemptID, add)
	}
	return errors.New("no such open channel")
}

func decode32(s string, out *[32]byte) error {
	b, err := hex.DecodeString(s)
	if err != nil {
		return err
	}
	if len(b) != 32 {
		return errors.New("want 32 bytes")
	}
	copy(out[:], b)
	return nil
}
