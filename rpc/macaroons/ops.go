package macaroons

import (
	"fmt"
	"slices"
	"strings"
)

// Op is one permission: an entity (onchain, offchain, address, message,
// peers, info, invoices, signer, macaroon, uri) and an action on it (read,
// write, generate). For the entity "uri" the action is a full gRPC method
// name, granting exactly that method.
type Op struct {
	Entity string
	Action string
}

func (o Op) String() string { return o.Entity + ":" + o.Action }

// EntityURI is the entity whose action names a single gRPC method.
const EntityURI = "uri"

// ReadPermissions are the ops of readonly.macaroon: every read action.
func ReadPermissions() []Op {
	return []Op{
		{"onchain", "read"}, {"offchain", "read"}, {"address", "read"},
		{"message", "read"}, {"peers", "read"}, {"info", "read"},
		{"invoices", "read"}, {"signer", "read"}, {"macaroon", "read"},
	}
}

// WritePermissions are the write and generate actions that admin.macaroon
// adds to ReadPermissions.
func WritePermissions() []Op {
	return []Op{
		{"onchain", "write"}, {"offchain", "write"}, {"address", "write"},
		{"message", "write"}, {"peers", "write"}, {"info", "write"},
		{"invoices", "write"}, {"signer", "generate"},
		{"macaroon", "generate"}, {"macaroon", "write"},
		{"remotesigner", "generate"},
	}
}

// AdminPermissions are the ops of admin.macaroon: everything.
func AdminPermissions() []Op {
	return append(ReadPermissions(), WritePermissions()...)
}

// InvoicePermissions are the ops of invoice.macaroon: invoices, addresses
// and reading the on-chain wallet.
func InvoicePermissions() []Op {
	return []Op{
		{"invoices", "read"}, {"invoices", "write"},
		{"address", "read"}, {"address", "write"},
		{"onchain", "read"},
	}
}

// Allows reports whether granted covers every op in required. A uri op
// naming method grants the whole call whatever it requires.
func Allows(granted, required []Op, method string) error {
	if method != "" && slices.Contains(granted, Op{EntityURI, method}) {
		return nil
	}
	var missing []string
	for _, r := range required {
		if !slices.Contains(granted, r) {
			missing = append(missing, r.String())
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: missing %s", ErrPermissionDenied,
			strings.Join(missing, ", "))
	}
	return nil
}
