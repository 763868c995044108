package macaroons

import (
	"errors"
	"fmt"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
)

// idVersion is the first byte of an identifier: the macaroon bakery's
// version 3, which lnd uses.
const idVersion = 3

// Field numbers of the bakery's MacaroonId and Op protobuf messages.
const (
	fieldNonce     = 1
	fieldStorageID = 2
	fieldOps       = 3

	fieldOpEntity  = 1
	fieldOpActions = 2
)

// ErrBadID is returned for an identifier that is not version 3 protobuf.
var ErrBadID = errors.New("malformed macaroon identifier")

// ID is a decoded macaroon identifier.
type ID struct {
	Nonce     []byte
	StorageID []byte
	Ops       []Op
}

// Encode serialises id as lnd does: byte 3, then the MacaroonId protobuf
// with ops grouped by entity, entities and actions in sorted order.
func (id *ID) Encode() []byte {
	byEntity := make(map[string][]string)
	for _, op := range id.Ops {
		if !slices.Contains(byEntity[op.Entity], op.Action) {
			byEntity[op.Entity] = append(byEntity[op.Entity], op.Action)
		}
	}
	entities := make([]string, 0, len(byEntity))
	for e := range byEntity {
		entities = append(entities, e)
	}
	slices.Sort(entities)

	b := []byte{idVersion}
	b = protowire.AppendTag(b, fieldNonce, protowire.BytesType)
	b = protowire.AppendBytes(b, id.Nonce)
	b = protowire.AppendTag(b, fieldStorageID, protowire.BytesType)
	b = protowire.AppendBytes(b, id.StorageID)
	for _, e := range entities {
		actions := byEntity[e]
		slices.Sort(actions)
		var op []byte
		op = protowire.AppendTag(op, fieldOpEntity, protowire.BytesType)
		op = protowire.AppendString(op, e)
		for _, a := range actions {
			op = protowire.AppendTag(op, fieldOpActions, protowire.BytesType)
			op = protowire.AppendString(op, a)
		}
		b = protowire.AppendTag(b, fieldOps, protowire.BytesType)
		b = protowire.AppendBytes(b, op)
	}
	return b
}

// DecodeID parses an identifier written by Encode, by lnd or by the macaroon
// bakery (version 3). Unknown fields are skipped.
func DecodeID(b []byte) (*ID, error) {
	if len(b) == 0 || b[0] != idVersion {
		return nil, fmt.Errorf("%w: not version %d", ErrBadID, idVersion)
	}
	id := &ID{}
	err := walk(b[1:], func(num protowire.Number, v []byte) error {
		switch num {
		case fieldNonce:
			id.Nonce = slices.Clone(v)
		case fieldStorageID:
			id.StorageID = slices.Clone(v)
		case fieldOps:
			var entity string
			var actions []string
			err := walk(v, func(num protowire.Number, v []byte) error {
				switch num {
				case fieldOpEntity:
					entity = intern(v)
				case fieldOpActions:
					actions = append(actions, intern(v))
				}
				return nil
			})
			if err != nil {
				return err
			}
			for _, a := range actions {
				id.Ops = append(id.Ops, Op{entity, a})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return id, nil
}

// intern returns v as a string, without allocating for the entities and
// actions lnd and xlnd bake: every call's macaroon is decoded, and an
// admin macaroon names about thirty of them.
func intern(v []byte) string {
	// A switch on string(v) compares without converting.
	switch string(v) {
	case "read":
		return "read"
	case "write":
		return "write"
	case "generate":
		return "generate"
	case "onchain":
		return "onchain"
	case "offchain":
		return "offchain"
	case "address":
		return "address"
	case "message":
		return "message"
	case "peers":
		return "peers"
	case "info":
		return "info"
	case "invoices":
		return "invoices"
	case "signer":
		return "signer"
	case "macaroon":
		return "macaroon"
	case "remotesigner":
		return "remotesigner"
	case EntityURI:
		return EntityURI
	}
	return string(v)
}

// walk calls fn for each length-delimited field of a protobuf message and
// skips fields of other wire types.
func walk(b []byte, fn func(protowire.Number, []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("%w: %v", ErrBadID, protowire.ParseError(n))
		}
		b = b[n:]
		if typ != protowire.BytesType {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return fmt.Errorf("%w: %v", ErrBadID, protowire.ParseError(n))
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return fmt.Errorf("%w: %v", ErrBadID, protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(num, v); err != nil {
			return err
		}
	}
	return nil
}
