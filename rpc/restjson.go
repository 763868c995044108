package rpc

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// chunkJSON writes a message as the REST gateway writes a stream chunk's
// result: protojson with proto names and unpopulated fields, as
// encoding/json rewrites it inside the chunk (compact, HTML-escaped). It
// does by a plan made once per message type what protojson does by
// ranging and sorting the fields of every message it writes. Types it
// does not plan for (floating point, well-known types, groups,
// extensions) are left to protojson: ok is false.
type chunkJSON struct {
	plans sync.Map // protoreflect.FullName -> *jsonPlan
}

// jsonPlan is how one message type is written, fields in declaration
// order as protojson orders them.
type jsonPlan struct {
	fields []jsonField
	ok     bool
}

type jsonField struct {
	fd   protoreflect.FieldDescriptor
	name string // `"name":`
	// oneof fields (proto3 optional ones too) are left out when unset;
	// other fields with presence are written as null.
	oneof, presence bool
	// msg is the plan of a message field, list element or map value.
	msg *jsonPlan
}

var errNoPlan = errors.New("rpc: message type written by protojson")

// plan returns md's plan, making it (and its message fields' plans) on
// first use.
func (c *chunkJSON) plan(md protoreflect.MessageDescriptor) *jsonPlan {
	if p, ok := c.plans.Load(md.FullName()); ok {
		return p.(*jsonPlan)
	}
	building := map[protoreflect.FullName]*jsonPlan{}
	p := c.build(md, building)
	// A type is planned only if every type it reaches is.
	ok := true
	for _, q := range building {
		ok = ok && q.ok
	}
	for name, q := range building {
		q.ok = ok
		c.plans.LoadOrStore(name, q)
	}
	return p
}

func (c *chunkJSON) build(md protoreflect.MessageDescriptor, building map[protoreflect.FullName]*jsonPlan) *jsonPlan {
	if p, ok := building[md.FullName()]; ok {
		return p
	}
	if p, ok := c.plans.Load(md.FullName()); ok {
		return p.(*jsonPlan)
	}
	p := &jsonPlan{ok: true}
	building[md.FullName()] = p
	if strings.HasPrefix(string(md.FullName()), "google.protobuf.") || md.ExtensionRanges().Len() > 0 {
		p.ok = false
		return p
	}
	fds := md.Fields()
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		f := jsonField{
			fd:       fd,
			name:     strconv.Quote(fd.TextName()) + ":",
			oneof:    fd.ContainingOneof() != nil,
			presence: fd.HasPresence(),
		}
		vd := fd
		if fd.IsMap() {
			vd = fd.MapValue()
		}
		switch vd.Kind() {
		case protoreflect.FloatKind, protoreflect.DoubleKind, protoreflect.GroupKind:
			p.ok = false
		case protoreflect.MessageKind:
			f.msg = c.build(vd.Message(), building)
			if _, now := building[vd.Message().FullName()]; !now && !f.msg.ok {
				p.ok = false
			}
		case protoreflect.EnumKind:
			if vd.Enum().FullName() == "google.protobuf.NullValue" {
				p.ok = false
			}
		}
		if !isPlainName(fd.TextName()) {
			p.ok = false
		}
		p.fields = append(p.fields, f)
	}
	return p
}

// isPlainName reports whether a field name needs no escaping in JSON.
func isPlainName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// append writes m to out; errNoPlan if its type is not planned, another
// error if protojson would fail (invalid UTF-8): the caller then asks
// protojson.
func (c *chunkJSON) append(out []byte, m protoreflect.Message) ([]byte, error) {
	p := c.plan(m.Descriptor())
	if !p.ok {
		return out, errNoPlan
	}
	return p.write(out, m)
}

func (p *jsonPlan) write(out []byte, m protoreflect.Message) ([]byte, error) {
	out = append(out, '{')
	first := true
	var err error
	for i := range p.fields {
		f := &p.fields[i]
		has := m.Has(f.fd)
		if !has && f.oneof {
			continue
		}
		if !first {
			out = append(out, ',')
		}
		first = false
		out = append(out, f.name...)
		if !has && f.presence {
			out = append(out, "null"...)
			continue
		}
		v := m.Get(f.fd)
		switch {
		case f.fd.IsList():
			l := v.List()
			out = append(out, '[')
			for j := 0; j < l.Len(); j++ {
				if j > 0 {
					out = append(out, ',')
				}
				if out, err = f.value(out, f.fd, l.Get(j)); err != nil {
					return out, err
				}
			}
			out = append(out, ']')
		case f.fd.IsMap():
			if out, err = f.writeMap(out, v.Map()); err != nil {
				return out, err
			}
		default:
			if out, err = f.value(out, f.fd, v); err != nil {
				return out, err
			}
		}
	}
	return append(out, '}'), nil
}

// writeMap writes a map's entries in protojson's key order: false before
// true, numbers ascending, strings by byte.
func (f *jsonField) writeMap(out []byte, mp protoreflect.Map) ([]byte, error) {
	keys := make([]protoreflect.MapKey, 0, mp.Len())
	mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
		keys = append(keys, k)
		return true
	})
	kd := f.fd.MapKey()
	less := func(a, b protoreflect.MapKey) bool {
		switch kd.Kind() {
		case protoreflect.BoolKind:
			return !a.Bool() && b.Bool()
		case protoreflect.StringKind:
			return a.String() < b.String()
		case protoreflect.Uint32Kind, protoreflect.Uint64Kind, protoreflect.Fixed32Kind, protoreflect.Fixed64Kind:
			return a.Uint() < b.Uint()
		default:
			return a.Int() < b.Int()
		}
	}
	// Maps here are small (custom records): insertion sort.
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && less(keys[j], keys[j-1]); j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	out = append(out, '{')
	var err error
	for i, k := range keys {
		if i > 0 {
			out = append(out, ',')
		}
		if out, err = appendJSONString(out, k.String()); err != nil {
			return out, err
		}
		out = append(out, ':')
		if out, err = f.value(out, f.fd.MapValue(), mp.Get(k)); err != nil {
			return out, err
		}
	}
	return append(out, '}'), nil
}

// value writes one singular value of kind fd.Kind() as protojson does.
func (f *jsonField) value(out []byte, fd protoreflect.FieldDescriptor, v protoreflect.Value) ([]byte, error) {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return strconv.AppendBool(out, v.Bool()), nil
	case protoreflect.StringKind:
		return appendJSONString(out, v.String())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return strconv.AppendInt(out, v.Int(), 10), nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return strconv.AppendUint(out, v.Uint(), 10), nil
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		out = append(out, '"')
		out = strconv.AppendInt(out, v.Int(), 10)
		return append(out, '"'), nil
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		out = append(out, '"')
		out = strconv.AppendUint(out, v.Uint(), 10)
		return append(out, '"'), nil
	case protoreflect.BytesKind:
		b := v.Bytes()
		out = append(out, '"')
		n := len(out)
		out = append(out, make([]byte, base64.StdEncoding.EncodedLen(len(b)))...)
		base64.StdEncoding.Encode(out[n:], b)
		return append(out, '"'), nil
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			out = append(out, '"')
			out = append(out, ev.Name()...)
			return append(out, '"'), nil
		}
		return strconv.AppendInt(out, int64(v.Enum()), 10), nil
	case protoreflect.MessageKind:
		return f.msg.write(out, v.Message())
	}
	return out, errNoPlan
}

// appendJSONString writes s as protojson quotes it (", \ and control
// characters escaped, short forms where JSON has them) and then as
// encoding/json re-escapes it (<, >, &, U+2028, U+2029). Invalid UTF-8
// is an error, as in protojson.
func appendJSONString(out []byte, s string) ([]byte, error) {
	const hex = "0123456789abcdef"
	out = append(out, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			out = append(out, s[start:i]...)
			switch c {
			case '"', '\\':
				out = append(out, '\\', c)
			case '\b':
				out = append(out, '\\', 'b')
			case '\f':
				out = append(out, '\\', 'f')
			case '\n':
				out = append(out, '\\', 'n')
			case '\r':
				out = append(out, '\\', 'r')
			case '\t':
				out = append(out, '\\', 't')
			default:
				out = append(out, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return out, errors.New("invalid UTF-8")
		}
		if r == '\u2028' || r == '\u2029' {
			out = append(out, s[start:i]...)
			out = append(out, '\\', 'u', '2', '0', '2', hex[r&0xF])
			start = i + n
		}
		i += n
	}
	out = append(out, s[start:]...)
	return append(out, '"'), nil
}
