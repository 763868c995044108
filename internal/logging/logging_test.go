package logging

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestSetLevels(t *testing.T) {
	var buf bytes.Buffer
	m := New(&buf, slog.LevelInfo)
	peer := m.Logger("PEER")
	srvr := m.Logger("SRVR")

	peer.Debug("hidden")
	if buf.Len() != 0 {
		t.Fatalf("debug record written at info level: %q", buf.String())
	}

	if err := m.SetLevels("warn,PEER=trace"); err != nil {
		t.Fatal(err)
	}
	peer.Log(context.Background(), LevelTrace, "peer trace")
	srvr.Info("srvr info hidden")
	srvr.Warn("srvr warn")
	out := buf.String()
	if !strings.Contains(out, "peer trace") || !strings.Contains(out, "level=TRACE") {
		t.Fatalf("trace record missing or misnamed: %q", out)
	}
	if strings.Contains(out, "srvr info hidden") {
		t.Fatalf("info record passed a warn level: %q", out)
	}
	if !strings.Contains(out, "srvr warn") || !strings.Contains(out, "sub=SRVR") {
		t.Fatalf("warn record missing: %q", out)
	}

	// A later global level leaves explicitly set subsystems alone.
	if err := m.SetLevels("error"); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(m.Levels(), " ")
	if got != "PEER=trace SRVR=error" {
		t.Fatalf("levels = %q", got)
	}

	// A logger created later starts at the global level.
	if m.Logger("CHAIN").Enabled(context.Background(), slog.LevelWarn) {
		t.Fatal("new subsystem should start at error")
	}
}

func TestSetLevelsRejects(t *testing.T) {
	m := New(&bytes.Buffer{}, slog.LevelInfo)
	m.Logger("PEER")
	for _, spec := range []string{"loud", "PEER=loud", "=debug", "debug,PEER=x"} {
		if err := m.SetLevels(spec); err == nil {
			t.Errorf("SetLevels(%q) accepted", spec)
		}
	}
	// Nothing changed by the failed calls.
	if got := strings.Join(m.Levels(), " "); got != "PEER=info" {
		t.Fatalf("levels changed by rejected specs: %q", got)
	}
}

func TestSetRunningLevels(t *testing.T) {
	m := New(&bytes.Buffer{}, slog.LevelInfo)
	m.Logger("PEER")
	m.Logger("SRVR")
	if err := m.SetLevels("PEER=trace"); err != nil {
		t.Fatal(err)
	}
	if err := m.SetRunningLevels("NOPE=debug"); !errors.Is(err, ErrUnknownSubsystem) {
		t.Fatalf("unknown subsystem: %v", err)
	}
	if err := m.SetRunningLevels("debug,NOPE=info"); err == nil {
		t.Fatal("spec with an unknown subsystem accepted")
	}
	if got := strings.Join(m.Levels(), " "); got != "PEER=trace SRVR=info" {
		t.Fatalf("levels changed by a rejected spec: %q", got)
	}
	// A global level overrides explicit ones at run time, as lnd's does.
	if err := m.SetRunningLevels("warn,srvr=debug"); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(m.Levels(), " "); got != "PEER=warn SRVR=debug" {
		t.Fatalf("levels = %q", got)
	}
	if got := strings.Join(m.Subsystems(), " "); got != "PEER SRVR" {
		t.Fatalf("subsystems = %q", got)
	}
}
