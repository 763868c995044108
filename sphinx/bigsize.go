package sphinx

import "lnd.xprv/lnwire/tlv"

// The hop_payloads framing uses BigSize lengths; the codec is lnwire/tlv's.

func bigSizeLen(v uint64) int { return tlv.BigSizeLen(v) }

func appendBigSize(b []byte, v uint64) []byte { return tlv.AppendBigSize(b, v) }

func parseBigSize(b []byte) (uint64, int, error) { return tlv.ParseBigSize(b) }
