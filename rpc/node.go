package rpc

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"lnd.xprv/internal/zbase32"
	"lnd.xprv/rpc/lnrpc"
)

// signedMessagePrefix is put before every message SignMessage signs, so
// that a signature made for one purpose cannot be passed off as another
// (lnd's and Core Lightning's scheme).
const signedMessagePrefix = "Lightning Signed Message:"

// messageDigest is the digest SignMessage signs and VerifyMessage checks:
// SHA-256 twice (once with single) over the prefix and msg.
func messageDigest(msg []byte, single bool) [32]byte {
	data := make([]byte, 0, len(signedMessagePrefix)+len(msg))
	data = append(data, signedMessagePrefix...)
	data = append(data, msg...)
	if single {
		return sha256.Sum256(data)
	}
	return chainhash.DoubleHashH(data)
}

// unimplemented answers a call whose backend part the daemon did not give.
func unimplemented(what string) error {
	return status.Errorf(codes.Unimplemented, "%s is not available in this node", what)
}

func (l *lightningService) SignMessage(ctx context.Context, req *lnrpc.SignMessageRequest) (*lnrpc.SignMessageResponse, error) {
	b, err := l.node()
	if err != nil {
		return nil, err
	}
	if b.Signer == nil {
		return nil, unimplemented("message signing")
	}
	if len(req.Msg) == 0 {
		return nil, invalidf("need a message to sign")
	}
	sig, err := b.Signer.SignCompact(ctx, messageDigest(req.Msg, req.SingleHash))
	if err != nil {
		return nil, l.s.toStatus(err)
	}
	return &lnrpc.SignMessageResponse{Signature: zbase32.EncodeToString(sig)}, nil
}

// VerifyMessage recovers the signer's key. As in lnd, valid is true only
// for a good signature by a node this node knows (itself or one in its
// graph); a good signature by an unknown key gives valid false with the key,
// and a signature that does not verify gives neither.
func (l *lightningService) VerifyMessage(ctx context.Context, req *lnrpc.VerifyMessageRequest) (*lnrpc.VerifyMessageResponse, error) {
	b, err := l.node()
	if err != nil {
		return nil, err
	}
	if b.Signer == nil {
		return nil, unimplemented("message verification")
	}
	if len(req.Msg) == 0 {
		return nil, invalidf("need a message to verify")
	}
	sig, err := zbase32.DecodeString(strings.TrimSpace(req.Signature))
	if err != nil {
		return nil, invalidf("failed to decode signature: %v", err)
	}
	digest := messageDigest(req.Msg, false)
	pub, _, err := ecdsa.RecoverCompact(sig, digest[:])
	if err != nil {
		return &lnrpc.VerifyMessageResponse{Valid: false}, nil
	}
	known, err := b.Signer.KnownNode(ctx, pub)
	if err != nil {
		return nil, l.s.toStatus(err)
	}
	return &lnrpc.VerifyMessageResponse{
		Valid:  known,
		Pubkey: hex.EncodeToString(pub.SerializeCompressed()),
	}, nil
}

func (l *lightningService) GetRecoveryInfo(ctx context.Context, _ *lnrpc.GetRecoveryInfoRequest) (*lnrpc.GetRecoveryInfoResponse, error) {
	b, err := l.node()
	if err != nil {
		return nil, err
	}
	if b.Recovery == nil {
		return nil, unimplemented("recovery info")
	}
	info, err := b.Recovery.RecoveryInfo(ctx)
	if err != nil {
		return nil, l.s.toStatus(err)
	}
	// lnd reports progress 0 and not finished for a wallet that is not
	// recovering.
	if !info.Recovering {
		return &lnrpc.GetRecoveryInfoResponse{}, nil
	}
	p := min(max(info.Progress, 0), 1)
	return &lnrpc.GetRecoveryInfoResponse{
		RecoveryMode:     true,
		RecoveryFinished: p == 1,
		Progress:         p,
	}, nil
}

// levelAbbrev is how lnd prints each level in DebugLevel's answer.
var levelAbbrev = map[string]string{
	"trace": "TRC", "debug": "DBG", "info": "INF", "warn": "WRN",
	"error": "ERR", "critical": "CRT", "off": "OFF",
}

// DebugLevel answers show with the subsystem names, space-separated, and a
// level spec with every subsystem's new level ("PEER=DBG, RPCS=INF"), both
// as lnd does.
func (l *lightningService) DebugLevel(_ context.Context, req *lnrpc.DebugLevelRequest) (*lnrpc.DebugLevelResponse, error) {
	b, err := l.node()
	if err != nil {
		return nil, err
	}
	if b.Logs == nil {
		return nil, unimplemented("log level control")
	}
	if req.Show {
		return &lnrpc.DebugLevelResponse{SubSystems: strings.Join(b.Logs.Subsystems(), " ")}, nil
	}
	if strings.TrimSpace(req.LevelSpec) == "" {
		return nil, invalidf("level_spec is required: a level (trace, debug, info, warn, error, critical, off), SUB=level pairs, or both, comma-separated")
	}
	if err := b.Logs.SetRunningLevels(req.LevelSpec); err != nil {
		return nil, invalidf("%v", err)
	}
	l.s.log.Info("Log levels changed", "spec", req.LevelSpec)
	levels := b.Logs.Levels()
	for i, lv := range levels {
		sub, name, _ := strings.Cut(lv, "=")
		if abbr, ok := levelAbbrev[name]; ok {
			levels[i] = sub + "=" + abbr
		}
	}
	return &lnrpc.DebugLevelResponse{SubSystems: strings.Join(levels, ", ")}, nil
}
