package funding

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwallet"
	"lnd.xprv/lnwire"
)

const (
	testCap  = 1_000_000
	testPush = 100_000_000 // msat
)

func msgTypes(es []envelope) []lnwire.MessageType {
	var out []lnwire.MessageType
	for _, e := range es {
		out = append(out, e.msg.MsgType())
	}
	return out
}

func expectTypes(t *testing.T, es []envelope, want ...lnwire.MessageType) {
	t.Helper()
	got := msgTypes(es)
	if len(got) != len(want) {
		t.Fatalf("messages %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("messages %v, want %v", got, want)
		}
	}
}

func nextUpdate(t *testing.T, ch <-chan Update) Update {
	t.Helper()
	var u Update
	waitFor(t, "an update", func() bool {
		select {
		case u = <-ch:
			return true
		default:
			return false
		}
	})
	return u
}

func queued(net *network) int {
	net.mu.Lock()
	defer net.mu.Unlock()
	return len(net.queue)
}

// openToBroadcast runs an opening from a to b up to the broadcast of the
// funding transaction.
func openToBroadcast(t *testing.T, net *network, a, b *node,
	ct *lnwallet.ChannelType) (<-chan Update, *wire.MsgTx) {

	t.Helper()
	upd, _, err := a.m.OpenChannel(context.Background(), OpenRequest{
		Peer: b.pub(), LocalAmt: testCap, PushMsat: testPush, ChannelType: ct})
	if err != nil {
		t.Fatal(err)
	}
	expectTypes(t, net.pump(), lnwire.MsgOpenChannel, lnwire.MsgAcceptChannel,
		lnwire.MsgFundingCreated, lnwire.MsgFundingSigned)
	u := nextUpdate(t, upd)
	if u.Pending == nil {
		t.Fatalf("update %+v, want pending", u)
	}
	tx := a.w.lastPublished()
	if tx == nil || tx.TxHash() != u.Pending.ChanPoint.Hash {
		t.Fatal("funding transaction not broadcast")
	}
	return upd, tx
}

// confirmAndReady confirms the funding transaction and exchanges
// channel_ready; it returns both channels.
func confirmAndReady(t *testing.T, net *network, a, b *node,
	tx *wire.MsgTx) (*lnwallet.Channel, *lnwallet.Channel) {

	t.Helper()
	waitFor(t, "both confirmation registrations", func() bool {
		return a.chain.registered(tx.TxHash()) == 2
	})
	a.chain.confirm(tx, 7)
	waitFor(t, "both channel_ready", func() bool { return queued(net) == 2 })
	// Each side repeats its channel_ready when the channel opens (in
	// case the first was lost); the repeats are ignored without a
	// warning.
	expectTypes(t, net.pump(), lnwire.MsgChannelReady, lnwire.MsgChannelReady,
		lnwire.MsgChannelReady, lnwire.MsgChannelReady)
	return recvReady(t, a), recvReady(t, b)
}

func TestOpenChannel(t *testing.T) {
	for _, ct := range []lnwallet.ChannelType{lnwallet.ChannelTypeAnchors,
		lnwallet.ChannelTypeStaticRemoteKey} {

		t.Run(ct.String(), func(t *testing.T) {
			net, a, b := newPair(t)
			upd, tx := openToBroadcast(t, net, a, b, &ct)
			if a.w.numLeases() != 0 {
				t.Fatal("coins still leased after broadcast")
			}
			ca, cb := confirmAndReady(t, net, a, b, tx)
			if u := nextUpdate(t, upd); u.Open == nil {
				t.Fatalf("update %+v, want open", u)
			}
			checkPair(t, ca, cb, ct)
			commitmentRound(t, a, b, ca, cb)
			for _, n := range []*node{a, b} {
				p, err := n.m.PendingChannels()
				if err != nil || len(p) != 0 {
					t.Fatalf("%s: pending %v, %v", n.name, p, err)
				}
				open, err := n.db.ListOpenChannels()
				if err != nil || len(open) != 1 {
					t.Fatalf("%s: open %d, %v", n.name, len(open), err)
				}
			}
			// Each side keeps the alias the other sent in
			// channel_ready.
			for _, x := range []struct {
				n    *node
				peer *lnwallet.Channel
			}{{a, cb}, {b, ca}} {
				var info *channeldb.ChannelOpenInfo
				err := x.n.db.View(func(tx kvdb.RTx) (err error) {
					info, err = channeldb.FetchChannelOpenInfo(tx,
						ca.State().FundingOutpoint)
					return err
				})
				if err != nil || info.PeerAlias != x.peer.State().Aliases[0] {
					t.Fatalf("%s: peer alias %v, %v", x.n.name, info, err)
				}
			}
		})
	}
}

// checkPair checks both sides' channels agree with each other and the
// request.
func checkPair(t *testing.T, ca, cb *lnwallet.Channel, ct lnwallet.ChannelType) {
	t.Helper()
	sa, sb := ca.State(), cb.State()
	if lnwallet.ChannelType(sa.ChanType) != ct || lnwallet.ChannelType(sb.ChanType) != ct {
		t.Fatalf("types %d %d, want %v", sa.ChanType, sb.ChanType, ct)
	}
	if sa.LocalCommit.LocalBalanceMsat != testCap*1000-testPush ||
		sb.LocalCommit.LocalBalanceMsat != testPush {

		t.Fatalf("balances %d %d", sa.LocalCommit.LocalBalanceMsat,
			sb.LocalCommit.LocalBalanceMsat)
	}
	if sa.LocalCommit.TxID != sb.RemoteCommit.TxID ||
		sb.LocalCommit.TxID != sa.RemoteCommit.TxID {

		t.Fatal("the sides disagree on the initial commitments")
	}
	if !sa.IsInitiator || sb.IsInitiator {
		t.Fatal("initiator flags wrong")
	}
	if sa.ShortChannelID.BlockHeight != 101 || sa.ShortChannelID.TxIndex != 7 ||
		sa.ShortChannelID != sb.ShortChannelID {

		t.Fatalf("scids %v %v", sa.ShortChannelID, sb.ShortChannelID)
	}
	if len(sa.Aliases) != 1 || len(sb.Aliases) != 1 ||
		sa.Aliases[0].BlockHeight < aliasStart {

		t.Fatalf("aliases %v %v", sa.Aliases, sb.Aliases)
	}
	if _, err := ca.LocalCommitTx(); err != nil {
		t.Fatalf("our commitment is not broadcastable: %v", err)
	}
}

// commitmentRound moves both channels through one HTLC commitment round,
// persisting to the nodes' databases: the channels handed on work.
func commitmentRound(t *testing.T, a, b *node, ca, cb *lnwallet.Channel) {
	t.Helper()
	ctx := context.Background()
	add, err := ca.AddHTLC(&lnwire.UpdateAddHTLC{Amount: 50_000_000, Expiry: 500})
	if err != nil {
		t.Fatal(err)
	}
	if err := cb.ReceiveHTLC(add); err != nil {
		t.Fatal(err)
	}
	p, err := ca.SignNextCommitment()
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Persist(ctx, a.db)
	if err != nil {
		t.Fatal(err)
	}
	if err := cb.ReceiveNewCommitment(out.Messages[0].(*lnwire.CommitSig)); err != nil {
		t.Fatal(err)
	}
	p, err = cb.RevokeCurrentCommitment()
	if err != nil {
		t.Fatal(err)
	}
	out, err = p.Persist(ctx, b.db)
	if err != nil {
		t.Fatal(err)
	}
	p, err = ca.ReceiveRevocation(out.Messages[0].(*lnwire.RevokeAndAck))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Persist(ctx, a.db); err != nil {
		t.Fatal(err)
	}
}

// TestOpenDefaultType: without a requested type, anchors are chosen when
// both support them, static_remotekey otherwise.
func TestOpenDefaultType(t *testing.T) {
	net, a, b := newPair(t)
	b.feats = lnwire.NewFeatureVector(lnwire.NewRawFeatureVector(
		lnwire.StaticRemoteKeyOptional, lnwire.ChannelTypeOptional))
	b.m.cfg.LocalFeatures = b.feats
	_, tx := openToBroadcast(t, net, a, b, nil)
	ca, cb := confirmAndReady(t, net, a, b, tx)
	checkTypeAndNoAlias(t, ca, cb, lnwallet.ChannelTypeStaticRemoteKey)

	net2, c, d := newPair(t)
	_, tx = openToBroadcast(t, net2, c, d, nil)
	cc, cd := confirmAndReady(t, net2, c, d, tx)
	if lnwallet.ChannelType(cc.State().ChanType) != lnwallet.ChannelTypeAnchors ||
		lnwallet.ChannelType(cd.State().ChanType) != lnwallet.ChannelTypeAnchors {

		t.Fatal("anchors not chosen")
	}
}

func checkTypeAndNoAlias(t *testing.T, ca, cb *lnwallet.Channel, ct lnwallet.ChannelType) {
	t.Helper()
	for _, c := range []*lnwallet.Channel{ca, cb} {
		if lnwallet.ChannelType(c.State().ChanType) != ct {
			t.Fatalf("type %d, want %v", c.State().ChanType, ct)
		}
		if len(c.State().Aliases) != 0 {
			t.Fatal("alias without option_scid_alias on both sides")
		}
	}
}

// errorText returns the text of the single error message in es, sent to
// the temporary channel id.
func errorText(t *testing.T, es []envelope, id [32]byte) string {
	t.Helper()
	for _, e := range es {
		if m, ok := e.msg.(*lnwire.Error); ok {
			if m.ChanID != id {
				t.Fatalf("error for %x, want %x", m.ChanID, id)
			}
			return string(m.Data)
		}
	}
	t.Fatalf("no error sent, got %v", msgTypes(es))
	return ""
}

// capturedOpen has a open to b and returns its open_channel, undelivered.
func capturedOpen(t *testing.T, net *network, a, b *node) *lnwire.OpenChannel {
	t.Helper()
	_, _, err := a.m.OpenChannel(context.Background(), OpenRequest{
		Peer: b.pub(), LocalAmt: testCap, PushMsat: testPush})
	if err != nil {
		t.Fatal(err)
	}
	es := net.take()
	expectTypes(t, es, lnwire.MsgOpenChannel)
	return es[0].msg.(*lnwire.OpenChannel)
}

func TestOpenChannelRefusals(t *testing.T) {
	cases := []struct {
		name string
		mod  func(*lnwire.OpenChannel)
		want string
	}{
		{"chain hash", func(m *lnwire.OpenChannel) { m.ChainHash[0] ^= 1 }, "chain_hash"},
		{"dust below 354", func(m *lnwire.OpenChannel) { m.DustLimit = 353 }, "dust_limit_satoshis 353 below"},
		{"dust above 1062", func(m *lnwire.OpenChannel) { m.DustLimit = 1063 }, "dust_limit_satoshis 1063 above"},
		{"reserve below their dust", func(m *lnwire.OpenChannel) {
			m.DustLimit, m.ChannelReserve = 600, 500
		}, "channel_reserve_satoshis 500 below dust_limit_satoshis 600"},
		{"reserve below 354", func(m *lnwire.OpenChannel) { m.ChannelReserve = 353 }, "channel_reserve_satoshis 353 below"},
		{"reserve above 20%", func(m *lnwire.OpenChannel) { m.ChannelReserve = testCap/5 + 1 }, "above 20%"},
		{"to_self_delay", func(m *lnwire.OpenChannel) { m.CsvDelay = 2017 }, "to_self_delay 2017"},
		{"max_accepted_htlcs", func(m *lnwire.OpenChannel) { m.MaxAcceptedHTLCs = 484 }, "max_accepted_htlcs 484 above 483"},
		{"max_accepted_htlcs small", func(m *lnwire.OpenChannel) { m.MaxAcceptedHTLCs = 4 }, "max_accepted_htlcs 4 below"},
		{"htlc_minimum", func(m *lnwire.OpenChannel) { m.HtlcMinimum = m.MaxValueInFlight + 1 }, "htlc_minimum_msat"},
		{"too small", func(m *lnwire.OpenChannel) { m.FundingAmount = MinChanSize - 1 }, "below the minimum"},
		{"push above funding", func(m *lnwire.OpenChannel) {
			m.PushAmount = lnwire.NewMSatFromSatoshis(m.FundingAmount) + 1
		}, "push_msat"},
		{"feerate low", func(m *lnwire.OpenChannel) { m.FeePerKiloWeight = 252 }, "feerate_per_kw 252 below"},
		{"feerate high", func(m *lnwire.OpenChannel) { m.FeePerKiloWeight = 250_001 }, "feerate_per_kw 250001 above"},
		{"fee unaffordable", func(m *lnwire.OpenChannel) {
			m.PushAmount = lnwire.NewMSatFromSatoshis(m.FundingAmount) - 1000
			m.FeePerKiloWeight = 200_000
		}, "cannot pay the commitment fee"},
		{"alias type announced", func(m *lnwire.OpenChannel) {
			m.ChannelType = lnwire.NewRawFeatureVector(lnwire.StaticRemoteKeyRequired,
				lnwire.ScidAliasRequired)
			m.ChannelFlags |= lnwire.FFAnnounceChannel
		}, "requires an unannounced channel"},
		{"zero-conf type", func(m *lnwire.OpenChannel) {
			m.ChannelType = lnwire.NewRawFeatureVector(lnwire.StaticRemoteKeyRequired,
				lnwire.AnchorsZeroFeeHtlcTxRequired, lnwire.ScidAliasRequired,
				lnwire.ZeroConfRequired)
			m.ChannelFlags &^= lnwire.FFAnnounceChannel
		}, "not supported"},
		{"alias alone", func(m *lnwire.OpenChannel) {
			m.ChannelType = lnwire.NewRawFeatureVector(lnwire.ScidAliasRequired)
			m.ChannelFlags &^= lnwire.FFAnnounceChannel
		}, "not supported"},
		{"legacy type", func(m *lnwire.OpenChannel) {
			m.ChannelType = lnwire.NewRawFeatureVector()
		}, "not supported"},
		{"bad shutdown script", func(m *lnwire.OpenChannel) {
			m.UpfrontShutdownScript = []byte{0x6a, 0x01, 0x00}
		}, "upfront_shutdown_script"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			net, a, b := newPair(t)
			msg := capturedOpen(t, net, a, b)
			c.mod(msg)
			b.m.HandleMessage(a.pub(), msg)
			es := net.take()
			txt := errorText(t, es, msg.PendingChannelID)
			if !strings.Contains(txt, c.want) {
				t.Fatalf("error %q, want it to say %q", txt, c.want)
			}
			if len(b.m.flows) != 0 {
				t.Fatal("refused channel kept")
			}
		})
	}
}

// TestOpenAliasOnly: a private channel whose channel_type adds
// option_scid_alias opens, both sides persist it as alias-only, and it
// uses aliases; without option_scid_alias negotiated it is refused.
func TestOpenAliasOnly(t *testing.T) {
	for _, ct := range []lnwallet.ChannelType{lnwallet.ChannelTypeAnchors,
		lnwallet.ChannelTypeStaticRemoteKey} {

		t.Run(ct.String(), func(t *testing.T) {
			net, a, b := newPair(t)
			_, _, err := a.m.OpenChannel(context.Background(), OpenRequest{
				Peer: b.pub(), LocalAmt: testCap, PushMsat: testPush,
				ChannelType: &ct, Private: true, ScidAlias: true})
			if err != nil {
				t.Fatal(err)
			}
			es := net.pump()
			expectTypes(t, es, lnwire.MsgOpenChannel, lnwire.MsgAcceptChannel,
				lnwire.MsgFundingCreated, lnwire.MsgFundingSigned)
			want := TypeBits(ct)
			want.Set(lnwire.ScidAliasRequired)
			if got := es[1].msg.(*lnwire.AcceptChannel).ChannelType; !got.Equals(want) {
				t.Fatalf("accept_channel type %v, want %v", got.Bits(), want.Bits())
			}
			ca, cb := confirmAndReady(t, net, a, b, a.w.lastPublished())
			checkPair(t, ca, cb, ct)
			for _, n := range []*node{a, b} {
				var info *channeldb.ChannelOpenInfo
				err := n.db.View(func(tx kvdb.RTx) (err error) {
					info, err = channeldb.FetchChannelOpenInfo(tx,
						ca.State().FundingOutpoint)
					return err
				})
				if err != nil || !info.AliasOnly || !info.Private ||
					info.PeerAlias.ToUint64() == 0 {

					t.Fatalf("%s: open info %+v, %v", n.name, info, err)
				}
			}
		})
	}

	// Our own request: public or to a peer without option_scid_alias
	// is refused before anything is sent.
	net, a, b := newPair(t)
	_, _, err := a.m.OpenChannel(context.Background(), OpenRequest{
		Peer: b.pub(), LocalAmt: testCap, ScidAlias: true})
	if !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), "unannounced") {
		t.Fatalf("public alias-only request: %v", err)
	}
	noAlias := lnwire.NewFeatureVector(lnwire.NewRawFeatureVector(
		lnwire.StaticRemoteKeyOptional, lnwire.AnchorsZeroFeeHtlcTxOptional,
		lnwire.ChannelTypeOptional))
	b.feats = noAlias
	b.m.cfg.LocalFeatures = noAlias
	_, _, err = a.m.OpenChannel(context.Background(), OpenRequest{
		Peer: b.pub(), LocalAmt: testCap, Private: true, ScidAlias: true})
	if !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), "not negotiated") {
		t.Fatalf("alias-only request without the feature: %v", err)
	}
	if len(net.take()) != 0 || a.w.numLeases() != 0 {
		t.Fatal("refused request sent or leased something")
	}

	// The peer's open of such a channel is refused likewise.
	msg := capturedOpen(t, net, a, b)
	msg.ChannelType = lnwire.NewRawFeatureVector(lnwire.StaticRemoteKeyRequired,
		lnwire.AnchorsZeroFeeHtlcTxRequired, lnwire.ScidAliasRequired)
	msg.ChannelFlags &^= lnwire.FFAnnounceChannel
	b.m.HandleMessage(a.pub(), msg)
	if txt := errorText(t, net.take(), msg.PendingChannelID); !strings.Contains(txt,
		"option_scid_alias was not negotiated") {

		t.Fatalf("error %q", txt)
	}
	if len(b.m.flows) != 0 {
		t.Fatal("refused channel kept")
	}
}

// TestLargeChannel: above 2^24 sat only with option_support_large_channel
// on both sides.
func TestLargeChannel(t *testing.T) {
	net, a, b := newPair(t)
	msg := capturedOpen(t, net, a, b)
	msg.FundingAmount = MaxChanSizeNoWumbo + 1
	b.feats = lnwire.NewFeatureVector(lnwire.NewRawFeatureVector(
		lnwire.StaticRemoteKeyOptional, lnwire.AnchorsZeroFeeHtlcTxOptional))
	a.feats = b.feats
	b.m.cfg.LocalFeatures = b.feats
	b.m.HandleMessage(a.pub(), msg)
	if txt := errorText(t, net.take(), msg.PendingChannelID); !strings.Contains(txt, "above the maximum") {
		t.Fatalf("error %q", txt)
	}

	// With both supporting it, the same amount is accepted.
	net2, c, d := newPair(t)
	msg = capturedOpen(t, net2, c, d)
	msg.FundingAmount = MaxChanSizeNoWumbo + 1
	d.m.HandleMessage(c.pub(), msg)
	expectTypes(t, net2.take(), lnwire.MsgAcceptChannel)

	// Our own request above the limit is refused with nothing locked.
	_, _, err := c.m.OpenChannel(context.Background(), OpenRequest{Peer: d.pub(),
		LocalAmt: DefaultMaxChanSizeWumbo + 1})
	if !errors.Is(err, ErrBadRequest) {
		t.Fatalf("err %v", err)
	}
}

func TestAcceptChannelRefusals(t *testing.T) {
	cases := []struct {
		name string
		mod  func(*lnwire.AcceptChannel)
		want string
	}{
		{"min depth", func(m *lnwire.AcceptChannel) { m.MinAcceptDepth = 21 }, "minimum_depth"},
		{"type differs", func(m *lnwire.AcceptChannel) { m.ChannelType = staticRemoteKeyType() }, "differs"},
		{"type missing", func(m *lnwire.AcceptChannel) { m.ChannelType = nil }, "without the channel_type"},
		{"dust", func(m *lnwire.AcceptChannel) { m.DustLimit = 100 }, "dust_limit_satoshis 100"},
		{"dust above our reserve", func(m *lnwire.AcceptChannel) {
			m.DustLimit, m.ChannelReserve = 1000_0, 20000
		}, "dust_limit_satoshis"},
		{"csv", func(m *lnwire.AcceptChannel) { m.CsvDelay = 5000 }, "to_self_delay"},
		{"htlcs", func(m *lnwire.AcceptChannel) { m.MaxAcceptedHTLCs = 1000 }, "max_accepted_htlcs"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			net, a, b := newPair(t)
			upd, _, err := a.m.OpenChannel(context.Background(), OpenRequest{
				Peer: b.pub(), LocalAmt: testCap})
			if err != nil {
				t.Fatal(err)
			}
			if a.w.numLeases() != 1 {
				t.Fatal("coin not leased")
			}
			es := net.take()
			b.m.HandleMessage(a.pub(), es[0].msg)
			es = net.take()
			expectTypes(t, es, lnwire.MsgAcceptChannel)
			acc := es[0].msg.(*lnwire.AcceptChannel)
			c.mod(acc)
			a.m.HandleMessage(b.pub(), acc)
			txt := errorText(t, net.take(), acc.PendingChannelID)
			if !strings.Contains(txt, c.want) {
				t.Fatalf("error %q, want %q", txt, c.want)
			}
			if u := nextUpdate(t, upd); !errors.Is(u.Err, ErrRefused) {
				t.Fatalf("update %+v", u)
			}
			if a.w.numLeases() != 0 {
				t.Fatal("coins still leased after a refusal")
			}
		})
	}
}

// TestBadSignatures: a funding_created or funding_signed whose signature
// does not verify is refused; nothing is persisted or broadcast.
func TestBadSignatures(t *testing.T) {
	net, a, b := newPair(t)
	_, _, err := a.m.OpenChannel(context.Background(), OpenRequest{Peer: b.pub(), LocalAmt: testCap})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // open, accept
		e := net.take()[0]
		e.to.m.HandleMessage(e.from.pub(), e.msg)
	}
	created := net.take()[0].msg.(*lnwire.FundingCreated)
	bad := *created
	bad.CommitSig[10] ^= 1
	b.m.HandleMessage(a.pub(), &bad)
	errorText(t, net.take(), created.PendingChannelID)
	if p, _ := b.m.PendingChannels(); len(p) != 0 {
		t.Fatal("fundee persisted a channel with a bad signature")
	}

	// And the other direction.
	net, a, b = newPair(t)
	upd, _, err := a.m.OpenChannel(context.Background(), OpenRequest{Peer: b.pub(), LocalAmt: testCap})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 { // open, accept, created
		e := net.take()[0]
		e.to.m.HandleMessage(e.from.pub(), e.msg)
	}
	signed := net.take()[0].msg.(*lnwire.FundingSigned)
	badS := *signed
	badS.CommitSig[40] ^= 1
	a.m.HandleMessage(b.pub(), &badS)
	errorText(t, net.take(), [32]byte(signed.ChanID))
	if a.w.lastPublished() != nil {
		t.Fatal("funding transaction broadcast after a bad funding_signed")
	}
	if u := nextUpdate(t, upd); u.Err == nil || a.w.numLeases() != 0 {
		t.Fatalf("update %+v, leases %d", u, a.w.numLeases())
	}
}

// TestPeerError: the peer's error ends our opening and frees the coins.
func TestPeerError(t *testing.T) {
	net, a, b := newPair(t)
	upd, id, err := a.m.OpenChannel(context.Background(), OpenRequest{Peer: b.pub(), LocalAmt: testCap})
	if err != nil {
		t.Fatal(err)
	}
	net.take()
	a.m.HandleMessage(b.pub(), &lnwire.Error{ChanID: id, Data: []byte("no thanks")})
	u := nextUpdate(t, upd)
	if !errors.Is(u.Err, ErrPeerError) || !strings.Contains(u.Err.Error(), "no thanks") {
		t.Fatalf("update %+v", u)
	}
	if a.w.numLeases() != 0 {
		t.Fatal("coins leased")
	}
}

func TestPendingLimits(t *testing.T) {
	net, a, b := newPair(t)
	first := capturedOpen(t, net, a, b)
	b.m.HandleMessage(a.pub(), first)
	expectTypes(t, net.take(), lnwire.MsgAcceptChannel)
	second := *first
	second.PendingChannelID[0] ^= 1
	b.m.HandleMessage(a.pub(), &second)
	if txt := errorText(t, net.take(), second.PendingChannelID); !strings.Contains(txt, "too many pending") {
		t.Fatalf("error %q", txt)
	}

	net2, c, d := newPair(t)
	d.m.cfg.MaxPendingPerPeer = 10
	d.m.cfg.MaxPending = 1
	msg := capturedOpen(t, net2, c, d)
	d.m.HandleMessage(c.pub(), msg)
	net2.take()
	msg2 := *msg
	msg2.PendingChannelID[0] ^= 1
	d.m.HandleMessage(c.pub(), &msg2)
	if txt := errorText(t, net2.take(), msg2.PendingChannelID); !strings.Contains(txt, "too many pending channels (1)") {
		t.Fatalf("error %q", txt)
	}
}

// TestDisconnectReleasesCoins: an opening cut by a disconnection leaves
// no coin locked, on either step before funding_signed.
func TestDisconnectReleasesCoins(t *testing.T) {
	for steps := range 3 {
		net, a, b := newPair(t)
		upd, _, err := a.m.OpenChannel(context.Background(), OpenRequest{Peer: b.pub(), LocalAmt: testCap})
		if err != nil {
			t.Fatal(err)
		}
		for range steps {
			e := net.take()[0]
			e.to.m.HandleMessage(e.from.pub(), e.msg)
		}
		net.take()
		a.m.PeerDisconnected(b.pub())
		b.m.PeerDisconnected(a.pub())
		if u := nextUpdate(t, upd); !errors.Is(u.Err, ErrAborted) {
			t.Fatalf("step %d: update %+v", steps, u)
		}
		if a.w.numLeases() != 0 || len(a.m.flows) != 0 || len(b.m.flows) != 0 {
			t.Fatalf("step %d: leftovers", steps)
		}
	}
}

// TestNegotiationTimeout: a peer that stops answering is told, and the
// coins come back.
func TestNegotiationTimeout(t *testing.T) {
	net, a, b := newPair(t)
	upd, id, err := a.m.OpenChannel(context.Background(), OpenRequest{Peer: b.pub(), LocalAmt: testCap})
	if err != nil {
		t.Fatal(err)
	}
	net.take()
	a.clock.advance(DefaultNegotiationTimeout + 1)
	u := nextUpdate(t, upd)
	if !errors.Is(u.Err, ErrAborted) {
		t.Fatalf("update %+v", u)
	}
	waitFor(t, "the error to the peer", func() bool { return queued(net) > 0 })
	errorText(t, net.take(), id)
	if a.w.numLeases() != 0 {
		t.Fatal("coins leased")
	}
}

// TestRestartBeforeFundingSigned: a restart of the opener after
// open_channel or after funding_created forgets the opening and frees
// its coins; the fundee forgets its unpersisted negotiation.
func TestRestartBeforeFundingSigned(t *testing.T) {
	for steps := range 3 {
		net, a, b := newPair(t)
		if _, _, err := a.m.OpenChannel(context.Background(),
			OpenRequest{Peer: b.pub(), LocalAmt: testCap}); err != nil {

			t.Fatal(err)
		}
		for range steps {
			e := net.take()[0]
			e.to.m.HandleMessage(e.from.pub(), e.msg)
		}
		net.take()
		if a.w.numLeases() != 1 {
			t.Fatal("coin not leased")
		}
		a.restart()
		b.restart()
		if a.w.numLeases() != 0 {
			t.Fatalf("step %d: coin still leased after restart", steps)
		}
		for _, n := range []*node{a, b} {
			if p, _ := n.m.PendingChannels(); len(p) != 0 {
				t.Fatalf("step %d: %s kept a pending channel", steps, n.name)
			}
		}
	}
}

// TestRestartAfterBroadcast: both restart between broadcast and
// confirmation; the channel still opens, and the opener rebroadcasts.
func TestRestartAfterBroadcast(t *testing.T) {
	net, a, b := newPair(t)
	_, tx := openToBroadcast(t, net, a, b, nil)
	for _, n := range []*node{a, b} {
		p, err := n.m.PendingChannels()
		if err != nil || len(p) != 1 || p[0].Capacity != testCap {
			t.Fatalf("%s: pending %+v %v", n.name, p, err)
		}
	}
	a.restart()
	b.restart()
	if len(a.w.published) != 2 {
		t.Fatalf("opener published %d times, want a rebroadcast", len(a.w.published))
	}
	ca, cb := confirmAndReady(t, net, a, b, tx)
	checkPair(t, ca, cb, lnwallet.ChannelTypeAnchors)
}

// TestRestartAfterConfirmation: the nodes restart after sending
// channel_ready that the peer never got; on reconnection it is sent
// again and the channel opens.
func TestRestartAfterConfirmation(t *testing.T) {
	net, a, b := newPair(t)
	_, tx := openToBroadcast(t, net, a, b, nil)
	waitFor(t, "registrations", func() bool { return a.chain.registered(tx.TxHash()) == 2 })
	a.chain.confirm(tx, 7)
	waitFor(t, "both channel_ready", func() bool { return queued(net) == 2 })
	net.take() // lost with the connection
	a.restart()
	b.restart()
	a.m.PeerConnected(b.pub())
	b.m.PeerConnected(a.pub())
	expectTypes(t, net.pump(), lnwire.MsgChannelReady, lnwire.MsgChannelReady,
		lnwire.MsgChannelReady, lnwire.MsgChannelReady)
	checkPair(t, recvReady(t, a), recvReady(t, b), lnwallet.ChannelTypeAnchors)

	// Only the opener's channel_ready arrived before the restart: the
	// fundee opened the channel; the opener, restarted, sends its
	// channel_ready again (ignored, without a warning, by the fundee)
	// and waits for the fundee's, which the reestablishment of the open
	// channel retransmits (ReadyMessage).
	net2, c, d := newPair(t)
	_, tx = openToBroadcast(t, net2, c, d, nil)
	waitFor(t, "registrations", func() bool { return c.chain.registered(tx.TxHash()) == 2 })
	c.chain.confirm(tx, 7)
	waitFor(t, "both channel_ready", func() bool { return queued(net2) == 2 })
	for _, e := range net2.take() {
		if e.from == c {
			d.m.HandleMessage(c.pub(), e.msg)
		}
	}
	cd := recvReady(t, d)
	// d's repeated channel_ready is lost too, with the connection.
	expectTypes(t, net2.take(), lnwire.MsgChannelReady)
	c.restart()
	c.m.PeerConnected(d.pub())
	expectTypes(t, net2.pump(), lnwire.MsgChannelReady)
	if queued(net2) != 0 {
		t.Fatal("the fundee answered a retransmitted channel_ready")
	}
	if p, _ := c.m.PendingChannels(); len(p) != 1 {
		t.Fatal("opener no longer waiting")
	}
	msg, err := ReadyMessage(d.w, cd.State())
	if err != nil {
		t.Fatal(err)
	}
	c.m.HandleMessage(d.pub(), msg)
	checkPair(t, recvReady(t, c), cd, lnwallet.ChannelTypeAnchors)
}

func recvReady(t *testing.T, n *node) *lnwallet.Channel {
	t.Helper()
	var ch *lnwallet.Channel
	waitFor(t, n.name+"'s channel", func() bool {
		select {
		case ch = <-n.ready:
			return true
		default:
			return false
		}
	})
	return ch
}

// TestFundeeForgets: a funding transaction that never confirms is
// forgotten by the fundee after 2016 blocks; the funder keeps waiting.
func TestFundeeForgets(t *testing.T) {
	net, a, b := newPair(t)
	_, tx := openToBroadcast(t, net, a, b, nil)
	waitFor(t, "registrations", func() bool { return a.chain.registered(tx.TxHash()) == 2 })
	a.chain.mine(MaxWaitBlocks - 1)
	time := func() int { p, _ := b.m.PendingChannels(); return len(p) }
	if time() != 1 {
		t.Fatal("forgotten too early")
	}
	a.chain.mine(1)
	waitFor(t, "the fundee to forget", func() bool { return time() == 0 })
	open, _ := b.db.ListOpenChannels()
	if len(open) != 0 {
		t.Fatal("channel state kept")
	}
	if p, _ := a.m.PendingChannels(); len(p) != 1 {
		t.Fatal("funder forgot its channel")
	}
}

// TestWrongFundingOutput: a confirmed transaction that does not pay the
// channel's 2-of-2 script its capacity never opens the channel; the
// fundee forgets it.
func TestWrongFundingOutput(t *testing.T) {
	net, a, b := newPair(t)
	_, tx := openToBroadcast(t, net, a, b, nil)
	waitFor(t, "registrations", func() bool { return a.chain.registered(tx.TxHash()) == 2 })
	bad := tx.Copy()
	for _, o := range bad.TxOut {
		if o.Value == testCap {
			o.PkScript = append([]byte{0, 0x20}, make([]byte, 32)...)
		}
	}
	// Delivered for the real txid, as a lying backend or a lying opener
	// (an outpoint that is not the channel's) would make it look.
	b.chain.confirmAs(tx.TxHash(), bad, 3)
	waitFor(t, "the fundee to forget", func() bool {
		p, _ := b.m.PendingChannels()
		return len(p) == 0
	})
	if queued(net) != 0 {
		t.Fatal("channel_ready sent for a wrong funding output")
	}
	if open, _ := b.db.ListOpenChannels(); len(open) != 0 {
		t.Fatal("fundee kept the channel")
	}
}

// TestOpenReusingPendingID: a peer's open_channel may not reuse the
// temporary id of a channel already persisted (here the one we opened to
// it, whose id it knows): the pending record is keyed by that id, and a
// second channel under it would overwrite the first's.
func TestOpenReusingPendingID(t *testing.T) {
	net := &network{nodes: map[[33]byte]*node{}}
	c := newFakeChain()
	clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	twoPerPeer := func(cfg *Config) { cfg.MaxPendingPerPeer = 2 }
	a := newNodeWith(t, net, "alice", 1, c, clk, twoPerPeer)
	b := newNodeWith(t, net, "bob", 2, c, clk, twoPerPeer)
	_, tx := openToBroadcast(t, net, a, b, nil)
	p, err := a.m.PendingChannels()
	if err != nil || len(p) != 1 {
		t.Fatalf("pending %v, %v", p, err)
	}
	first := p[0].ChanPoint
	var usedID [32]byte
	for _, w := range a.m.pending {
		usedID = w.rec.PendingChanID
	}

	// Bob opens to alice under the id of alice's channel.
	open := capturedOpen(t, net, b, a)
	f := b.m.flows[open.PendingChannelID]
	delete(b.m.flows, f.id)
	f.id = usedID
	b.m.flows[usedID] = f
	open.PendingChannelID = usedID
	a.m.HandleMessage(b.pub(), open)
	es := net.take()
	if len(es) != 1 || es[0].msg.MsgType() != lnwire.MsgError {
		t.Fatalf("alice answered %v, want an error", msgTypes(es))
	}
	if txt := errorText(t, es, usedID); !strings.Contains(txt, "already in use") {
		t.Fatalf("error %q", txt)
	}

	// Alice's channel is still pending after a restart.
	a.restart()
	p, err = a.m.PendingChannels()
	if err != nil || len(p) != 1 || p[0].ChanPoint != first ||
		p[0].ChanPoint.Hash != tx.TxHash() {

		t.Fatalf("after restart: pending %+v, %v", p, err)
	}
}
