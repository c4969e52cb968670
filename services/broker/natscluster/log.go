package natscluster

import (
	"fmt"
	"strings"
	"sync"
)

// nodeLog keeps a node's last warnings and errors, so that a failed test
// can say what the servers saw. Notices (routes coming and going,
// elections) are kept too: they are what explains a slow failover.
type nodeLog struct {
	mu    sync.Mutex
	lines []string
}

const logKeep = 200

func (l *nodeLog) add(level, format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lines) >= logKeep {
		l.lines = append(l.lines[:0], l.lines[len(l.lines)-logKeep/2:]...)
	}
	l.lines = append(l.lines, level+" "+fmt.Sprintf(format, v...))
}

func (l *nodeLog) Noticef(format string, v ...any) {
	// A cut-off node's peers redial it every second; those lines would
	// push everything else out.
	if line := fmt.Sprintf(format, v...); strings.Contains(line, "Route connection created") || strings.Contains(line, "Router connection closed") {
		return
	}
	l.add("[INF]", format, v...)
}
func (l *nodeLog) Warnf(format string, v ...any)  { l.add("[WRN]", format, v...) }
func (l *nodeLog) Errorf(format string, v ...any) { l.add("[ERR]", format, v...) }
func (l *nodeLog) Fatalf(format string, v ...any) { l.add("[FTL]", format, v...) }
func (l *nodeLog) Debugf(string, ...any)          {}
func (l *nodeLog) Tracef(string, ...any)          {}

// tail is the last n lines.
func (l *nodeLog) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines[max(0, len(l.lines)-n):], "\n")
}
