package main

import (
	"encoding/json"
	"errors"
	"fmt"
)

// paymentUpdate is what the load reads of a line of a payment's stream:
// the payment's status and failure reason, or the stream's error.
type paymentUpdate struct {
	Result *struct {
		Status        string `json:"status"`
		FailureReason string `json:"failure_reason"`
	} `json:"result"`
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// parseUpdate decodes a stream line. A payment update is a few KiB of
// which three strings are read, for every update of every payment, on the
// cores the nodes under test use: scanUpdate picks them out in one pass,
// and encoding/json (which validates the line, then decodes it, skipping
// the rest by reflection) decides any line scanUpdate does not take.
func parseUpdate(line []byte) (paymentUpdate, error) {
	if u, ok := scanUpdate(line); ok {
		return u, nil
	}
	var u paymentUpdate
	if err := json.Unmarshal(line, &u); err != nil {
		return u, fmt.Errorf("stream line %q: %w", line, err)
	}
	return u, nil
}

// scanUpdate reads a line that is an object whose members are plain JSON
// values: of "result" (an object) its "status" and "failure_reason"
// strings, of "error" (an object) its "message". It gives up (false) on
// anything it does not check as encoding/json would: a string with an
// escape where a value is kept, a kept key repeated or in another case,
// invalid JSON, or bytes after the object. Keys are compared as the
// line's bytes: only the kept values become strings.
func scanUpdate(line []byte) (paymentUpdate, bool) {
	s := &jsonScan{b: line}
	var u paymentUpdate
	var seenResult, seenError bool
	err := s.object(func(key []byte) error {
		switch {
		case string(key) == "result":
			if seenResult {
				return errGiveUp
			}
			seenResult = true
			if s.peek() == 'n' {
				return s.skip()
			}
			r := &struct {
				Status        string `json:"status"`
				FailureReason string `json:"failure_reason"`
			}{}
			u.Result = r
			return s.fields("status", &r.Status, "failure_reason", &r.FailureReason)
		case string(key) == "error":
			if seenError {
				return errGiveUp
			}
			seenError = true
			if s.peek() == 'n' {
				return s.skip()
			}
			e := &struct {
				Message string `json:"message"`
			}{}
			u.Error = e
			return s.fields("message", &e.Message, "", nil)
		case foldsTo(key, "result"), foldsTo(key, "error"):
			return errGiveUp
		}
		return s.skip()
	})
	if err != nil {
		return paymentUpdate{}, false
	}
	s.space()
	if s.i != len(s.b) {
		return paymentUpdate{}, false
	}
	return u, true
}

var errGiveUp = errors.New("not a plain update")

// jsonScan walks JSON without building values.
type jsonScan struct {
	b []byte
	i int
}

func (s *jsonScan) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *jsonScan) peek() byte {
	s.space()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// object walks an object, calling member with each key (the line's
// bytes, valid until the next call) while positioned at its value, which
// member must consume.
func (s *jsonScan) object(member func(key []byte) error) error {
	if s.peek() != '{' {
		return errGiveUp
	}
	s.i++
	if s.peek() == '}' {
		s.i++
		return nil
	}
	for {
		key, plain, err := s.str()
		if err != nil || !plain {
			return errGiveUp
		}
		if s.peek() != ':' {
			return errGiveUp
		}
		s.i++
		if err := member(key); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return errGiveUp
		}
	}
}

// fields walks an object keeping the string values of the keys k1 and k2
// ("" for none) in v1 and v2; a kept key's value must be a string
// without escapes, or null, and appear once.
func (s *jsonScan) fields(k1 string, v1 *string, k2 string, v2 *string) error {
	var got1, got2 bool
	return s.object(func(key []byte) error {
		var dst *string
		switch {
		case string(key) == k1:
			if got1 {
				return errGiveUp
			}
			got1, dst = true, v1
		case k2 != "" && string(key) == k2:
			if got2 {
				return errGiveUp
			}
			got2, dst = true, v2
		case foldsTo(key, k1), k2 != "" && foldsTo(key, k2):
			return errGiveUp
		default:
			return s.skip()
		}
		if s.peek() == 'n' {
			return s.literal("null")
		}
		v, plain, err := s.str()
		if err != nil || !plain {
			return errGiveUp
		}
		*dst = string(v)
		return nil
	})
}

// str reads a string, giving its bytes between the quotes; plain is false
// if it holds an escape (the bytes are then not its value).
func (s *jsonScan) str() ([]byte, bool, error) {
	if s.peek() != '"' {
		return nil, false, errGiveUp
	}
	s.i++
	start, plain := s.i, true
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			v := s.b[start:s.i]
			s.i++
			return v, plain, nil
		case c == '\\':
			plain = false
			if err := s.escape(); err != nil {
				return nil, false, err
			}
		case c < 0x20 || c >= 0x80:
			// Control bytes are invalid; other bytes are left to
			// encoding/json's UTF-8 checks.
			return nil, false, errGiveUp
		default:
			s.i++
		}
	}
	return nil, false, errGiveUp
}

// escape walks a backslash escape, checking it as JSON defines them.
func (s *jsonScan) escape() error {
	s.i++
	if s.i >= len(s.b) {
		return errGiveUp
	}
	switch s.b[s.i] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		s.i++
		return nil
	case 'u':
		if len(s.b)-s.i < 5 {
			return errGiveUp
		}
		for _, h := range s.b[s.i+1 : s.i+5] {
			if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
				return errGiveUp
			}
		}
		s.i += 5
		return nil
	}
	return errGiveUp
}

// foldsTo reports whether key is name in another case: encoding/json
// would take it for that name. Keys reach here only in ASCII (str gives
// up on other bytes), so ASCII case folding is the whole of it.
func foldsTo(key []byte, name string) bool {
	if len(key) != len(name) || string(key) == name {
		return false
	}
	for i := range len(key) {
		a, b := key[i], name[i]
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

func (s *jsonScan) literal(lit string) error {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return errGiveUp
	}
	s.i += len(lit)
	return nil
}

// skip walks one value of any kind.
func (s *jsonScan) skip() error {
	switch c := s.peek(); {
	case c == '{':
		return s.object(func([]byte) error { return s.skip() })
	case c == '[':
		s.i++
		if s.peek() == ']' {
			s.i++
			return nil
		}
		for {
			if err := s.skip(); err != nil {
				return err
			}
			switch s.peek() {
			case ',':
				s.i++
			case ']':
				s.i++
				return nil
			default:
				return errGiveUp
			}
		}
	case c == '"':
		_, _, err := s.str()
		return err
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	}
	return errGiveUp
}

// number walks a number as JSON's grammar has it.
func (s *jsonScan) number() error {
	digits := func() int {
		n := 0
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.b[s.i] == '-' {
		s.i++
	}
	if s.i < len(s.b) && s.b[s.i] == '0' {
		s.i++
	} else if digits() == 0 {
		return errGiveUp
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if digits() == 0 {
			return errGiveUp
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return errGiveUp
		}
	}
	return nil
}
