package evidence

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// ManifestName is the manifest's object name inside a run's folder.
const ManifestName = "manifest.json"

// maxManifest bounds what ReadManifest will parse; a run's manifest is kilobytes.
const maxManifest = 16 << 20

// Manifest is the index of one run's evidence: every object with its size and SHA-256, the
// runbook version that ran, and who approved which action. It is what makes the evidence
// checkable later: an object whose sum differs from its entry was changed after the run.
type Manifest struct {
	Incident       string          `json:"incident"`
	Run            string          `json:"run"`
	Runbook        string          `json:"runbook"`
	RunbookVersion string          `json:"runbook_version"`
	Created        time.Time       `json:"created"`
	Objects        []ManifestEntry `json:"objects"`
	Approvals      []Approval      `json:"approvals,omitempty"`
	Actions        []ActionRecord  `json:"actions,omitempty"`
}

// ManifestEntry is one stored object of the run.
type ManifestEntry struct {
	Key    string `json:"key"`
	Step   string `json:"step"`
	Host   string `json:"host"`
	Name   string `json:"name"` // stdout, stderr, result.json, heap.hprof, files/app.log...
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Approval records one decision on a gate: the code and plan hash that were shown, who
// decided, how, and when. Refusals are recorded too.
type Approval struct {
	Gate     string    `json:"gate"`
	Code     string    `json:"code"`
	PlanHash string    `json:"plan_hash"`
	Decision string    `json:"decision"` // approved, rejected, expired, cancelled
	By       string    `json:"by,omitempty"`
	Via      string    `json:"via,omitempty"` // note, page, slack
	Reason   string    `json:"reason,omitempty"`
	At       time.Time `json:"at"`
}

// ActionRecord is one step that changed a system: what, where, when, on whose approval, and
// how it ended.
type ActionRecord struct {
	Step       string    `json:"step"`
	Kind       string    `json:"kind"` // restart, lb_detach, lb_attach, heap_dump...
	Host       string    `json:"host"`
	Started    time.Time `json:"started"`
	Finished   time.Time `json:"finished"`
	ApprovedBy string    `json:"approved_by,omitempty"`
	Outcome    string    `json:"outcome"` // ok, failed, unknown
	Detail     string    `json:"detail,omitempty"`
}

// ManifestKey is where the manifest of a run lives.
func ManifestKey(incident, run string) string {
	return Key("incidents", incident, run, ManifestName)
}

// Add records o as evidence of step on host. An entry with the same key is replaced, so a
// re-run read-only step does not list its object twice.
func (m *Manifest) Add(o Object, step, host, name string) {
	e := ManifestEntry{Key: o.Key, Step: step, Host: host, Name: name, Size: o.Size, SHA256: o.SHA256}
	for i := range m.Objects {
		if m.Objects[i].Key == o.Key {
			m.Objects[i] = e
			return
		}
	}
	m.Objects = append(m.Objects, e)
}

// WriteManifest stores m at ManifestKey(m.Incident, m.Run), entries sorted by key so the same
// run always gives the same bytes.
func WriteManifest(ctx context.Context, s Store, m *Manifest) (Object, error) {
	if m.Incident == "" || m.Run == "" {
		return Object{}, errors.New("manifest: incident and run are required")
	}
	slices.SortFunc(m.Objects, func(a, b ManifestEntry) int { return strings.Compare(a.Key, b.Key) })
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Object{}, fmt.Errorf("manifest: %w", err)
	}
	data = append(data, '\n')
	key := ManifestKey(m.Incident, m.Run)
	obj, err := s.Put(ctx, key, bytes.NewReader(data), PutOptions{ContentType: "application/json", Size: int64(len(data))})
	if err != nil {
		return Object{}, fmt.Errorf("manifest: %w", err)
	}
	return obj, nil
}

// ReadManifest loads the manifest of a run.
func ReadManifest(ctx context.Context, s Store, incident, run string) (*Manifest, error) {
	rc, err := s.Get(ctx, ManifestKey(incident, run))
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	defer rc.Close()
	var m Manifest
	// Unknown fields are accepted: a manifest written by a newer Alaya must stay readable.
	if err := json.NewDecoder(io.LimitReader(rc, maxManifest)).Decode(&m); err != nil {
		return nil, fmt.Errorf("manifest %s/%s: %w", incident, run, err)
	}
	return &m, nil
}

// Verify reads every object the manifest lists back from s and checks its size and SHA-256,
// reporting all that differ or are missing.
func (m *Manifest) Verify(ctx context.Context, s Store) error {
	var errs []error
	for _, e := range m.Objects {
		if err := verifyEntry(ctx, s, e); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func verifyEntry(ctx context.Context, s Store, e ManifestEntry) error {
	rc, err := s.Get(ctx, e.Key)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		return fmt.Errorf("verify %s: %w", e.Key, err)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); n != e.Size || sum != e.SHA256 {
		return fmt.Errorf("verify %s: have %d bytes sha256 %s, manifest says %d bytes sha256 %s", e.Key, n, sum, e.Size, e.SHA256)
	}
	return nil
}
