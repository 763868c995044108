package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
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
// escape where a value is kept, a repeated key, invalid JSON, or bytes
// after the object.
func scanUpdate(line []byte) (paymentUpdate, bool) {
	s := &jsonScan{b: line}
	var u paymentUpdate
	seen := map[string]bool{}
	err := s.object(func(key string) error {
		if seen[key] || foldsTo(key, "result", "error") {
			return errGiveUp
		}
		seen[key] = true
		switch key {
		case "result":
			if s.peek() == 'n' {
				return s.skip()
			}
			r := &struct {
				Status        string `json:"status"`
				FailureReason string `json:"failure_reason"`
			}{}
			u.Result = r
			return s.fields(map[string]*string{"status": &r.Status, "failure_reason": &r.FailureReason})
		case "error":
			if s.peek() == 'n' {
				return s.skip()
			}
			e := &struct {
				Message string `json:"message"`
			}{}
			u.Error = e
			return s.fields(map[string]*string{"message": &e.Message})
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

// object walks an object, calling member with each key while positioned
// at its value, which member must consume.
func (s *jsonScan) object(member func(key string) error) error {
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

// fields walks an object keeping the string values of the keys in want;
// a kept key's value must be a string without escapes, and appear once.
func (s *jsonScan) fields(want map[string]*string) error {
	got := map[string]bool{}
	return s.object(func(key string) error {
		dst, ok := want[key]
		if !ok {
			for k := range want {
				if foldsTo(key, k) {
					return errGiveUp
				}
			}
			return s.skip()
		}
		if got[key] {
			return errGiveUp
		}
		got[key] = true
		if s.peek() == 'n' {
			return s.literal("null")
		}
		v, plain, err := s.str()
		if err != nil || !plain {
			return errGiveUp
		}
		*dst = v
		return nil
	})
}

// str reads a string; plain is false if it holds an escape (its value is
// then not decoded).
func (s *jsonScan) str() (string, bool, error) {
	if s.peek() != '"' {
		return "", false, errGiveUp
	}
	s.i++
	start, plain := s.i, true
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			v := string(s.b[start:s.i])
			s.i++
			return v, plain, nil
		case c == '\\':
			plain = false
			if err := s.escape(); err != nil {
				return "", false, err
			}
		case c < 0x20 || c >= 0x80:
			// Control bytes are invalid; other bytes are left to
			// encoding/json's UTF-8 checks.
			return "", false, errGiveUp
		default:
			s.i++
		}
	}
	return "", false, errGiveUp
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

// foldsTo reports whether key is one of names in another case: encoding/json
// would take it for that name.
func foldsTo(key string, names ...string) bool {
	for _, n := range names {
		if key != n && strings.EqualFold(key, n) {
			return true
		}
	}
	return false
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
		return s.object(func(string) error { return s.skip() })
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
