package channeldb

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"lnd.xprv/channeldb/kvdb"
)

func TestCoopCloseStore(t *testing.T) {
	db, _ := openTestDB(t)
	c := sampleCoopClose()
	c.ChanPoint = sampleOutpoint(7)
	err := db.Update(func(tx kvdb.RwTx) error { return PutCoopClose(tx, c) })
	if err != nil {
		t.Fatal(err)
	}
	var got *CoopClose
	var all []*CoopClose
	err = db.View(func(tx kvdb.RTx) error {
		var err error
		if got, err = FetchCoopClose(tx, c.ChanPoint); err != nil {
			return err
		}
		all, err = ListCoopCloses(tx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.ClosingTx.TxHash() != c.ClosingTx.TxHash() {
		t.Fatal("closing tx changed")
	}
	got.ClosingTx, c.ClosingTx = nil, nil
	if !reflect.DeepEqual(got, c) || len(all) != 1 {
		t.Fatalf("got %+v, want %+v (%d listed)", got, c, len(all))
	}

	// Closing needs the open channel, then is idempotent; the close in
	// progress goes with it.
	sum := sampleClosed()
	sum.CloseType, sum.IsPending = CooperativeClose, false
	if err := db.CloseCooperatively(sum.ChanPoint, sum); !errors.Is(err,
		ErrChannelNotFound) {

		t.Fatalf("closed a channel never open: %v", err)
	}
	st := testChannel(t, 1)
	st.FundingOutpoint = sum.ChanPoint
	if err := db.Update(func(tx kvdb.RwTx) error { return PutOpenChannel(tx, st) }); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := db.CloseCooperatively(sum.ChanPoint, sum); err != nil {
			t.Fatalf("close %d: %v", i, err)
		}
	}
	err = db.View(func(tx kvdb.RTx) error {
		if _, err := FetchCoopClose(tx, c.ChanPoint); !errors.Is(err, ErrCoopCloseNotFound) {
			return errors.New("close in progress kept")
		}
		done, err := FetchClosedCoop(tx, c.ChanPoint)
		if err != nil || !done.LocallyInitiated || !done.LocalIsOpener {
			return fmt.Errorf("closed record %+v, %v", done, err)
		}
		if _, err := FetchOpenChannel(tx, c.ChanPoint); !errors.Is(err, ErrChannelNotFound) {
			return errors.New("open channel kept")
		}
		s, err := FetchClosedChannel(tx, c.ChanPoint)
		if err != nil || s.CloseType != CooperativeClose {
			return errors.New("no cooperative summary")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestChanStatus(t *testing.T) {
	db, _ := openTestDB(t)
	op := sampleOutpoint(3)
	if s, err := db.FetchChanStatus(op); err != nil || s != 0 || s.String() != "ChanStatusDefault" {
		t.Fatalf("fresh status %v, %v", s, err)
	}
	for i := 0; i < 2; i++ {
		if err := db.AddChanStatus(op, ChanStatusLocalDataLoss); err != nil {
			t.Fatal(err)
		}
	}
	s, err := db.FetchChanStatus(op)
	if err != nil || s != ChanStatusLocalDataLoss ||
		s.String() != "ChanStatusBorked|ChanStatusLocalDataLoss" {

		t.Fatalf("status %v, %v", s, err)
	}
	if s, _ := db.FetchChanStatus(sampleOutpoint(4)); s != 0 {
		t.Fatal("status of another channel")
	}
}
