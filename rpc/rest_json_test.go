package rpc

import (
	"bytes"
	"math/rand"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"

	"lnd.xprv/rpc/lnrpc"
)

// TestRESTStreamChunk checks the direct path for stream chunks against
// JSONPb's own: the same bytes for a payment update, and JSONPb's answer
// for anything else.
func TestRESTStreamChunk(t *testing.T) {
	m := RESTMarshaler()
	plain := m.(restJSON).JSONPb
	pay := &lnrpc.Payment{
		PaymentHash: strings.Repeat("ab", 32), ValueMsat: 10_000, Status: lnrpc.Payment_SUCCEEDED,
		CreationTimeNs: 1_700_000_000_000_000_000, PaymentIndex: 7,
		Htlcs: []*lnrpc.HTLCAttempt{{AttemptId: 3, Status: lnrpc.HTLCAttempt_SUCCEEDED,
			Route:    &lnrpc.Route{TotalAmtMsat: 10_000, Hops: []*lnrpc.Hop{{ChanId: 1 << 40, PubKey: "02ab"}}},
			Preimage: []byte{1, 2, 3}}},
	}
	odd := &lnrpc.Payment{PaymentRequest: "a<b>&c \u2028 \u2029 \"q\" \\ \t é \u00e2\u0080", FailureReason: 3,
		Htlcs: []*lnrpc.HTLCAttempt{{Failure: &lnrpc.Failure{Code: lnrpc.Failure_TEMPORARY_CHANNEL_FAILURE}}}}
	for _, v := range []any{
		map[string]any{"result": pay},
		map[string]any{"result": odd},
		map[string]any{"result": &lnrpc.Invoice{Memo: "<script>&amp;\u2028", RPreimage: []byte("<>&")}},
		map[string]any{"result": &lnrpc.Payment{}},
		map[string]any{"error": pay},
		map[string]any{"result": pay, "other": 1},
		pay,
	} {
		got, err := m.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		want, err := plain.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("chunk\n%s\nwant\n%s", got, want)
		}
	}
	if _, ok := m.(runtime.Delimited); !ok {
		t.Fatal("stream chunks lost their delimiter")
	}
}

// FuzzRESTStreamChunk: for any strings a payment carries, the direct path
// writes JSONPb's bytes.
func FuzzRESTStreamChunk(f *testing.F) {
	for _, seed := range []string{"", "<&>", "\u2028\u2029", "\\\"", "\x00\x1f\x7f", "é\u00e2\u0080\u00a8"} {
		f.Add(seed, []byte(seed))
	}
	m := RESTMarshaler()
	plain := m.(restJSON).JSONPb
	f.Fuzz(func(t *testing.T, s string, b []byte) {
		v := map[string]any{"result": &lnrpc.Invoice{Memo: s, RPreimage: b, PaymentRequest: s + s}}
		got, gotErr := m.Marshal(v)
		want, wantErr := plain.Marshal(v)
		if (gotErr != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
			t.Fatalf("chunk %q (%v), want %q (%v)", got, gotErr, want, wantErr)
		}
	})
}

// randomFill sets every field of m at random, as deep as depth: strings
// with characters JSON escapes, unknown enum numbers, empty and full
// lists and maps, unset message fields.
func randomFill(r *rand.Rand, m protoreflect.Message, depth int) {
	fds := m.Descriptor().Fields()
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		if r.Intn(4) == 0 {
			continue
		}
		switch {
		case fd.IsList():
			l := m.Mutable(fd).List()
			for range r.Intn(3) {
				if fd.Kind() == protoreflect.MessageKind {
					if depth == 0 {
						break
					}
					e := l.NewElement()
					randomFill(r, e.Message(), depth-1)
					l.Append(e)
				} else {
					l.Append(randomScalar(r, fd))
				}
			}
		case fd.IsMap():
			mp := m.Mutable(fd).Map()
			for range r.Intn(4) {
				k := randomScalar(r, fd.MapKey()).MapKey()
				if fd.MapValue().Kind() == protoreflect.MessageKind {
					if depth == 0 {
						break
					}
					v := mp.NewValue()
					randomFill(r, v.Message(), depth-1)
					mp.Set(k, v)
				} else {
					mp.Set(k, randomScalar(r, fd.MapValue()))
				}
			}
		case fd.Kind() == protoreflect.MessageKind:
			if depth > 0 {
				randomFill(r, m.Mutable(fd).Message(), depth-1)
			}
		default:
			m.Set(fd, randomScalar(r, fd))
		}
	}
}

var oddStrings = []string{"", "a", "<b>&", "\u2028\u2029", "\"\\/", "\x00\x01\x1f\x7f", "é€😀", "\b\f\n\r\t", "\ufffd"}

func randomScalar(r *rand.Rand, fd protoreflect.FieldDescriptor) protoreflect.Value {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(r.Intn(2) == 0)
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(oddStrings[r.Intn(len(oddStrings))] + strconv.Itoa(r.Intn(100)))
	case protoreflect.BytesKind:
		b := make([]byte, r.Intn(40))
		r.Read(b)
		return protoreflect.ValueOfBytes(b)
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(int32(r.Uint32()))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(int64(r.Uint64()))
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(r.Uint32())
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(r.Uint64() >> r.Intn(64))
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(r.Float32() * 1e6)
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(r.NormFloat64() * 1e9)
	case protoreflect.EnumKind:
		vals := fd.Enum().Values()
		if r.Intn(5) == 0 {
			return protoreflect.ValueOfEnum(protoreflect.EnumNumber(1000 + r.Intn(10)))
		}
		return protoreflect.ValueOfEnum(vals.Get(r.Intn(vals.Len())).Number())
	}
	panic(fd.Kind())
}

// TestRESTStreamChunkEveryType writes every message type of the API,
// empty and filled at random, as a stream chunk by the plan and by
// JSONPb's map path: the bytes must be the same.
func TestRESTStreamChunkEveryType(t *testing.T) {
	m := RESTMarshaler()
	plain := m.(restJSON).JSONPb
	r := rand.New(rand.NewSource(1))
	types, planned := 0, 0
	protoregistry.GlobalTypes.RangeMessages(func(mt protoreflect.MessageType) bool {
		name := string(mt.Descriptor().FullName())
		pkg, _, _ := strings.Cut(name, ".")
		switch pkg {
		case "lnrpc", "routerrpc", "invoicesrpc", "walletrpc", "chainrpc", "verrpc", "signrpc":
		default:
			return true
		}
		types++
		if m.(restJSON).chunk.plan(mt.Descriptor()).ok {
			planned++
		}
		for i := range 30 {
			msg := mt.New()
			if i > 0 {
				randomFill(r, msg, 3)
			}
			v := map[string]any{"result": msg.Interface()}
			got, gotErr := m.Marshal(v)
			want, wantErr := plain.Marshal(v)
			if (gotErr != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
				t.Fatalf("%s:\n%s (%v)\nwant\n%s (%v)", name, got, gotErr, want, wantErr)
			}
		}
		return true
	})
	t.Logf("%d message types, %d written by plan", types, planned)
	if types < 100 || planned < types/2 {
		t.Fatalf("%d types, %d planned", types, planned)
	}
}
