package bolt11

import (
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
)

// Fallback versions beside the witness versions 0 to 16.
const (
	fallbackP2PKH = 17
	fallbackP2SH  = 18
)

// Fallback is the `f` field: an on-chain address to pay if Lightning fails.
// Address is one of btcutil's P2PKH, P2SH, P2WPKH, P2WSH or P2TR types, or a
// *WitnessAddress for other witness versions and program sizes.
type Fallback struct {
	Address btcutil.Address
}

// Type implements Field.
func (Fallback) Type() FieldType { return FieldFallback }

// witnessAddress is satisfied by every segwit address type, btcutil's and
// ours.
type witnessAddress interface {
	WitnessVersion() byte
	WitnessProgram() []byte
}

func (f Fallback) appendData(dst []byte) ([]byte, error) {
	switch a := f.Address.(type) {
	case *btcutil.AddressPubKeyHash:
		dst = append(dst, fallbackP2PKH)
		return appendBits8to5(dst, a.ScriptAddress()), nil

	case *btcutil.AddressScriptHash:
		dst = append(dst, fallbackP2SH)
		return appendBits8to5(dst, a.ScriptAddress()), nil

	case witnessAddress:
		v, prog := a.WitnessVersion(), a.WitnessProgram()
		if err := checkWitnessProgram(v, prog); err != nil {
			return nil, err
		}
		dst = append(dst, v)
		return appendBits8to5(dst, prog), nil
	}
	return nil, fmt.Errorf("%w: cannot encode %T", ErrInvalidFallback,
		f.Address)
}

// checkWitnessProgram applies BIP 141's rules on program sizes.
func checkWitnessProgram(version byte, prog []byte) error {
	switch {
	case version > 16:
		return fmt.Errorf("%w: witness version %d", ErrInvalidFallback,
			version)
	case version == 0 && len(prog) != 20 && len(prog) != 32:
		return fmt.Errorf("%w: version 0 program of %d bytes",
			ErrInvalidFallback, len(prog))
	case len(prog) < 2 || len(prog) > 40:
		return fmt.Errorf("%w: witness program of %d bytes",
			ErrInvalidFallback, len(prog))
	}
	return nil
}

// decodeFallback reads an `f` field. Versions 19 to 31 are not defined and
// the reader must skip them, so they come back as a RawField.
func decodeFallback(data []byte, net *chaincfg.Params) (Field, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrInvalidFallback)
	}
	version := data[0]
	if version > fallbackP2SH {
		return RawField{Tag: FieldFallback, Data: data}, nil
	}
	prog, err := bits5to8(data[1:])
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidFallback, err)
	}

	var addr btcutil.Address
	switch version {
	case fallbackP2PKH:
		addr, err = btcutil.NewAddressPubKeyHash(prog, net)
	case fallbackP2SH:
		addr, err = btcutil.NewAddressScriptHashFromHash(prog, net)
	default:
		if err := checkWitnessProgram(version, prog); err != nil {
			return nil, err
		}
		switch {
		case version == 0 && len(prog) == 20:
			addr, err = btcutil.NewAddressWitnessPubKeyHash(prog, net)
		case version == 0:
			addr, err = btcutil.NewAddressWitnessScriptHash(prog, net)
		case version == 1 && len(prog) == 32:
			addr, err = btcutil.NewAddressTaproot(prog, net)
		default:
			addr = &WitnessAddress{
				hrp:     strings.ToLower(net.Bech32HRPSegwit),
				version: version,
				program: prog,
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidFallback, err)
	}
	return Fallback{Address: addr}, nil
}

// WitnessAddress is a segwit address of a version or program size btcutil
// has no type for (versions 2 to 16, or version 1 with a program other than
// 32 bytes). It encodes with bech32m as BIP 350 requires.
type WitnessAddress struct {
	hrp     string
	version byte
	program []byte
}

// NewWitnessAddress returns the address of a witness program for net.
func NewWitnessAddress(version byte, program []byte,
	net *chaincfg.Params) (*WitnessAddress, error) {

	if net == nil {
		return nil, ErrNoNetwork
	}
	if err := checkWitnessProgram(version, program); err != nil {
		return nil, err
	}
	return &WitnessAddress{
		hrp:     strings.ToLower(net.Bech32HRPSegwit),
		version: version,
		program: append([]byte(nil), program...),
	}, nil
}

// EncodeAddress returns the bech32m string of the address.
func (a *WitnessAddress) EncodeAddress() string {
	data := appendBits8to5([]byte{a.version}, a.program)
	constant := uint32(bech32mConst)
	if a.version == 0 {
		constant = bech32Const
	}
	return bech32Encode(a.hrp, data, constant)
}

// ScriptAddress returns the witness program.
func (a *WitnessAddress) ScriptAddress() []byte { return a.program }

// IsForNet reports whether the address belongs to net.
func (a *WitnessAddress) IsForNet(net *chaincfg.Params) bool {
	return a.hrp == strings.ToLower(net.Bech32HRPSegwit)
}

// String returns the bech32m string of the address.
func (a *WitnessAddress) String() string { return a.EncodeAddress() }

// WitnessVersion returns the witness version.
func (a *WitnessAddress) WitnessVersion() byte { return a.version }

// WitnessProgram returns the witness program.
func (a *WitnessAddress) WitnessProgram() []byte { return a.program }
