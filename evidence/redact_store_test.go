package evidence

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

// TestRedactingStore puts objects of each kind through the redacting store and reads back what
// was stored: text and JSON lose their secrets (in JSON whatever the field, and with the
// secret's JSON-escaped characters), binary objects are kept byte for byte.
func TestRedactingStore(t *testing.T) {
	fs, _ := newTestFS(t)
	secret := "canary<&>-0123456789"
	s := NewRedactor([]string{secret}).Store(fs)
	ctx := context.Background()
	jsonBody, _ := json.MarshalIndent(map[string]any{
		"summary": "restarted app", "commands": []string{"app --password " + secret, "mysql -phunter22 db"},
		"detail": `token=abc123\" ok`, "n": json.Number("12345678901234567890"), "ok": true, "none": nil,
	}, "", "  ")
	tests := []struct {
		name, contentType string
		body              []byte
		gone              []string
		keep              []string
		wantJSON          bool
	}{
		{"text", "text/plain; charset=utf-8", []byte("out " + secret + "\npassword=hunter22\n"),
			[]string{secret, "hunter22"}, []string{"out ", "password="}, false},
		{"json", "application/json", jsonBody,
			[]string{"canary", "hunter22", "abc123"}, []string{`"summary": "restarted app"`, "12345678901234567890", `"none": null`}, true},
		{"json that is not json", "application/json", []byte("{not json " + secret),
			[]string{secret}, []string{"{not json"}, false},
		{"binary kept", "application/octet-stream", []byte("\x00heap " + secret),
			nil, []string{secret}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := Key("incidents", "P1", "r1", tt.name)
			obj, err := s.Put(ctx, key, bytes.NewReader(tt.body), PutOptions{ContentType: tt.contentType, Size: int64(len(tt.body))})
			if err != nil {
				t.Fatal(err)
			}
			rc, err := fs.Get(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(rc)
			rc.Close()
			if obj.Size != int64(len(got)) || obj.SHA256 != sha(got) {
				t.Errorf("object %+v does not describe what was stored (%d bytes)", obj, len(got))
			}
			for _, g := range tt.gone {
				if strings.Contains(string(got), g) {
					t.Errorf("%q stored:\n%s", g, got)
				}
			}
			for _, k := range tt.keep {
				if !strings.Contains(string(got), k) {
					t.Errorf("%q lost:\n%s", k, got)
				}
			}
			if tt.wantJSON && !json.Valid(got) {
				t.Errorf("stored JSON is no longer valid:\n%s", got)
			}
		})
	}
}
