package netparams

import "testing"

func TestByName(t *testing.T) {
	for _, name := range Names {
		n, err := ByName(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n.Name != name {
			t.Errorf("ByName(%q).Name = %q", name, n.Name)
		}
		if (name == "mainnet") != (n.CoinType == 0) {
			t.Errorf("%s: coin type %d", name, n.CoinType)
		}
	}
	tn4, _ := ByName("testnet4")
	if got := tn4.Params.GenesisHash.String(); got !=
		"00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043" {
		t.Errorf("testnet4 genesis %s", got)
	}
	if _, err := ByName("litecoin"); err == nil {
		t.Error("unknown network accepted")
	}
}
