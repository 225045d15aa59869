package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/alaya-sre/alaya/evidence"
	"github.com/alaya-sre/alaya/incident"
)

// localNotes stands in for PagerDuty when no token is configured: notes are logged and
// appended to notes/<incident>.txt beside the evidence, and alerts are whatever the event
// carried. It keeps the embedded default useful without any account.
type localNotes struct {
	dir string
	log *slog.Logger
}

func (l *localNotes) Alerts(context.Context, string) ([]incident.Alert, error) { return nil, nil }

func (l *localNotes) AddNote(ctx context.Context, incidentID, content string) (string, error) {
	sum := sha256.Sum256([]byte(content))
	id := hex.EncodeToString(sum[:6])
	l.log.InfoContext(ctx, "note kept locally (not a PagerDuty incident, or no PagerDuty token)", "incident", incidentID, "note", id, "content", content)
	if l.dir == "" {
		return id, nil // evidence is in S3: the log line is the note
	}
	dir := filepath.Join(l.dir, "notes")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("local notes: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, evidence.Key(incidentID)+".txt"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o640)
	if err != nil {
		return "", fmt.Errorf("local notes: %w", err)
	}
	defer f.Close()
	if _, err := fmt.Fprintf(f, "--- %s\n%s\n\n", time.Now().UTC().Format(time.RFC3339), content); err != nil {
		return "", fmt.Errorf("local notes: %w", err)
	}
	return id, nil
}
