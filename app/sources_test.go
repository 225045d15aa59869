package app_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/app"
	"github.com/alaya-sre/alaya/config"
	"github.com/alaya-sre/alaya/internal/testenv/natsserver"
	"github.com/alaya-sre/alaya/queue"
)

// Secrets of the test sources; a test asserts none reaches the log.
const (
	srcSecretOld   = "generic-secret-rotating-out-0001"
	srcSecretNew   = "generic-secret-current-0002"
	srcBearerToken = "bearer-token-for-sources-0003"
	srcPathToken   = "path-token-for-sources-0004"
)

// genericMapping is a small mapping for a JSON shape of our own: one alert per body.
const genericMapping = `mapping:
  id: body.alert_id
  dedup_key: body.alert_id + "/" + body.state
  title: body.summary
  status: 'body.state == "ok" ? "resolved" : "triggered"'
  ignore: body.state == "test"
  host: body.host ?? ""
`

// sourceFiles declares one source of each kind of authentication.
var sourceFiles = map[string]string{
	"signed.yaml": `name: signed
auth:
  hmac: {header: X-Hub-Signature-256, hash: sha256, encoding: hex, prefix: "sha256=", secret_env: SRC_SIGNED}
` + genericMapping,
	"signed64.yaml": `name: signed64
auth:
  hmac: {header: X-Signature, hash: sha1, encoding: base64, secret_env: SRC_SIGNED}
` + genericMapping,
	"stamped.yaml": `name: stamped
auth:
  hmac: {header: X-Grafana-Alert-Signature, timestamp_header: X-Grafana-Alert-Timestamp, secret_env: SRC_SIGNED}
` + genericMapping,
	"bearer.yaml": `name: bearer
auth:
  bearer: {secret_env: SRC_BEARER}
` + genericMapping,
	"url.yaml": `name: url
auth:
  path_token: {secret_file: url.token}
` + genericMapping,
	"url.token": "# rotated in two steps\n" + srcPathToken + "\n",
}

// sourceEnv is a receiver with the test sources in front of a real JetStream server.
type sourceEnv struct {
	url  string
	nats *natsserver.Server
	logs *syncBuffer
}

func newSourceEnv(t *testing.T) *sourceEnv {
	dir := t.TempDir()
	for name, content := range sourceFiles {
		writeFile(t, filepath.Join(dir, "sources", name), content)
	}
	t.Setenv("SRC_SIGNED", srcSecretOld+","+srcSecretNew)
	t.Setenv("SRC_BEARER", srcBearerToken)
	e := &sourceEnv{nats: natsserver.Start(t, natsserver.WithPort(freePort(t))), logs: &syncBuffer{}}
	env := map[string]string{
		"ALAYA_NATS_URLS":                e.nats.URL(),
		"ALAYA_RECEIVER_PUBLISH_TIMEOUT": "1s",
		"ALAYA_RECEIVER_SOURCES_DIR":     filepath.Join(dir, "sources"),
		"ALAYA_EVIDENCE_DIR":             filepath.Join(dir, "evidence"),
	}
	cfg, err := config.Load("", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	// A worker declares the stream; the receiver only binds to it.
	q, err := queue.Connect(ctx, queue.Config{URLs: []string{e.nats.URL()}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	q.Close()
	log := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r, err := app.NewReceiver(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	l, al := listen(t), listen(t)
	r.ServeAdminOn(al)
	e.url = "http://" + l.Addr().String()
	done := make(chan struct{})
	go func() { _ = r.Run(ctx, l); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	waitHTTP(t, "http://"+al.Addr().String()+"/readyz", http.StatusOK)
	return e
}

func (e *sourceEnv) post(t *testing.T, path string, body []byte, hdr map[string]string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.url+path, bytes.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

func hmacHex(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// stamped signs body the way Grafana does with a timestamp header: "<unix time>:<body>".
func stamped(secret string, at time.Time, body []byte) map[string]string {
	ts := strconv.FormatInt(at.Unix(), 10)
	return map[string]string{"X-Grafana-Alert-Timestamp": ts, "X-Grafana-Alert-Signature": hmacHex(secret, append([]byte(ts+":"), body...))}
}

func hmacSHA1Base64(secret string, body []byte) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func alertBody(id, state string) []byte {
	return []byte(`{"alert_id": "` + id + `", "state": "` + state + `", "summary": "load high on app-1", "host": "app-1"}`)
}

// TestSourceAuthentication runs every kind of credential, good and bad, through the real
// receiver: only a valid one is queued, and a refusal is 401 before anything is parsed.
func TestSourceAuthentication(t *testing.T) {
	e := newSourceEnv(t)
	body := alertBody("A-1", "critical")
	cases := []struct {
		name string
		path string
		hdr  map[string]string
		want int
	}{
		{"hmac with the current secret", "/v1/webhooks/in/signed", map[string]string{"X-Hub-Signature-256": "sha256=" + hmacHex(srcSecretNew, body)}, 202},
		{"hmac with the secret being rotated out", "/v1/webhooks/in/signed", map[string]string{"X-Hub-Signature-256": "sha256=" + hmacHex(srcSecretOld, body)}, 202},
		{"hmac listing a stale and a good signature", "/v1/webhooks/in/signed", map[string]string{"X-Hub-Signature-256": "sha256=" + hmacHex("stale-secret-xxxxxxxx", body) + ", sha256=" + hmacHex(srcSecretNew, body)}, 202},
		{"hmac with an unknown secret", "/v1/webhooks/in/signed", map[string]string{"X-Hub-Signature-256": "sha256=" + hmacHex("someone-elses-secret-000", body)}, 401},
		{"hmac of another body", "/v1/webhooks/in/signed", map[string]string{"X-Hub-Signature-256": "sha256=" + hmacHex(srcSecretNew, alertBody("A-2", "critical"))}, 401},
		{"hmac without its prefix", "/v1/webhooks/in/signed", map[string]string{"X-Hub-Signature-256": hmacHex(srcSecretNew, body)}, 401},
		{"hmac in the wrong header", "/v1/webhooks/in/signed", map[string]string{"X-Signature": "sha256=" + hmacHex(srcSecretNew, body)}, 401},
		{"no signature", "/v1/webhooks/in/signed", nil, 401},
		{"sha1 base64 signature", "/v1/webhooks/in/signed64", map[string]string{"X-Signature": hmacSHA1Base64(srcSecretOld, body)}, 202},
		{"sha1 signature in hex where base64 is declared", "/v1/webhooks/in/signed64", map[string]string{"X-Signature": hmacHex(srcSecretOld, body)}, 401},
		{"signed time, now", "/v1/webhooks/in/stamped", stamped(srcSecretNew, time.Now(), body), 202},
		{"signed time, 4 minutes ago", "/v1/webhooks/in/stamped", stamped(srcSecretOld, time.Now().Add(-4*time.Minute), body), 202},
		{"signed time, 10 minutes ago (a replay)", "/v1/webhooks/in/stamped", stamped(srcSecretNew, time.Now().Add(-10*time.Minute), body), 401},
		{"signed time, 10 minutes ahead", "/v1/webhooks/in/stamped", stamped(srcSecretNew, time.Now().Add(10*time.Minute), body), 401},
		{"signed time with the time header changed", "/v1/webhooks/in/stamped", func() map[string]string {
			h := stamped(srcSecretNew, time.Now(), body)
			h["X-Grafana-Alert-Timestamp"] = strconv.FormatInt(time.Now().Unix()+1, 10)
			return h
		}(), 401},
		{"body-only signature where a time is signed", "/v1/webhooks/in/stamped", map[string]string{"X-Grafana-Alert-Signature": hmacHex(srcSecretNew, body)}, 401},
		{"bearer token", "/v1/webhooks/in/bearer", map[string]string{"Authorization": "Bearer " + srcBearerToken}, 202},
		{"wrong bearer token", "/v1/webhooks/in/bearer", map[string]string{"Authorization": "Bearer " + srcBearerToken + "x"}, 401},
		{"bearer token as basic auth", "/v1/webhooks/in/bearer", map[string]string{"Authorization": "Basic " + srcBearerToken}, 401},
		{"token in the path", "/v1/webhooks/in/url/" + srcPathToken, nil, 202},
		{"wrong token in the path", "/v1/webhooks/in/url/" + strings.ToUpper(srcPathToken), nil, 401},
		{"no token in the path", "/v1/webhooks/in/url", nil, 404},
		{"a token path for a signed source", "/v1/webhooks/in/signed/" + srcPathToken, nil, 404},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, resp := e.post(t, c.path, body, c.hdr)
			if code != c.want {
				t.Fatalf("answered %d %v, want %d", code, resp, c.want)
			}
		})
	}
	for _, secret := range []string{srcSecretOld, srcSecretNew, srcBearerToken, srcPathToken} {
		if strings.Contains(e.logs.String(), secret) {
			t.Errorf("a source secret reached the log")
		}
	}
}

// TestSourceAnswers checks the answers a source gets besides authentication, and that the
// dedup key becomes the JetStream message id.
func TestSourceAnswers(t *testing.T) {
	e := newSourceEnv(t)
	path := "/v1/webhooks/in/url/" + srcPathToken
	code, first := e.post(t, path, alertBody("B-1", "critical"), nil)
	if code != http.StatusAccepted || first["duplicate"] != false {
		t.Fatalf("first delivery answered %d %v, want 202 not duplicate", code, first)
	}
	code, again := e.post(t, path, alertBody("B-1", "critical"), nil)
	if code != http.StatusAccepted || again["duplicate"] != true || again["id"] != first["id"] {
		t.Fatalf("redelivery answered %d %v, want 202 duplicate with id %v", code, again, first["id"])
	}
	if code, resolved := e.post(t, path, alertBody("B-1", "ok"), nil); code != http.StatusAccepted || resolved["id"] == first["id"] {
		t.Fatalf("a status change answered %d %v, want 202 with a new id", code, resolved)
	}
	checkStream(t, e, first["id"].(string))

	for _, c := range []struct {
		name string
		body []byte
		want int
	}{
		{"a body the mapping ignores", alertBody("B-2", "test"), http.StatusOK},
		{"not JSON", []byte("alert!"), http.StatusBadRequest},
		{"a JSON list", []byte(`[1, 2]`), http.StatusBadRequest},
		{"a body the mapping cannot take", []byte(`{"state": "critical", "summary": "no id"}`), http.StatusBadRequest},
		{"a body over 256 KiB", append(alertBody("B-3", "critical"), bytes.Repeat([]byte(" "), 256<<10)...), http.StatusRequestEntityTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			if code, resp := e.post(t, path, c.body, nil); code != c.want {
				t.Fatalf("answered %d %v, want %d", code, resp, c.want)
			}
		})
	}
	if strings.Contains(e.logs.String(), srcPathToken) {
		t.Error("the token in the path reached the log")
	}

	t.Run("with NATS down, 503 within the publish deadline", func(t *testing.T) {
		e.nats.Shutdown()
		start := time.Now()
		code, _ := e.post(t, path, alertBody("B-4", "critical"), nil)
		if code != http.StatusServiceUnavailable {
			t.Fatalf("answered %d, want 503", code)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("503 took %s", d)
		}
		e.nats.Restart()
	})
}

// checkStream reads the stream: the event is stored once, under its id as message id.
func checkStream(t *testing.T, e *sourceEnv, id string) {
	t.Helper()
	events := streamEvents(t, e.nats.URL())
	ev, ok := events[id]
	if !ok {
		t.Fatalf("no event stored under the message id %q", id)
	}
	if ev.Source != "url" || ev.Incident.ID != "src-url-B-1" || len(ev.Incident.Alerts) == 0 || ev.Incident.Alerts[0].Details["host"] != "app-1" {
		t.Errorf("stored event %+v", ev)
	}
	if len(events) != 2 {
		t.Errorf("stream holds %d messages, want 2 (the redelivery is dropped)", len(events))
	}
}
