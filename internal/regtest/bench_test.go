package regtest

import "testing"

// BenchmarkMine measures mining one block through btcd's generate RPC.
func BenchmarkMine(b *testing.B) {
	node := StartBtcd(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		node.Mine(1)
	}
}

// BenchmarkSendTo measures one payment from the miner's coins: coin
// selection with gettxout checks, signing and broadcast. A block is mined
// every 100 payments to keep the mempool chain short.
func BenchmarkSendTo(b *testing.B) {
	node := StartBtcd(b)
	script := node.minerScript
	if _, err := node.SendTo(script, 100_000); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := node.SendTo(script, 100_000); err != nil {
			b.Fatal(err)
		}
		if i%100 == 99 {
			node.Mine(1)
		}
	}
}
