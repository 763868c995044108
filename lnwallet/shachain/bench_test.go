package shachain

import "testing"

// BenchmarkProducer derives a secret at a worst-case index (48 hashes).
func BenchmarkProducer(b *testing.B) {
	p := NewProducer([32]byte{1})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := p.AtIndex(MaxIndex); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStoreInsert measures receiving one revocation secret,
// averaged over a long run of consecutive inserts.
func BenchmarkStoreInsert(b *testing.B) {
	p := NewProducer([32]byte{2})
	secrets := make([][32]byte, 1<<12)
	for i := range secrets {
		secrets[i], _ = p.AtIndex(MaxIndex - uint64(i))
	}
	b.ReportAllocs()
	b.ResetTimer()
	s := NewStore()
	for i := 0; i < b.N; i++ {
		j := i % len(secrets)
		if j == 0 {
			s = NewStore()
		}
		if err := s.Insert(MaxIndex-uint64(j), secrets[j]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStoreLookUp recovers an old secret from a store of 4096.
func BenchmarkStoreLookUp(b *testing.B) {
	p := NewProducer([32]byte{3})
	s := NewStore()
	for i := uint64(0); i < 1<<12; i++ {
		sec, _ := p.AtIndex(MaxIndex - i)
		_ = s.Insert(MaxIndex-i, sec)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.LookUp(MaxIndex - 1); err != nil {
			b.Fatal(err)
		}
	}
}
