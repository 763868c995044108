package routing

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"lnd.xprv/lnwire"
)

// Mission control's results as stored: a version byte, a u32 count, then
// per pair the two node keys, and the failure's and the success's time
// (Unix nanoseconds, 0 for none) and amount (msat), all big-endian.

const (
	pairRecordsVersion = 1
	pairRecordLen      = 33 + 33 + 4*8
)

// ErrBadPairRecords is returned for stored results that do not decode.
var ErrBadPairRecords = errors.New("routing: malformed mission control records")

// EncodePairRecords serialises records for a Store.
func EncodePairRecords(recs []PairRecord) []byte {
	b := make([]byte, 0, 5+len(recs)*pairRecordLen)
	b = append(b, pairRecordsVersion)
	b = binary.BigEndian.AppendUint32(b, uint32(len(recs)))
	for i := range recs {
		r := &recs[i]
		b = append(b, r.From[:]...)
		b = append(b, r.To[:]...)
		b = binary.BigEndian.AppendUint64(b, unixNano(r.FailTime))
		b = binary.BigEndian.AppendUint64(b, uint64(r.FailAmt))
		b = binary.BigEndian.AppendUint64(b, unixNano(r.SuccessTime))
		b = binary.BigEndian.AppendUint64(b, uint64(r.SuccessAmt))
	}
	return b
}

func unixNano(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(t.UnixNano())
}

func fromUnixNano(v uint64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(v))
}

// DecodePairRecords parses what EncodePairRecords wrote.
func DecodePairRecords(b []byte) ([]PairRecord, error) {
	if len(b) < 5 {
		return nil, fmt.Errorf("%w: %d bytes", ErrBadPairRecords, len(b))
	}
	if b[0] != pairRecordsVersion {
		return nil, fmt.Errorf("%w: version %d", ErrBadPairRecords, b[0])
	}
	n := binary.BigEndian.Uint32(b[1:5])
	b = b[5:]
	if uint64(len(b)) != uint64(n)*pairRecordLen {
		return nil, fmt.Errorf("%w: %d records in %d bytes", ErrBadPairRecords, n, len(b))
	}
	recs := make([]PairRecord, n)
	for i := range recs {
		r := &recs[i]
		copy(r.From[:], b[0:33])
		copy(r.To[:], b[33:66])
		for _, v := range []Vertex{r.From, r.To} {
			if v[0] != 2 && v[0] != 3 {
				return nil, fmt.Errorf("%w: record %d: node key prefix %#x", ErrBadPairRecords, i, v[0])
			}
		}
		if r.From == r.To {
			return nil, fmt.Errorf("%w: record %d: pair of one node", ErrBadPairRecords, i)
		}
		f := b[66:]
		r.FailTime = fromUnixNano(binary.BigEndian.Uint64(f[0:]))
		r.FailAmt = lnwire.MilliSatoshi(binary.BigEndian.Uint64(f[8:]))
		r.SuccessTime = fromUnixNano(binary.BigEndian.Uint64(f[16:]))
		r.SuccessAmt = lnwire.MilliSatoshi(binary.BigEndian.Uint64(f[24:]))
		if r.FailAmt > lnwire.MaxMilliSatoshi || r.SuccessAmt > lnwire.MaxMilliSatoshi {
			return nil, fmt.Errorf("%w: record %d: amount over 21M BTC", ErrBadPairRecords, i)
		}
		b = b[pairRecordLen:]
	}
	return recs, nil
}
