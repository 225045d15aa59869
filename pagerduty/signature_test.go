package pagerduty_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/PagerDuty/go-pagerduty/webhookv3"

	"github.com/alaya-sre/alaya/pagerduty"
)

func TestVerifySignature(t *testing.T) {
	body := []byte(`{"event":{"id":"e1","event_type":"pagey.ping"}}`)
	cur, old := []byte("secret-current"), []byte("secret-previous")
	sigCur, sigOld := pagerduty.Sign(cur, body), pagerduty.Sign(old, body)
	tests := []struct {
		name    string
		header  string
		body    []byte
		secrets [][]byte
		want    bool
	}{
		{"one signature, one secret", sigCur, body, [][]byte{cur}, true},
		{"rotation: new signature first", sigCur + "," + sigOld, body, [][]byte{old}, true},
		{"rotation: receiver has both secrets", sigOld, body, [][]byte{old, cur}, true},
		{"space after comma", sigOld + ", " + sigCur, body, [][]byte{cur}, true},
		{"unknown version skipped", "v2=abcd," + sigCur, body, [][]byte{cur}, true},
		{"bad hex skipped", "v1=zz," + sigCur, body, [][]byte{cur}, true},
		{"wrong secret", sigCur, body, [][]byte{[]byte("other")}, false},
		{"tampered body", sigCur, append(bytes.Clone(body), ' '), [][]byte{cur}, false},
		{"no secrets configured", sigCur, body, nil, false},
		{"empty secret never matches", pagerduty.Sign(nil, body), body, [][]byte{{}}, false},
		{"empty header", "", body, [][]byte{cur}, false},
		{"bare hex without v1=", strings.TrimPrefix(sigCur, "v1="), body, [][]byte{cur}, false},
		{"truncated signature", sigCur[:20], body, [][]byte{cur}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pagerduty.VerifySignature(tt.header, tt.body, tt.secrets); got != tt.want {
				t.Errorf("VerifySignature = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestSignatureVectors checks Sign and VerifySignature against a vector computed outside Go
// (openssl dgst -hmac) over a webhook body in PagerDuty's shape.
func TestSignatureVectors(t *testing.T) {
	var vec struct {
		Secret   string `json:"secret"`
		RawBody  string `json:"raw_body"`
		Sig      string `json:"x_pagerduty_signature"`
		Mismatch string `json:"mismatch_signature"`
	}
	loadFixture(t, "signature/vector.json", &vec)
	body := []byte(vec.RawBody)
	if got := pagerduty.Sign([]byte(vec.Secret), body); got != vec.Sig {
		t.Errorf("Sign = %s, want %s", got, vec.Sig)
	}
	if !pagerduty.VerifySignature(vec.Sig, body, [][]byte{[]byte(vec.Secret)}) {
		t.Error("published signature refused")
	}
	if pagerduty.VerifySignature(vec.Mismatch, body, [][]byte{[]byte(vec.Secret)}) {
		t.Error("mismatch signature accepted")
	}
	if _, err := pagerduty.DecodeWebhook(body); err != nil {
		t.Errorf("vector body does not decode: %v", err)
	}
}

func TestSignatureRotationExample(t *testing.T) {
	var ex struct {
		Secrets struct{ Current, Previous string } `json:"_test_secrets"`
		Headers map[string]string                  `json:"headers"`
	}
	loadFixture(t, "signature/rotation_headers.json", &ex)
	body := readFile(t, filepath.Join(webhookDir, "incident.triggered.json"))
	header := ex.Headers["X-PagerDuty-Signature"]
	for name, secret := range map[string]string{"current": ex.Secrets.Current, "previous": ex.Secrets.Previous} {
		if !pagerduty.VerifySignature(header, body, [][]byte{[]byte(secret)}) {
			t.Errorf("%s secret refused", name)
		}
	}
	if pagerduty.VerifySignature(header, body, [][]byte{[]byte("rotation-secret-older")}) {
		t.Error("a third secret accepted")
	}
	want := pagerduty.Sign([]byte(ex.Secrets.Current), body) + "," + pagerduty.Sign([]byte(ex.Secrets.Previous), body)
	if header != want {
		t.Errorf("header = %s, want %s (new secret first)", header, want)
	}
}

// TestSignatureAgreesWithGoPagerDuty cross-checks with go-pagerduty's verifier, which differs
// only in refusing a space after the comma.
func TestSignatureAgreesWithGoPagerDuty(t *testing.T) {
	body := []byte(`{"event":{"id":"e1","event_type":"pagey.ping"}}`)
	secret := "s3cret"
	tests := []struct {
		name        string
		header      string
		goPagerDuty bool
	}{
		{"single", pagerduty.Sign([]byte(secret), body), true},
		{"rotation", pagerduty.Sign([]byte("old"), body) + "," + pagerduty.Sign([]byte(secret), body), true},
		{"space after comma", pagerduty.Sign([]byte("old"), body) + ", " + pagerduty.Sign([]byte(secret), body), false},
		{"wrong", pagerduty.Sign([]byte("old"), body), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
			r.Header.Set("X-PagerDuty-Signature", tt.header)
			if got := webhookv3.VerifySignature(r, secret) == nil; got != tt.goPagerDuty {
				t.Errorf("go-pagerduty = %v, want %v", got, tt.goPagerDuty)
			}
			ours := pagerduty.VerifySignature(tt.header, body, [][]byte{[]byte(secret)})
			if want := tt.goPagerDuty || tt.name == "space after comma"; ours != want {
				t.Errorf("ours = %v, want %v", ours, want)
			}
		})
	}
}

func loadFixture(t *testing.T, name string, v any) {
	t.Helper()
	if err := json.Unmarshal(readFile(t, filepath.Join("testdata", name)), v); err != nil {
		t.Fatal(err)
	}
}
