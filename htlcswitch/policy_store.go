package htlcswitch

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/wire"

	"lnd.xprv/channeldb"
	"lnd.xprv/channeldb/kvdb"
	"lnd.xprv/lnwire"
)

// The forwarding policies of our channels, one record per channel point:
//
//	htlcswitch-policies/
//	    channel point (36) -> version(1) base fee msat(8) fee rate ppm(4)
//	                          time-lock delta(4) min htlc msat(8)
//	                          max htlc msat(8)
//
// A channel with no record forwards under Config.DefaultPolicy.

var policyBucket = []byte("htlcswitch-policies")

const (
	policyVersion = 1
	policyLen     = 1 + 8 + 4 + 4 + 8 + 8
)

var errCorruptPolicy = errors.New("htlcswitch: corrupt forwarding policy")

func encodePolicy(p *ForwardingPolicy) []byte {
	b := []byte{policyVersion}
	b = binary.BigEndian.AppendUint64(b, uint64(p.BaseFee))
	b = binary.BigEndian.AppendUint32(b, p.FeeRatePPM)
	b = binary.BigEndian.AppendUint32(b, p.TimeLockDelta)
	b = binary.BigEndian.AppendUint64(b, uint64(p.MinHTLC))
	return binary.BigEndian.AppendUint64(b, uint64(p.MaxHTLC))
}

func decodePolicy(v []byte) (ForwardingPolicy, error) {
	if len(v) != policyLen || v[0] != policyVersion {
		return ForwardingPolicy{}, fmt.Errorf("%w: %d bytes", errCorruptPolicy, len(v))
	}
	return ForwardingPolicy{
		BaseFee:       lnwire.MilliSatoshi(binary.BigEndian.Uint64(v[1:])),
		FeeRatePPM:    binary.BigEndian.Uint32(v[9:]),
		TimeLockDelta: binary.BigEndian.Uint32(v[13:]),
		MinHTLC:       lnwire.MilliSatoshi(binary.BigEndian.Uint64(v[17:])),
		MaxHTLC:       lnwire.MilliSatoshi(binary.BigEndian.Uint64(v[25:])),
	}, nil
}

func parseChanKey(k []byte) (wire.OutPoint, bool) {
	var op wire.OutPoint
	if len(k) != 36 {
		return op, false
	}
	copy(op.Hash[:], k[:32])
	op.Index = binary.BigEndian.Uint32(k[32:])
	return op, true
}

// loadPolicies reads every stored policy.
func (s *Switch) loadPolicies() error {
	loaded := map[wire.OutPoint]ForwardingPolicy{}
	err := s.cfg.DB.View(func(tx kvdb.RTx) error {
		b := tx.ReadBucket(policyBucket)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			op, ok := parseChanKey(k)
			if !ok {
				return fmt.Errorf("%w: key %x", errCorruptPolicy, k)
			}
			p, err := decodePolicy(v)
			if err != nil {
				return fmt.Errorf("policy of %v: %w", op, err)
			}
			loaded[op] = p
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("htlcswitch: load policies: %w", err)
	}
	s.mu.Lock()
	s.policies = loaded
	s.mu.Unlock()
	return nil
}

// Policy returns the forwarding policy of our channel at op.
func (s *Switch) Policy(op wire.OutPoint) ForwardingPolicy { return s.policy(op) }

// SetPolicies persists the policies of the given channels and applies
// them to every forward from now on; OnPolicyUpdate is then called with
// the channels.
func (s *Switch) SetPolicies(policies map[wire.OutPoint]ForwardingPolicy) error {
	err := s.cfg.DB.Update(func(tx kvdb.RwTx) error {
		b, err := tx.CreateTopLevelBucket(policyBucket)
		if err != nil {
			return err
		}
		for op, p := range policies {
			p := p
			if err := b.Put(channeldb.ChannelKey(op), encodePolicy(&p)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("htlcswitch: store policies: %w", err)
	}
	ops := make([]wire.OutPoint, 0, len(policies))
	s.mu.Lock()
	for op, p := range policies {
		s.policies[op] = p
		ops = append(ops, op)
	}
	s.mu.Unlock()
	if s.cfg.OnPolicyUpdate != nil {
		s.cfg.OnPolicyUpdate(ops)
	}
	return nil
}
