package logging

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
)

// Levels beyond slog's four, so operators can use lnd's level names.
const (
	LevelTrace    = slog.LevelDebug - 4
	LevelCritical = slog.LevelError + 4
	LevelOff      = slog.Level(1 << 20)
)

var levelNames = map[string]slog.Level{
	"trace":    LevelTrace,
	"debug":    slog.LevelDebug,
	"info":     slog.LevelInfo,
	"warn":     slog.LevelWarn,
	"error":    slog.LevelError,
	"critical": LevelCritical,
	"off":      LevelOff,
}

// ParseLevel reads one of lnd's level names.
func ParseLevel(s string) (slog.Level, error) {
	l, ok := levelNames[strings.ToLower(strings.TrimSpace(s))]
	if !ok {
		return 0, fmt.Errorf("unknown log level %q (allowed: trace, debug, "+
			"info, warn, error, critical, off)", s)
	}
	return l, nil
}

// LevelName is the inverse of ParseLevel.
func LevelName(l slog.Level) string {
	switch {
	case l >= LevelOff:
		return "off"
	case l >= LevelCritical:
		return "critical"
	case l >= slog.LevelError:
		return "error"
	case l >= slog.LevelWarn:
		return "warn"
	case l >= slog.LevelInfo:
		return "info"
	case l >= slog.LevelDebug:
		return "debug"
	default:
		return "trace"
	}
}

// Manager owns the shared output and the per-subsystem levels.
type Manager struct {
	base slog.Handler

	mu       sync.Mutex
	fallback slog.Level
	levels   map[string]*slog.LevelVar
	explicit map[string]bool
}

// New writes every subsystem's records to w, at level until SetLevels says
// otherwise.
func New(w io.Writer, level slog.Level) *Manager {
	opts := &slog.HandlerOptions{
		// The subsystem handler decides; the base handler lets all through.
		Level: LevelTrace,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.LevelKey && len(groups) == 0 {
				if l, ok := a.Value.Any().(slog.Level); ok {
					a.Value = slog.StringValue(strings.ToUpper(LevelName(l)))
				}
			}
			return a
		},
	}
	return &Manager{
		base:     slog.NewTextHandler(w, opts),
		fallback: level,
		levels:   make(map[string]*slog.LevelVar),
		explicit: make(map[string]bool),
	}
}

// Logger returns the logger of subsystem sub, creating its level at the
// current global level.
func (m *Manager) Logger(sub string) *slog.Logger {
	m.mu.Lock()
	lv, ok := m.levels[sub]
	if !ok {
		lv = new(slog.LevelVar)
		lv.Set(m.fallback)
		m.levels[sub] = lv
	}
	m.mu.Unlock()
	return slog.New(&subHandler{next: m.base, level: lv}).With("sub", sub)
}

// SetLevels applies a --debuglevel spec: a global level ("debug"), a list of
// SUBSYSTEM=level pairs ("PEER=trace,SRVR=info"), or both ("info,PEER=debug").
// A global level applies to every subsystem not named explicitly. Nothing
// changes if any part of the spec is wrong.
func (m *Manager) SetLevels(spec string) error {
	global, perSystem, err := parseSpec(spec)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if global != nil {
		m.fallback = *global
		for sub, lv := range m.levels {
			if !m.explicit[sub] {
				lv.Set(*global)
			}
		}
	}
	for sub, l := range perSystem {
		lv, ok := m.levels[sub]
		if !ok {
			lv = new(slog.LevelVar)
			m.levels[sub] = lv
		}
		lv.Set(l)
		m.explicit[sub] = true
	}
	return nil
}

// SetRunningLevels applies a spec to a running daemon, as lnd's debuglevel
// call does: a global level sets every subsystem (explicit levels set
// before included), then the pairs apply. A subsystem that does not exist is
// refused, since a typo would otherwise be silently ignored. Nothing
// changes if any part of the spec is wrong.
func (m *Manager) SetRunningLevels(spec string) error {
	global, perSystem, err := parseSpec(spec)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for sub := range perSystem {
		if _, ok := m.levels[sub]; !ok {
			return fmt.Errorf("%w: %s (see debuglevel --show)", ErrUnknownSubsystem, sub)
		}
	}
	if global != nil {
		m.fallback = *global
		for sub, lv := range m.levels {
			lv.Set(*global)
			delete(m.explicit, sub)
		}
	}
	for sub, l := range perSystem {
		m.levels[sub].Set(l)
		m.explicit[sub] = true
	}
	return nil
}

// ErrUnknownSubsystem is returned for a level set on a subsystem that has no
// logger.
var ErrUnknownSubsystem = errors.New("unknown subsystem")

// parseSpec splits a level spec into its global level (nil if none) and
// its per-subsystem levels, names upper-cased.
func parseSpec(spec string) (*slog.Level, map[string]slog.Level, error) {
	var global *slog.Level
	perSystem := make(map[string]slog.Level)
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		sub, lvl, found := strings.Cut(part, "=")
		if !found {
			l, err := ParseLevel(part)
			if err != nil {
				return nil, nil, err
			}
			global = &l
			continue
		}
		sub = strings.TrimSpace(sub)
		if sub == "" {
			return nil, nil, fmt.Errorf("debuglevel %q: subsystem name missing", part)
		}
		l, err := ParseLevel(lvl)
		if err != nil {
			return nil, nil, fmt.Errorf("debuglevel %s: %w", sub, err)
		}
		perSystem[strings.ToUpper(sub)] = l
	}
	return global, perSystem, nil
}

// Subsystems returns the names of the subsystems that have a logger,
// sorted.
func (m *Manager) Subsystems() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, 0, len(m.levels))
	for sub := range m.levels {
		out = append(out, sub)
	}
	sort.Strings(out)
	return out
}

// Levels reports each known subsystem's level, sorted by name, as
// "SUB=level" pairs.
func (m *Manager) Levels() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, 0, len(m.levels))
	for sub, lv := range m.levels {
		out = append(out, sub+"="+LevelName(lv.Level()))
	}
	sort.Strings(out)
	return out
}

// subHandler filters by its subsystem's level and passes records on.
type subHandler struct {
	next  slog.Handler
	level *slog.LevelVar
}

func (h *subHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

func (h *subHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.next.Handle(ctx, r)
}

func (h *subHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &subHandler{next: h.next.WithAttrs(attrs), level: h.level}
}

func (h *subHandler) WithGroup(name string) slog.Handler {
	return &subHandler{next: h.next.WithGroup(name), level: h.level}
}
