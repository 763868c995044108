package bolt11

import "slices"

// FeatureBit is the number of a feature bit in the `9` field; bit 0 is the
// least significant. Even bits mean the feature is required, odd ones that it
// is supported ("it's OK to be odd", BOLT 9).
type FeatureBit uint16

// Feature bits BOLT 9 allows in invoices (context "9"), by their even
// (required) number; the optional bit is one higher.
const (
	FeatureVarOnionOptin   FeatureBit = 8
	FeaturePaymentSecret   FeatureBit = 14
	FeatureBasicMPP        FeatureBit = 16
	FeatureRouteBlinding   FeatureBit = 24
	FeatureAttributionData FeatureBit = 36
	FeaturePaymentMetadata FeatureBit = 48
)

// IsRequired reports whether the bit is the even, required one of its pair.
func (b FeatureBit) IsRequired() bool { return b&1 == 0 }

// knownInvoiceFeature reports whether bit belongs to a feature this package
// knows how to honour when paying an invoice, the default when the caller
// gives no list of its own.
func knownInvoiceFeature(bit FeatureBit) bool {
	switch bit &^ 1 {
	case FeatureVarOnionOptin, FeaturePaymentSecret, FeatureBasicMPP,
		FeatureRouteBlinding, FeatureAttributionData,
		FeaturePaymentMetadata:
		return true
	}
	return false
}

// featureDeps lists, for each known feature pair (by even bit), the pairs it
// depends on (BOLT 9 "Dependencies").
func featureDeps(bit FeatureBit) []FeatureBit {
	if bit&^1 == FeatureBasicMPP {
		return []FeatureBit{FeaturePaymentSecret}
	}
	return nil
}

// maxFeatureBit is the highest bit a `9` field can carry: 1023 groups of 5.
const maxFeatureBit = 1023*5 - 1

// Features is the raw bit set of an invoice's `9` field. Every bit is kept,
// known or not, so that an invoice re-encodes exactly. The zero value is the
// empty set.
type Features struct {
	// bits holds bit i at bits[i/8] & (1 << (i%8)); no trailing zero
	// bytes.
	bits []byte
}

// NewFeatures returns a set holding the given bits.
func NewFeatures(bits ...FeatureBit) Features {
	var f Features
	for _, b := range bits {
		f.Set(b)
	}
	return f
}

// IsSet reports whether bit is set.
func (f Features) IsSet(bit FeatureBit) bool {
	i := int(bit / 8)
	return i < len(f.bits) && f.bits[i]&(1<<(bit%8)) != 0
}

// HasFeature reports whether either bit of the pair holding bit is set.
func (f Features) HasFeature(bit FeatureBit) bool {
	return f.IsSet(bit&^1) || f.IsSet(bit|1)
}

// Set sets bit. Bits above the `9` field's capacity are ignored.
func (f *Features) Set(bit FeatureBit) {
	if bit > maxFeatureBit {
		return
	}
	i := int(bit / 8)
	if i >= len(f.bits) {
		f.bits = append(f.bits, make([]byte, i+1-len(f.bits))...)
	}
	f.bits[i] |= 1 << (bit % 8)
}

// Unset clears bit.
func (f *Features) Unset(bit FeatureBit) {
	i := int(bit / 8)
	if i >= len(f.bits) {
		return
	}
	f.bits[i] &^= 1 << (bit % 8)
	f.trim()
}

func (f *Features) trim() {
	n := len(f.bits)
	for n > 0 && f.bits[n-1] == 0 {
		n--
	}
	f.bits = f.bits[:n]
}

// Bits returns the set bits in ascending order.
func (f Features) Bits() []FeatureBit {
	var out []FeatureBit
	for i, b := range f.bits {
		for j := range 8 {
			if b&(1<<j) != 0 {
				out = append(out, FeatureBit(i*8+j))
			}
		}
	}
	return out
}

// IsEmpty reports whether no bit is set.
func (f Features) IsEmpty() bool { return len(f.bits) == 0 }

// Equal reports whether f and o hold the same bits.
func (f Features) Equal(o Features) bool { return slices.Equal(f.bits, o.bits) }

// UnknownRequired returns the even bits set in f that known does not
// recognise, in ascending order.
func (f Features) UnknownRequired(known func(FeatureBit) bool) []FeatureBit {
	// Over the bytes rather than Bits(), which would allocate the list
	// for every invoice checked.
	var out []FeatureBit
	for i, by := range f.bits {
		for j := range 8 {
			b := FeatureBit(i*8 + j)
			if by&(1<<j) != 0 && b.IsRequired() && !known(b) {
				out = append(out, b)
			}
		}
	}
	return out
}

// featuresFrom5 reads a `9` field: big-endian 5-bit groups, the last group
// holding bits 0 to 4.
func featuresFrom5(data []byte) Features {
	var f Features
	n := len(data)
	for i, g := range data {
		base := FeatureBit(5 * (n - 1 - i))
		for j := range FeatureBit(5) {
			if g&(1<<j) != 0 {
				f.Set(base + j)
			}
		}
	}
	return f
}

// appendFeatures5 writes f in the fewest 5-bit groups that hold its highest
// bit (none for the empty set).
func appendFeatures5(dst []byte, f Features) []byte {
	bitsSet := f.Bits()
	if len(bitsSet) == 0 {
		return dst
	}
	n := int(bitsSet[len(bitsSet)-1])/5 + 1
	start := len(dst)
	dst = append(dst, make([]byte, n)...)
	for _, b := range bitsSet {
		g := n - 1 - int(b)/5
		dst[start+g] |= 1 << (b % 5)
	}
	return dst
}
