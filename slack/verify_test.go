package slack_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/slack"
)

type vector struct {
	Name      string `json:"name"`
	Secret    string `json:"secret"`
	Timestamp string `json:"timestamp"`
	Body      string `json:"body"`
	Signature string `json:"signature"`
}

// loadVectors reads the signatures computed with openssl (testdata/README.md).
func loadVectors(t *testing.T) []vector {
	t.Helper()
	data, err := os.ReadFile("testdata/signatures.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Vectors []vector }
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return f.Vectors
}

func headers(sig, ts string) http.Header {
	h := http.Header{}
	if sig != "" {
		h.Set(slack.HeaderSignature, sig)
	}
	if ts != "" {
		h.Set(slack.HeaderTimestamp, ts)
	}
	return h
}

// clockAt returns a clock standing at the Unix time ts plus d.
func clockAt(t *testing.T, ts string, d time.Duration) func() time.Time {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return func() time.Time { return time.Unix(sec, 0).Add(d) }
}

func TestVerifyAcceptsIndependentVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			if got := slack.SignatureHeader([]byte(v.Secret), v.Timestamp, []byte(v.Body)); got != v.Signature {
				t.Errorf("SignatureHeader = %s, openssl says %s", got, v.Signature)
			}
			// Rotation: the right secret is second of two.
			vf := &slack.Verifier{Secrets: func() [][]byte { return [][]byte{[]byte("an-older-secret-0000"), []byte(v.Secret)} },
				Now: clockAt(t, v.Timestamp, 30*time.Second)}
			if err := vf.Verify(headers(v.Signature, v.Timestamp), []byte(v.Body)); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
}

func TestVerifyRefuses(t *testing.T) {
	v := loadVectors(t)[0]
	other := loadVectors(t)[1]
	body := []byte(v.Body)
	for _, tc := range []struct {
		name    string
		h       http.Header
		body    []byte
		secrets []string
		skew    time.Duration
		want    error
	}{
		{"no signature", headers("", v.Timestamp), body, nil, 0, slack.ErrNoSignature},
		{"no timestamp", headers(v.Signature, ""), body, nil, 0, slack.ErrNoSignature},
		{"timestamp not a number", headers(v.Signature, "12.5"), body, nil, 0, slack.ErrBadTimestamp},
		{"timestamp 5 minutes and 1 second old", headers(v.Signature, v.Timestamp), body, nil, 5*time.Minute + time.Second, slack.ErrStale},
		{"timestamp 5 minutes and 1 second ahead", headers(v.Signature, v.Timestamp), body, nil, -5*time.Minute - time.Second, slack.ErrStale},
		{"body changed by one byte", headers(v.Signature, v.Timestamp), append([]byte("x"), body[1:]...), nil, 0, slack.ErrBadSignature},
		{"timestamp changed, signature kept", headers(v.Signature, "1531420619"), body, nil, 0, slack.ErrBadSignature},
		{"another request's signature", headers(other.Signature, v.Timestamp), body, nil, 0, slack.ErrBadSignature},
		{"wrong secret", headers(v.Signature, v.Timestamp), body, []string{other.Secret}, 0, slack.ErrBadSignature},
		{"no secret configured", headers(v.Signature, v.Timestamp), body, []string{}, 0, slack.ErrBadSignature},
		{"empty secret configured", headers(v.Signature, v.Timestamp), body, []string{""}, 0, slack.ErrBadSignature},
		{"version v1", headers("v1="+v.Signature[3:], v.Timestamp), body, nil, 0, slack.ErrBadSignature},
		{"signature not hex", headers("v0=zz"+v.Signature[5:], v.Timestamp), body, nil, 0, slack.ErrBadSignature},
		{"signature truncated", headers(v.Signature[:20], v.Timestamp), body, nil, 0, slack.ErrBadSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			secrets := tc.secrets
			if secrets == nil {
				secrets = []string{v.Secret}
			}
			vf := &slack.Verifier{Secrets: func() [][]byte {
				out := make([][]byte, len(secrets))
				for i, s := range secrets {
					out[i] = []byte(s)
				}
				return out
			}, Now: clockAt(t, v.Timestamp, tc.skew)}
			if err := vf.Verify(tc.h, tc.body); !errors.Is(err, tc.want) {
				t.Errorf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestVerifyAcceptsWithinSkew(t *testing.T) {
	v := loadVectors(t)[0]
	for _, d := range []time.Duration{-5 * time.Minute, 0, 5 * time.Minute} {
		vf := &slack.Verifier{Secrets: func() [][]byte { return [][]byte{[]byte(v.Secret)} }, Now: clockAt(t, v.Timestamp, d)}
		if err := vf.Verify(headers(v.Signature, v.Timestamp), []byte(v.Body)); err != nil {
			t.Errorf("clock %v from the timestamp: %v", d, err)
		}
	}
}
