package evidence

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestManifestWriteReadVerify(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestFS(t)
	m := &Manifest{Incident: "Q1ABC", Run: "r-1", Runbook: "jvm-heap", RunbookVersion: "abc123",
		Created: time.Date(2026, 5, 1, 3, 0, 0, 0, time.UTC)}
	for _, name := range []string{"stdout", "stderr"} {
		key := Key("incidents", m.Incident, m.Run, "01-uptime", "app-1", name)
		obj, err := s.Put(ctx, key, strings.NewReader("output of "+name), PutOptions{Size: -1})
		if err != nil {
			t.Fatal(err)
		}
		m.Add(obj, "uptime", "app-1", name)
		m.Add(obj, "uptime", "app-1", name) // a re-run step replaces, not duplicates
	}
	m.Approvals = []Approval{{Gate: "restart", Code: "K7P2", PlanHash: "sha256:ab", Decision: "approved",
		By: "oncall@example.com", Via: "note", At: m.Created.Add(time.Minute)}}
	m.Actions = []ActionRecord{{Step: "restart", Kind: "restart", Host: "app-1", Started: m.Created,
		Finished: m.Created.Add(time.Second), ApprovedBy: "oncall@example.com", Outcome: "ok"}}

	obj, err := WriteManifest(ctx, s, m)
	if err != nil {
		t.Fatal(err)
	}
	if obj.Key != "incidents/Q1ABC/r-1/manifest.json" || obj.ContentType != "application/json" {
		t.Errorf("manifest object = %+v", obj)
	}
	if len(m.Objects) != 2 || m.Objects[0].Name != "stderr" {
		t.Errorf("objects = %+v, want two, sorted by key", m.Objects)
	}
	got, err := ReadManifest(ctx, s, "Q1ABC", "r-1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Errorf("read back\n%+v\nwant\n%+v", got, m)
	}
	if err := got.Verify(ctx, s); err != nil {
		t.Errorf("Verify of untouched evidence: %v", err)
	}
	raw := readAll(t, s, obj.Key)
	for _, field := range []string{`"runbook_version"`, `"plan_hash"`, `"approved_by"`, `"sha256"`} {
		if !strings.Contains(string(raw), field) {
			t.Errorf("manifest JSON lacks %s", field)
		}
	}

	// Change one object behind the manifest's back: Verify must say which.
	victim := filepath.Join(s.dir, filepath.FromSlash(m.Objects[1].Key))
	if err := os.WriteFile(victim, []byte("tampered"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := got.Verify(ctx, s); err == nil || !strings.Contains(err.Error(), m.Objects[1].Key) {
		t.Errorf("Verify after tampering = %v, want an error naming %s", err, m.Objects[1].Key)
	}
}

func TestWriteManifestRefuses(t *testing.T) {
	s, _ := newTestFS(t)
	tests := []struct {
		name string
		m    Manifest
	}{
		{"no incident", Manifest{Run: "r"}},
		{"no run", Manifest{Incident: "Q1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := WriteManifest(context.Background(), s, &tt.m); err == nil {
				t.Fatal("WriteManifest succeeded")
			}
		})
	}
}

func TestReadManifestMissing(t *testing.T) {
	s, _ := newTestFS(t)
	if _, err := ReadManifest(context.Background(), s, "Q1", "none"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ReadManifest = %v, want ErrNotFound", err)
	}
}
