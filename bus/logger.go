package bus

import (
	"context"
	"errors"
	"log/slog"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/nats-io/nats.go"
)

// slogAdapter lets watermill log through slog. Watermill's Info is chatty
// (one line per handler start), so it is logged at debug level.
type slogAdapter struct {
	l *slog.Logger
}

func (a slogAdapter) attrs(fields watermill.LogFields) []any {
	out := make([]any, 0, 2*len(fields))
	for k, v := range fields {
		out = append(out, k, v)
	}
	return out
}

func (a slogAdapter) Error(msg string, err error, fields watermill.LogFields) {
	if errors.Is(err, nats.ErrConnectionDraining) || errors.Is(err, nats.ErrConnectionClosed) {
		// Routers drain their connection before closing; the subscriber
		// then fails to unsubscribe what the drain already removed.
		a.l.Debug(msg, append(a.attrs(fields), "err", err)...)
		return
	}
	a.l.Error(msg, append(a.attrs(fields), "err", err)...)
}
func (a slogAdapter) Info(msg string, fields watermill.LogFields) {
	a.log(slog.LevelDebug, msg, fields)
}
func (a slogAdapter) Debug(msg string, fields watermill.LogFields) {
	a.log(slog.LevelDebug-2, msg, fields)
}

// Trace is called for every message watermill handles: its fields are
// only turned into attributes when the level is enabled.
func (a slogAdapter) Trace(msg string, fields watermill.LogFields) {
	a.log(slog.LevelDebug-4, msg, fields)
}

func (a slogAdapter) log(level slog.Level, msg string, fields watermill.LogFields) {
	if a.l.Enabled(context.Background(), level) {
		a.l.Log(context.Background(), level, msg, a.attrs(fields)...)
	}
}
func (a slogAdapter) With(fields watermill.LogFields) watermill.LoggerAdapter {
	return slogAdapter{l: a.l.With(a.attrs(fields)...)}
}
