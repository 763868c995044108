package channeldb

import (
	"net"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/lnwire"
)

// Sample records for the store, truncation and fuzz tests.

func samplePub(b byte) *btcec.PublicKey {
	var k [32]byte
	k[31] = b
	k[0] = 1
	priv, _ := btcec.PrivKeyFromBytes(k[:])
	return priv.PubKey()
}

func sampleOutpoint(b byte) wire.OutPoint {
	return wire.OutPoint{Hash: chainhash.Hash{b, 2, 3}, Index: uint32(b)}
}

func sampleLinkNode() *LinkNode {
	return &LinkNode{
		Network:     wire.TestNet3,
		IdentityPub: samplePub(1),
		LastSeen:    time.Unix(1_700_000_000, 0),
		Addresses: []net.Addr{
			&net.TCPAddr{IP: net.IPv4(10, 0, 0, 1).To4(), Port: 9735},
			&net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 9736},
			&lnwire.OnionAddr{OnionService: "vww6ybal4bd7szmgncyruucpgfkqahzddi37ktceo3ah7ngmcopnpyyd.onion", Port: 9735},
		},
	}
}

func sampleClosed() *ChannelCloseSummary {
	return &ChannelCloseSummary{
		ChanPoint:         sampleOutpoint(7),
		ShortChanID:       lnwire.NewShortChanIDFromInt(800_000<<40 | 12<<16 | 1),
		RemotePub:         samplePub(2),
		Capacity:          1_000_000,
		ClosingTxID:       chainhash.Hash{9, 9},
		CloseHeight:       800_100,
		SettledBalance:    400_000,
		TimeLockedBalance: 100_000,
		CloseType:         RemoteForceClose,
		IsPending:         true,
	}
}

func sampleFundingTx() *wire.MsgTx {
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: chainhash.Hash{4}, Index: 1}, nil, [][]byte{{1, 2}, {3}}))
	tx.AddTxOut(wire.NewTxOut(1_000_000, append([]byte{0, 32}, make([]byte, 32)...)))
	return tx
}

func samplePending() *PendingChannel {
	op := sampleOutpoint(8)
	return &PendingChannel{
		PendingChanID:   [32]byte{0xaa, 1},
		Role:            Funder,
		PeerPub:         samplePub(3),
		ChanPoint:       &op,
		Capacity:        2_000_000,
		PushAmt:         5_000,
		BroadcastHeight: 799_999,
		FundingTx:       sampleFundingTx(),
		State:           FundingBroadcast,
	}
}

func sampleRevLog(num uint64, htlcs int) *RevocationLogEntry {
	e := &RevocationLogEntry{
		CommitNum:   num,
		CommitTxID:  chainhash.Hash{byte(num), byte(num >> 8), byte(num >> 16), 0xcc},
		OurOutput:   &CommitOutput{Index: uint32(htlcs), Amount: 500_000},
		TheirOutput: &CommitOutput{Index: uint32(htlcs + 1), Amount: 480_000},
	}
	for i := 0; i < htlcs; i++ {
		e.HTLCs = append(e.HTLCs, RevokedHTLC{
			OutputIndex: uint32(i),
			Incoming:    i%2 == 0,
			PaymentHash: [32]byte{byte(i), byte(num), 0xee},
			Amount:      btcutil.Amount(10_000 + i),
			CltvExpiry:  800_000 + uint32(i),
		})
	}
	return e
}

func sampleCircuit() *PaymentCircuit {
	out := CircuitKey{ChanID: lnwire.NewShortChanIDFromInt(2 << 40), HtlcID: 17}
	return &PaymentCircuit{
		Incoming:       CircuitKey{ChanID: lnwire.NewShortChanIDFromInt(1 << 40), HtlcID: 5},
		Outgoing:       &out,
		IncomingAmount: 1_001_000,
		OutgoingAmount: 1_000_000,
		PaymentHash:    [32]byte{0x11},
		ErrorEncrypter: []byte{1, 2, 3, 4, 5},
	}
}

func sampleFwdPkg() *FwdPkg {
	chanID := lnwire.ChannelID{3}
	p := &FwdPkg{
		Source: lnwire.NewShortChanIDFromInt(1 << 40),
		Height: 42,
		State:  FwdProcessed,
		Adds: []PkgUpdate{
			{LogIndex: 3, Msg: &lnwire.UpdateAddHTLC{ChanID: chanID, ID: 1, Amount: 5000,
				PaymentHash: [32]byte{1}, Expiry: 800_040}},
			{LogIndex: 4, Msg: &lnwire.UpdateAddHTLC{ChanID: chanID, ID: 2, Amount: 7000,
				PaymentHash: [32]byte{2}, Expiry: 800_041}},
		},
		SettleFails: []PkgUpdate{
			{LogIndex: 5, Msg: &lnwire.UpdateFulfillHTLC{ChanID: chanID, ID: 9, PaymentPreimage: [32]byte{7}}},
		},
		AckFilter:        NewPkgFilter(2),
		SettleFailFilter: NewPkgFilter(1),
	}
	p.AckFilter.Set(1)
	return p
}

func sampleFwdEvent(ts int64) ForwardingEvent {
	return ForwardingEvent{
		Timestamp:      time.Unix(0, ts).UTC(),
		IncomingChanID: lnwire.NewShortChanIDFromInt(1 << 40),
		OutgoingChanID: lnwire.NewShortChanIDFromInt(2 << 40),
		AmtIn:          1_001_000,
		AmtOut:         1_000_000,
	}
}

func sampleInvoice(b byte) *Invoice {
	pre := [32]byte{b, 0x77}
	return &Invoice{
		PaymentHash:    [32]byte{b, 0x55},
		Preimage:       &pre,
		PaymentAddr:    [32]byte{b, 0x66},
		PaymentRequest: "lnbcrt10u1pj...sample",
		Memo:           "coffee",
		Value:          1_000_000,
		CreationDate:   time.Unix(1_700_000_000, 0),
		Expiry:         time.Hour,
		CltvDelta:      80,
		State:          InvoiceAccepted,
		AmtPaid:        1_000_000,
		IsAMP:          b%2 == 0,
		HTLCs: []InvoiceHTLC{{
			Circuit:      CircuitKey{ChanID: lnwire.NewShortChanIDFromInt(1 << 40), HtlcID: 3},
			Amount:       600_000,
			MPPTotal:     1_000_000,
			AcceptHeight: 800_000,
			AcceptTime:   time.Unix(1_700_000_100, 0),
			Expiry:       800_100,
			State:        HTLCAccepted,
			CustomRecords: map[uint64][]byte{
				65537: {1, 2}, 5482373484: pre[:],
			},
		}, {
			Circuit:      CircuitKey{ChanID: lnwire.NewShortChanIDFromInt(2 << 40), HtlcID: 9},
			Amount:       400_000,
			MPPTotal:     1_000_000,
			AcceptHeight: 800_001,
			AcceptTime:   time.Unix(1_700_000_101, 0),
			ResolveTime:  time.Unix(1_700_000_200, 0),
			Expiry:       800_101,
			State:        HTLCCanceled,
		}},
	}
}

func sampleCoopClose() *CoopClose {
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: chainhash.Hash{8}, Index: 0}, nil,
		[][]byte{nil, {1, 2}, {3, 4}, {5}}))
	tx.AddTxOut(wire.NewTxOut(400_000, append([]byte{0, 20}, make([]byte, 20)...)))
	return &CoopClose{
		ChanPoint:        sampleOutpoint(8),
		LocalScript:      append([]byte{0, 20}, make([]byte, 20)...),
		ShutdownSent:     true,
		RemoteScript:     append([]byte{0, 32}, make([]byte, 32)...),
		LocallyInitiated: true,
		LocalIsOpener:    true,
		FeeRate:          2500,
		MaxFeeRate:       10_000,
		HeightHint:       800_000,
		ClosingTx:        tx,
		Fee:              1200,
	}
}
