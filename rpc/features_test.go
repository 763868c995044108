package rpc

import "testing"

func TestFeatureName(t *testing.T) {
	cases := []struct {
		bit      uint32
		fallback string
		want     string
	}{
		{0, "option_data_loss_protect", "data-loss-protect"},
		{1, "option_data_loss_protect", "data-loss-protect"},
		{3, "initial_routing_sync", "initial-routing-sync"},
		{23, "option_anchors", "anchors-zero-fee-htlc-tx"},
		{45, "option_channel_type", "explicit-commitment-type"},
		{2023, "unknown", "script-enforced-lease"},
		{2025, "unknown", "taproot-overlay-chans"},
		{29, "option_dual_fund", "option_dual_fund"}, // lnd names no such bit
		{201, "unknown", "unknown"},
	}
	for _, c := range cases {
		if got := FeatureName(c.bit, c.fallback); got != c.want {
			t.Errorf("FeatureName(%d) = %q, want %q", c.bit, got, c.want)
		}
	}
}
