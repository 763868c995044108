package lnwallet

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/btcsuite/btcd/btcutil"

	"lnd.xprv/lnwallet/chainfee"
)

// appendixFCase is one entry of the JSON block of BOLT 3 Appendix F.
type appendixFCase struct {
	Name              string
	LocalBalance      uint64
	RemoteBalance     uint64
	DustLimitSatoshis int64
	FeePerKw          int64
	UseTestHtlcs      bool
	HtlcDescs         []struct {
		RemoteSigHex    string
		ResolutionTxHex string
	}
	ExpectedCommitmentTxHex string
	RemoteSigHex            string
}

// TestAppendixF builds every anchor commitment of Appendix F from its
// inputs, on both sides, and compares the signed commitment, the remote
// commitment signature, every remote HTLC signature
// (SIGHASH_SINGLE|ANYONECANPAY) and every signed HTLC transaction.
func TestAppendixF(t *testing.T) {
	data, err := os.ReadFile("testdata/bolt03-appendix-f.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []appendixFCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) != 9 {
		t.Fatalf("parsed %d Appendix F cases, want 9", len(cases))
	}

	base := loadAppendixCChannel(t, ChannelTypeAnchors)
	for _, vc := range cases {
		t.Run(vc.Name, func(t *testing.T) {
			tc := *base
			local := *base.local
			local.Local.DustLimit = btcutil.Amount(vc.DustLimitSatoshis)
			tc.local, tc.remote = &local, mirror(&local)

			spec := &CommitmentSpec{
				Number:            tc.commitNumber,
				FeeRate:           chainfee.SatPerKWeight(vc.FeePerKw),
				LocalBalanceMsat:  vc.LocalBalance,
				RemoteBalanceMsat: vc.RemoteBalance,
				HTLCs:             tc.htlcSet(vc.Name, vc.UseTestHtlcs),
			}
			want := vectorCommitment{
				remoteSig: vc.RemoteSigHex,
				tx:        vc.ExpectedCommitmentTxHex,
				numHTLCs:  len(vc.HtlcDescs),
			}
			for _, d := range vc.HtlcDescs {
				want.htlcs = append(want.htlcs, appendixCHTLC{
					remoteSig: d.RemoteSigHex,
					tx:        d.ResolutionTxHex,
					htlc:      -1,
				})
			}
			checkCommitment(t, &tc, spec, want)
		})
	}
}
