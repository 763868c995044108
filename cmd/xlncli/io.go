package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/term"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// printRespJSON prints m as lncli does: proto field names, every field,
// bytes in hex, four-space indent. protojson varies its whitespace on purpose, so the
// output is re-indented to be byte-stable for scripts.
func (a *app) printRespJSON(m proto.Message) error {
	b, err := protojson.MarshalOptions{
		UseProtoNames:   true,
		EmitUnpopulated: true,
	}.Marshal(m)
	if err != nil {
		return fmt.Errorf("unable to encode response: %w", err)
	}
	if b, err = hexBytesJSON(b, m.ProtoReflect().Descriptor()); err != nil {
		return fmt.Errorf("unable to encode response: %w", err)
	}
	var compact, out bytes.Buffer
	if err := json.Compact(&compact, b); err != nil {
		return err
	}
	if err := json.Indent(&out, compact.Bytes(), "", "    "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = out.WriteTo(a.out)
	return err
}

// printJSON prints a plain Go value with lncli's indentation.
func (a *app) printJSON(v any) error {
	b, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(a.out, "%s\n", b)
	return err
}

// errEndOfInput: the input ended before a prompt was answered.
var errEndOfInput = errors.New("unexpected end of input")

// lineReader reads lines from the input, shared by every prompt of one
// command so buffered input is not lost between prompts.
type lineReader struct{ r *bufio.Reader }

func (a *app) lines() *lineReader {
	if a.lineReader == nil {
		a.lineReader = &lineReader{r: bufio.NewReader(a.in)}
	}
	return a.lineReader
}

// readLine returns the next input line without its line ending.
func (l *lineReader) readLine() (string, error) {
	s, err := l.r.ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && s != "") {
		if errors.Is(err, io.EOF) {
			return "", errEndOfInput
		}
		return "", err
	}
	return strings.TrimRight(s, "\r\n"), nil
}

// prompt prints msg to stderr-like output and reads a line.
func (a *app) prompt(msg string) (string, error) {
	fmt.Fprint(a.out, msg)
	return a.lines().readLine()
}

// readPassword prompts for a secret, without echo on a terminal.
func (a *app) readPassword(msg string) ([]byte, error) {
	fmt.Fprint(a.out, msg)
	if a.isTerminal(a.stdinFd) {
		pw, err := term.ReadPassword(a.stdinFd)
		fmt.Fprintln(a.out)
		return pw, err
	}
	s, err := a.lines().readLine()
	return []byte(s), err
}

// confirm asks a yes/no question until answered.
func (a *app) confirm(msg string) (bool, error) {
	for {
		ans, err := a.prompt(msg)
		if err != nil {
			return false, err
		}
		switch strings.ToLower(strings.TrimSpace(ans)) {
		case "yes", "y":
			return true, nil
		case "no", "n":
			return false, nil
		}
	}
}
