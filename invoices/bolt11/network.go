package bolt11

import (
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/chaincfg"
)

// networks lists the currency part of every prefix we know, longest first so
// that "bcrt" is not mistaken for "bc" followed by an amount.
func networkForCurrency(currency string) *chaincfg.Params {
	switch currency {
	case "bc":
		return &chaincfg.MainNetParams
	case "tb":
		return &chaincfg.TestNet3Params
	case "tbs":
		return &chaincfg.SigNetParams
	case "bcrt":
		return &chaincfg.RegressionNetParams
	case "sb":
		return &chaincfg.SimNetParams
	}
	return nil
}

// Prefix returns the BOLT 11 prefix ("ln" and the currency) of invoices for
// net: lnbc, lntb, lntbs, lnbcrt or lnsb. Signets share testnet's segwit
// prefix "tb" but have their own invoice prefix, so they are told apart by
// name; any other network uses "ln" and its segwit prefix.
func Prefix(net *chaincfg.Params) (string, error) {
	if net == nil {
		return "", ErrNoNetwork
	}
	if net.Name == chaincfg.SigNetParams.Name {
		return "lntbs", nil
	}
	// The known networks' prefixes without building them (every
	// invoice made asks).
	switch net.Bech32HRPSegwit {
	case "bc":
		return "lnbc", nil
	case "tb":
		return "lntb", nil
	case "bcrt":
		return "lnbcrt", nil
	case "sb":
		return "lnsb", nil
	case "":
		return "", fmt.Errorf("%w: network %q has no bech32 prefix",
			ErrUnknownPrefix, net.Name)
	}
	return "ln" + strings.ToLower(net.Bech32HRPSegwit), nil
}

// NetworkForPrefix returns the network of an invoice prefix such as "lnbc"
// or "lntbs" (any case). It is how Decode learns the network when it is not
// told one.
func NetworkForPrefix(prefix string) (*chaincfg.Params, error) {
	p := strings.ToLower(prefix)
	if !strings.HasPrefix(p, "ln") {
		return nil, fmt.Errorf("%w: %q", ErrUnknownPrefix, prefix)
	}
	net := networkForCurrency(p[2:])
	if net == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownPrefix, prefix)
	}
	return net, nil
}

// splitHRP separates a lower-case human-readable part into its prefix
// ("lnbc") and its amount text ("2500u", or "" when absent). The amount
// begins at the first digit: no currency contains one.
func splitHRP(hrp string) (prefix, amount string) {
	for i := 0; i < len(hrp); i++ {
		if hrp[i] >= '0' && hrp[i] <= '9' {
			return hrp[:i], hrp[i:]
		}
	}
	return hrp, ""
}
