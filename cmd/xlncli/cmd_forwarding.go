package main

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"lnd.xprv/rpc/lnrpc"
)

// The forwarding commands: feereport, updatechanpolicy, fwdinghistory,
// with lncli's flags, positional arguments and JSON.

type feeReportCmd struct{ a *app }

func (c *feeReportCmd) Execute(args []string) error {
	if err := noArgs("feereport", args); err != nil {
		return err
	}
	return c.a.lightning(func(client lnrpc.LightningClient) error {
		resp, err := client.FeeReport(c.a.ctx, &lnrpc.FeeReportRequest{})
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}

type updateChanPolicyCmd struct {
	a                 *app
	BaseFeeMsat       *int64   `long:"base_fee_msat" description:"the base fee in milli-satoshis charged for every forward"`
	FeeRate           *float64 `long:"fee_rate" description:"the fee rate as a decimal (0.000001 is 1 ppm) charged on the forwarded amount"`
	FeeRatePPM        *uint64  `long:"fee_rate_ppm" description:"the fee rate in parts per million charged on the forwarded amount"`
	InboundBaseFee    *int64   `long:"inbound_base_fee_msat" description:"the inbound base fee in milli-satoshis (not supported by xlnd: must be 0)"`
	InboundFeeRatePPM *int64   `long:"inbound_fee_rate_ppm" description:"the inbound fee rate in ppm (not supported by xlnd: must be 0)"`
	TimeLockDelta     *int64   `long:"time_lock_delta" description:"the CLTV delta subtracted from forwarded HTLCs"`
	MinHTLCMsat       *uint64  `long:"min_htlc_msat" description:"the smallest HTLC forwarded, in milli-satoshis"`
	MaxHTLCMsat       uint64   `long:"max_htlc_msat" description:"the largest HTLC forwarded, in milli-satoshis (0 keeps the current one)"`
	ChanPoint         string   `long:"chan_point" description:"the channel to update (txid:index); all channels if absent"`
	CreateMissingEdge bool     `long:"create_missing_edge" description:"create the channel's edge in the graph if missing"`
}

func (c *updateChanPolicyCmd) Execute(args []string) error {
	req := &lnrpc.PolicyUpdateRequest{MaxHtlcMsat: c.MaxHTLCMsat,
		CreateMissingEdge: c.CreateMissingEdge}
	next := func() (string, bool) {
		if len(args) == 0 {
			return "", false
		}
		s := args[0]
		args = args[1:]
		return s, true
	}
	switch s, ok := next(); {
	case c.BaseFeeMsat != nil:
		req.BaseFeeMsat = *c.BaseFeeMsat
		if ok {
			args = append([]string{s}, args...)
		}
	case ok:
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("unable to decode base_fee_msat: %w", err)
		}
		req.BaseFeeMsat = v
	default:
		return errors.New("base_fee_msat argument missing")
	}
	switch {
	case c.FeeRate != nil && c.FeeRatePPM != nil:
		return errors.New("fee_rate or fee_rate_ppm can not both be set")
	case c.FeeRate != nil:
		req.FeeRate = *c.FeeRate
	case c.FeeRatePPM != nil:
		req.FeeRatePpm = uint32(*c.FeeRatePPM)
	default:
		s, ok := next()
		if !ok {
			return errors.New("fee_rate or fee_rate_ppm argument missing")
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("unable to decode fee_rate: %w", err)
		}
		req.FeeRate = v
	}
	switch {
	case c.TimeLockDelta != nil:
		req.TimeLockDelta = uint32(*c.TimeLockDelta)
	default:
		s, ok := next()
		if !ok {
			return errors.New("time_lock_delta argument missing")
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("unable to decode time_lock_delta: %w", err)
		}
		req.TimeLockDelta = uint32(v)
	}
	cp := c.ChanPoint
	if cp == "" {
		cp, _ = next()
	}
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q", args)
	}
	if cp != "" {
		txid, idx, ok := strings.Cut(cp, ":")
		if !ok {
			return errors.New("unable to parse chan_point: expecting txid:index")
		}
		if _, err := chainhash.NewHashFromStr(txid); err != nil {
			return fmt.Errorf("unable to parse chan_point: %w", err)
		}
		n, err := strconv.ParseUint(idx, 10, 32)
		if err != nil {
			return fmt.Errorf("unable to parse chan_point: %w", err)
		}
		req.Scope = &lnrpc.PolicyUpdateRequest_ChanPoint{ChanPoint: &lnrpc.ChannelPoint{
			FundingTxid: &lnrpc.ChannelPoint_FundingTxidStr{FundingTxidStr: txid},
			OutputIndex: uint32(n)}}
	} else {
		req.Scope = &lnrpc.PolicyUpdateRequest_Global{Global: true}
	}
	if c.MinHTLCMsat != nil {
		req.MinHtlcMsat, req.MinHtlcMsatSpecified = *c.MinHTLCMsat, true
	}
	if (c.InboundBaseFee == nil) != (c.InboundFeeRatePPM == nil) {
		return errors.New("both parameters must be provided: " +
			"inbound_base_fee_msat and inbound_fee_rate_ppm")
	}
	if c.InboundBaseFee != nil {
		req.InboundFee = &lnrpc.InboundFee{BaseFeeMsat: int32(*c.InboundBaseFee),
			FeeRatePpm: int32(*c.InboundFeeRatePPM)}
	}
	return c.a.lightning(func(client lnrpc.LightningClient) error {
		resp, err := client.UpdateChannelPolicy(c.a.ctx, req)
		if err != nil {
			return err
		}
		// As lncli: each failed update's outpoint as txid:index.
		type failed struct {
			OutPoint    string `json:"outpoint"`
			Reason      string `json:"reason"`
			UpdateError string `json:"update_error"`
		}
		out := struct {
			FailedUpdates []failed `json:"failed_updates"`
		}{FailedUpdates: []failed{}}
		for _, f := range resp.FailedUpdates {
			var h chainhash.Hash
			var idx uint32
			if f.Outpoint != nil {
				copy(h[:], f.Outpoint.TxidBytes)
				idx = f.Outpoint.OutputIndex
			}
			out.FailedUpdates = append(out.FailedUpdates, failed{
				OutPoint: fmt.Sprintf("%v:%d", h, idx), Reason: f.Reason.String(),
				UpdateError: f.UpdateError})
		}
		return c.a.printJSON(out)
	})
}

type fwdingHistoryCmd struct {
	a                   *app
	StartTime           string   `long:"start_time" description:"the starting time for the query as unix timestamp or relative e.g. \"-1w\""`
	EndTime             string   `long:"end_time" description:"the end time for the query as unix timestamp or relative e.g. \"-1w\""`
	IndexOffset         *int64   `long:"index_offset" description:"the number of events to skip"`
	MaxEvents           *int64   `long:"max_events" description:"the max number of events to return"`
	SkipPeerAliasLookup bool     `long:"skip_peer_alias_lookup" description:"skip the peer alias lookup per forwarding event"`
	IncomingChanIDs     []string `long:"incoming_chan_ids" description:"the short channel id of the incoming channel to filter events by; repeatable"`
	OutgoingChanIDs     []string `long:"outgoing_chan_ids" description:"the short channel id of the outgoing channel to filter events by; repeatable"`
}

// relTime is lncli's relative time: -<n><unit>.
var relTime = regexp.MustCompile(`^-\d{1,18}[smhdwMy]$`)

var secondsPer = map[byte]int64{'s': 1, 'm': 60, 'h': 3600, 'd': 86400,
	'w': 604800, 'M': 2630016, 'y': 31557600}

// relativeTimes lets fwdinghistory take relative times as lncli does
// (fwdinghistory -1w, --start_time -1d), which the flag parser would read
// as options: after fwdinghistory, a relative time becomes --start_time=
// or --end_time= (positionally, in that order).
func relativeTimes(args []string) []string {
	i := slices.Index(args, "fwdinghistory")
	if i < 0 {
		return args
	}
	out := append([]string(nil), args[:i+1]...)
	rest := args[i+1:]
	next := 0
	names := []string{"--start_time", "--end_time"}
	for j := 0; j < len(rest); j++ {
		a := rest[j]
		switch {
		case (a == "--start_time" || a == "--end_time") && j+1 < len(rest) &&
			relTime.MatchString(rest[j+1]):
			out = append(out, a+"="+rest[j+1])
			j++
		case relTime.MatchString(a) && next < len(names):
			out = append(out, names[next]+"="+a)
			next++
		default:
			if !strings.HasPrefix(a, "-") {
				next++
			}
			out = append(out, a)
		}
	}
	return out
}

// parseTime reads a unix timestamp or a time relative to now.
func parseTime(s string, now time.Time) (uint64, error) {
	if relTime.MatchString(s) {
		n, err := strconv.ParseInt(s[1:len(s)-1], 10, 64)
		if err != nil {
			return 0, err
		}
		return uint64(now.Unix() - n*secondsPer[s[len(s)-1]]), nil
	}
	return strconv.ParseUint(s, 10, 64)
}

func (c *fwdingHistoryCmd) Execute(args []string) error {
	now := time.Now()
	next := func() (string, bool) {
		if len(args) == 0 {
			return "", false
		}
		s := args[0]
		args = args[1:]
		return s, true
	}
	req := &lnrpc.ForwardingHistoryRequest{PeerAliasLookup: !c.SkipPeerAliasLookup}
	var err error
	start, end := c.StartTime, c.EndTime
	if start == "" {
		start, _ = next()
	}
	if start == "" {
		req.StartTime = uint64(now.Add(-24 * time.Hour).Unix())
	} else if req.StartTime, err = parseTime(start, now); err != nil {
		return fmt.Errorf("unable to decode start_time: %w", err)
	}
	if end == "" {
		end, _ = next()
	}
	if end == "" {
		req.EndTime = uint64(now.Unix())
	} else if req.EndTime, err = parseTime(end, now); err != nil {
		return fmt.Errorf("unable to decode end_time: %w", err)
	}
	num := func(flag *int64, what string) (uint32, error) {
		if flag != nil {
			return uint32(*flag), nil
		}
		s, ok := next()
		if !ok {
			return 0, nil
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("unable to decode %s: %w", what, err)
		}
		return uint32(v), nil
	}
	if req.IndexOffset, err = num(c.IndexOffset, "index_offset"); err != nil {
		return err
	}
	if req.NumMaxEvents, err = num(c.MaxEvents, "max_events"); err != nil {
		return err
	}
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q", args)
	}
	for _, l := range []struct {
		in   []string
		out  *[]uint64
		what string
	}{{c.IncomingChanIDs, &req.IncomingChanIds, "incoming_chan_ids"},
		{c.OutgoingChanIDs, &req.OutgoingChanIds, "outgoing_chan_ids"}} {
		for _, s := range l.in {
			v, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				return fmt.Errorf("unable to decode %s: %w", l.what, err)
			}
			*l.out = append(*l.out, v)
		}
	}
	return c.a.lightning(func(client lnrpc.LightningClient) error {
		resp, err := client.ForwardingHistory(c.a.ctx, req)
		if err != nil {
			return err
		}
		return c.a.printRespJSON(resp)
	})
}
