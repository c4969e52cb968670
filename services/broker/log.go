package broker

import (
	"fmt"
	"log/slog"
	"sync"
)

// natsLog passes what nats-server says to the ledger's log: warnings and
// errors always, notices at debug level, and keeps the last error, so that
// a start that fails inside the server says why.
type natsLog struct {
	log   *slog.Logger
	mu    sync.Mutex
	last  string
	fatal bool
}

func (l *natsLog) Noticef(format string, v ...any) {
	l.log.Debug("nats: " + fmt.Sprintf(format, v...))
}
func (l *natsLog) Warnf(format string, v ...any) { l.log.Warn("nats: " + fmt.Sprintf(format, v...)) }
func (l *natsLog) Fatalf(format string, v ...any) {
	l.note(fmt.Sprintf(format, v...))
	l.mu.Lock()
	l.fatal = true
	l.mu.Unlock()
	l.log.Error("nats: fatal: " + fmt.Sprintf(format, v...))
}
func (l *natsLog) Errorf(format string, v ...any) {
	l.note(fmt.Sprintf(format, v...))
	l.log.Error("nats: " + fmt.Sprintf(format, v...))
}
func (l *natsLog) Debugf(string, ...any) {}
func (l *natsLog) Tracef(string, ...any) {}

func (l *natsLog) note(s string) {
	l.mu.Lock()
	l.last = s
	l.mu.Unlock()
}

// failed reports whether the server gave up (embedded, a fatal error does
// not end the process: the server just never gets ready).
func (l *natsLog) failed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fatal
}

// lastError is the last error the server reported, "" when none.
func (l *natsLog) lastError() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}
