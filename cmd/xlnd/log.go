package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"gopkg.in/natefinch/lumberjack.v2"

	"lnd.xprv/internal/logging"
)

// setupLogging sends every subsystem's records to stdout and to a rotated
// file in the log dir. The returned closer flushes and closes the file.
func setupLogging(cfg *config) (*logging.Manager, io.Closer, error) {
	file := cfg.logFile()
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return nil, nil, fmt.Errorf("log dir: %w", err)
	}
	rotator := &lumberjack.Logger{
		Filename:   file,
		MaxSize:    cfg.MaxLogFileSize,
		MaxBackups: cfg.MaxLogFiles,
		Compress:   true,
	}
	mgr := logging.New(io.MultiWriter(os.Stdout, rotator), slog.LevelInfo)
	if err := mgr.SetLevels(cfg.DebugLevel); err != nil {
		rotator.Close()
		return nil, nil, fmt.Errorf("--debuglevel: %w", err)
	}
	return mgr, rotator, nil
}
