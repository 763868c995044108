package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// lncli prints bytes fields as hex (lnd's protojson fork), where
// protojson writes base64. hexBytesJSON rewrites protojson's output of a
// message of type md accordingly, keeping the field order.
func hexBytesJSON(js []byte, md protoreflect.MessageDescriptor) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	v, err := readOrdered(dec)
	if err != nil {
		return nil, err
	}
	if err := hexMessage(v, md); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	err = writeJSON(&b, v)
	return b.Bytes(), err
}

// object is a JSON object with its keys in order.
type object struct {
	keys []string
	vals map[string]any
}

// writeJSON writes v compactly, without escaping HTML characters (as
// protojson).
func writeJSON(b *bytes.Buffer, v any) error {
	switch t := v.(type) {
	case *object:
		b.WriteByte('{')
		for i, k := range t.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSON(b, k); err != nil {
				return err
			}
			b.WriteByte(':')
			if err := writeJSON(b, t.vals[k]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSON(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	default:
		enc := json.NewEncoder(b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(t); err != nil {
			return err
		}
		b.Truncate(b.Len() - 1) // Encode's newline
	}
	return nil
}

func readOrdered(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := &object{vals: map[string]any{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := readOrdered(dec)
				if err != nil {
					return nil, err
				}
				o.keys = append(o.keys, k)
				o.vals[k] = v
			}
			_, err := dec.Token()
			return o, err
		case '[':
			var a []any
			for dec.More() {
				v, err := readOrdered(dec)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			_, err := dec.Token()
			if a == nil {
				a = []any{}
			}
			return a, err
		}
		return nil, errors.New("unexpected JSON delimiter")
	}
	return tok, nil
}

// hexMessage turns the base64 bytes fields of v (a message md) to hex.
func hexMessage(v any, md protoreflect.MessageDescriptor) error {
	o, ok := v.(*object)
	if !ok {
		return nil
	}
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		val, ok := o.vals[string(fd.Name())]
		if !ok {
			continue
		}
		nv, err := hexField(val, fd)
		if err != nil {
			return fmt.Errorf("%s: %w", fd.Name(), err)
		}
		o.vals[string(fd.Name())] = nv
	}
	return nil
}

func hexField(v any, fd protoreflect.FieldDescriptor) (any, error) {
	switch {
	case fd.IsList():
		a, _ := v.([]any)
		for i := range a {
			nv, err := hexValue(a[i], fd)
			if err != nil {
				return nil, err
			}
			a[i] = nv
		}
		return a, nil
	case fd.IsMap():
		o, ok := v.(*object)
		if !ok {
			return v, nil
		}
		for _, k := range o.keys {
			nv, err := hexValue(o.vals[k], fd.MapValue())
			if err != nil {
				return nil, err
			}
			o.vals[k] = nv
		}
		return o, nil
	}
	return hexValue(v, fd)
}

func hexValue(v any, fd protoreflect.FieldDescriptor) (any, error) {
	switch fd.Kind() {
	case protoreflect.BytesKind:
		s, _ := v.(string)
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, err
		}
		return hex.EncodeToString(b), nil
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return v, hexMessage(v, fd.Message())
	}
	return v, nil
}
