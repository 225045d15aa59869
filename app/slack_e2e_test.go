package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/alaya-sre/alaya/app"
	"github.com/alaya-sre/alaya/approval"
	"github.com/alaya-sre/alaya/config"
	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/internal/slackstandin"
	"github.com/alaya-sre/alaya/internal/testenv/natsserver"
	"github.com/alaya-sre/alaya/queue"
	"github.com/alaya-sre/alaya/slack"
)

const (
	slackSecretOld = "slack-signing-secret-rotating-out"
	slackLinkKey   = "link-key-for-slack-tests-0123456789"
)

// slackEnv is a receiver taking Slack presses in front of a real JetStream server, and the
// Slack stand-in that signs presses as Slack does.
type slackEnv struct {
	url   string
	nats  *natsserver.Server
	slack *slackstandin.Server
	logs  *syncBuffer
}

func newSlackEnv(t *testing.T, edit func(env map[string]string)) *slackEnv {
	dir := t.TempDir()
	e := &slackEnv{nats: natsserver.Start(t, natsserver.WithPort(freePort(t))), slack: slackstandin.New(t), logs: &syncBuffer{}}
	env := map[string]string{
		"ALAYA_NATS_URLS":                e.nats.URL(),
		"ALAYA_RECEIVER_PUBLISH_TIMEOUT": "1s",
		"ALAYA_RECEIVER_WEBHOOK_SECRETS": webhookSecret,
		"ALAYA_RECEIVER_LINK_KEY":        slackLinkKey,
		"ALAYA_EVIDENCE_DIR":             filepath.Join(dir, "evidence"),
		"ALAYA_SLACK_SIGNING_SECRETS":    slackSecretOld + "," + e.slack.SigningSecret(),
	}
	if edit != nil {
		edit(env)
	}
	cfg, err := config.Load("", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	q, err := queue.Connect(ctx, queue.Config{URLs: []string{e.nats.URL()}}, nil, nil) // as a worker would
	if err != nil {
		t.Fatal(err)
	}
	q.Close()
	r, err := app.NewReceiver(ctx, cfg, slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	l, al := listen(t), listen(t)
	r.ServeAdminOn(al)
	e.url = "http://" + l.Addr().String() + "/v1/slack/interactions"
	done := make(chan struct{})
	go func() { _ = r.Run(ctx, l); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		for _, s := range []string{slackSecretOld, e.slack.SigningSecret(), slackLinkKey} {
			if strings.Contains(e.logs.String(), s) {
				t.Errorf("a secret reached the log: %q", s)
			}
		}
	})
	waitHTTP(t, "http://"+al.Addr().String()+"/readyz", http.StatusOK)
	return e
}

// press is an approve press on a gate message in a thread.
func press(mod func(*slackstandin.Press)) slackstandin.Press {
	p := slackstandin.Press{User: "U0DANA", UserName: "dana", Channel: "C0ALERTS", MessageTS: "1764500000.000200",
		ThreadTS: "1764500000.000100", ActionID: slack.ActionApprove, Value: slack.ButtonValue("approve", "Q1ABC", "K7Q2XA")}
	if mod != nil {
		mod(&p)
	}
	return p
}

func (e *slackEnv) deliver(t *testing.T, body []byte, h http.Header) (int, string) {
	t.Helper()
	code, b, err := slackstandin.Deliver(t.Context(), e.url, body, h)
	if err != nil {
		t.Fatal(err)
	}
	return code, string(b)
}

// events reads every event in the stream, with its message id.
func (e *slackEnv) events(t *testing.T) map[string]*incident.Event {
	t.Helper()
	return streamEvents(t, e.nats.URL())
}

// streamEvents reads every event in the events stream of the NATS server at url, by message id.
func streamEvents(t *testing.T, url string) map[string]*incident.Event {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, "ALAYA_EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	info, _ := s.Info(ctx)
	out := map[string]*incident.Event{}
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		msg, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		var ev incident.Event
		if err := json.Unmarshal(msg.Data, &ev); err != nil {
			t.Fatal(err)
		}
		out[msg.Header.Get(jetstream.MsgIDHeader)] = &ev
	}
	return out
}

// TestSlackPressQueued: a press Slack signed is answered 200 with an empty body once the
// stream has it, as the note the person would have typed, signed for the workers, with where
// it came from; delivered twice, it is stored once.
func TestSlackPressQueued(t *testing.T) {
	e := newSlackEnv(t, nil)
	body, h := e.slack.SignedInteraction(press(nil))
	for range 2 {
		if code, b := e.deliver(t, body, h); code != http.StatusOK || b != "" {
			t.Fatalf("answered %d %q, want 200 and an empty body", code, b)
		}
	}
	in, err := slack.ParseInteraction(body)
	if err != nil {
		t.Fatal(err)
	}
	evs := e.events(t)
	ev := evs[in.EventID()]
	if len(evs) != 1 || ev == nil {
		t.Fatalf("stream holds %d events (%v), want the press once under %s", len(evs), evs, in.EventID())
	}
	want := incident.ChatAction{Team: slackstandin.DefaultTeam, User: "U0DANA", Channel: "C0ALERTS",
		MessageTS: "1764500000.000200", ThreadTS: "1764500000.000100", ResponseURL: in.ResponseURL}
	if ev.Type != incident.TypeAnnotated || ev.Source != incident.SourceSlack || ev.Incident.ID != "Q1ABC" ||
		ev.Note == nil || ev.Note.Content != "/alaya approve K7Q2XA" || ev.Note.Author.ID != "U0DANA" ||
		ev.Note.Author.Type != incident.AuthorSlackUser || ev.Chat == nil || *ev.Chat != want {
		t.Errorf("queued %+v note %+v chat %+v", ev, ev.Note, ev.Chat)
	}
	if !approval.VerifyNote([]byte(slackLinkKey), ev) {
		t.Error("the queued press does not carry the receiver's signature")
	}
	if cmd, ok := approval.ParseCommand(ev.Note.Content); !ok || cmd.Verb != approval.VerbApprove || cmd.Code != "K7Q2XA" {
		t.Errorf("note %q is not the approve command", ev.Note.Content)
	}
}

// TestSlackRefusals: only a press Slack signed, recently, for one of our gate buttons is
// queued; the rest are answered without queueing anything.
func TestSlackRefusals(t *testing.T) {
	e := newSlackEnv(t, nil)
	sign := func(body string, at time.Time) ([]byte, http.Header) {
		ts := strconv.FormatInt(at.Unix(), 10)
		h := http.Header{}
		h.Set(slack.HeaderTimestamp, ts)
		h.Set(slack.HeaderSignature, slack.SignatureHeader([]byte(e.slack.SigningSecret()), ts, []byte(body)))
		return []byte(body), h
	}
	good, goodH := e.slack.SignedInteraction(press(nil))
	signed := func(mod func(*slackstandin.Press)) func() ([]byte, http.Header) {
		return func() ([]byte, http.Header) { return e.slack.SignedInteraction(press(mod)) }
	}
	raw := func(body []byte, h http.Header) func() ([]byte, http.Header) {
		return func() ([]byte, http.Header) { return body, h }
	}
	for _, tc := range []struct {
		name   string
		make   func() ([]byte, http.Header)
		want   int
		queued int
	}{
		{"signed with the secret being rotated out", signed(func(p *slackstandin.Press) { p.Secret = slackSecretOld }), http.StatusOK, 1},
		{"signed with an unknown secret", signed(func(p *slackstandin.Press) { p.Secret = "someone-elses-signing-secret" }), http.StatusUnauthorized, 0},
		{"signed 6 minutes ago", signed(func(p *slackstandin.Press) { p.At = time.Now().Add(-6 * time.Minute) }), http.StatusUnauthorized, 0},
		{"signed 6 minutes ahead", signed(func(p *slackstandin.Press) { p.At = time.Now().Add(6 * time.Minute) }), http.StatusUnauthorized, 0},
		{"no signature", raw(good, http.Header{slack.HeaderTimestamp: goodH[slack.HeaderTimestamp]}), http.StatusUnauthorized, 0},
		{"no timestamp", raw(good, http.Header{slack.HeaderSignature: goodH[slack.HeaderSignature]}), http.StatusUnauthorized, 0},
		{"body changed after signing", raw(bytes.Replace(good, []byte("K7Q2XA"), []byte("K7Q2XB"), 1), goodH), http.StatusUnauthorized, 0},
		{"a button that is not a gate's", signed(func(p *slackstandin.Press) { p.ActionID = "open_runbook" }), http.StatusOK, 0},
		{"a modal submission", raw(sign(url.Values{"payload": {`{"type":"view_submission","user":{"id":"U0DANA"},"team":{"id":"T0X"}}`}}.Encode(), time.Now())), http.StatusOK, 0},
		{"a value that is not ours", signed(func(p *slackstandin.Press) { p.Value = "approve Q1ABC" }), http.StatusBadRequest, 0},
		{"an approve button carrying reject", signed(func(p *slackstandin.Press) { p.Value = slack.ButtonValue("reject", "Q1ABC", "K7Q2XA") }), http.StatusBadRequest, 0},
		{"not a payload", raw(sign("payload=%7B", time.Now())), http.StatusBadRequest, 0},
		{"larger than the limit", raw(sign("payload="+strings.Repeat("x", 300<<10), time.Now())), http.StatusRequestEntityTooLarge, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(e.events(t))
			body, h := tc.make()
			code, b := e.deliver(t, body, h)
			if code != tc.want {
				t.Fatalf("answered %d %s, want %d", code, b, tc.want)
			}
			if queued := len(e.events(t)) - before; queued != tc.queued {
				t.Errorf("%d events queued, want %d", queued, tc.queued)
			}
			if code == http.StatusOK && b != "" {
				t.Errorf("200 with body %q: Slack would replace the pressed message with it", b)
			}
		})
	}
}

// TestSlackPressFromAnotherWorkspace: an app installed in several workspaces signs presses
// from all of them with one secret; with slack.team set, only its own workspace's are taken.
func TestSlackPressFromAnotherWorkspace(t *testing.T) {
	e := newSlackEnv(t, func(env map[string]string) { env["ALAYA_SLACK_TEAM"] = slackstandin.DefaultTeam })
	before := len(e.events(t))
	body, h := e.slack.SignedInteraction(press(func(p *slackstandin.Press) { p.Team = "T0ELSEWHERE" }))
	if code, b := e.deliver(t, body, h); code != http.StatusForbidden {
		t.Fatalf("a press from another workspace answered %d %s, want 403", code, b)
	}
	body, h = e.slack.SignedInteraction(press(nil))
	if code, b := e.deliver(t, body, h); code != http.StatusOK {
		t.Fatalf("a press from slack.team answered %d %s, want 200", code, b)
	}
	if queued := len(e.events(t)) - before; queued != 1 {
		t.Errorf("%d events queued, want only the press from slack.team", queued)
	}
}

// TestSlackRouteNeedsSigningSecrets: without signing secrets nothing answers presses.
func TestSlackRouteNeedsSigningSecrets(t *testing.T) {
	e := newSlackEnv(t, func(env map[string]string) { delete(env, "ALAYA_SLACK_SIGNING_SECRETS") })
	body, h := e.slack.SignedInteraction(press(nil))
	if code, _ := e.deliver(t, body, h); code != http.StatusNotFound {
		t.Errorf("answered %d, want 404", code)
	}
}

// TestSlackAnswersWithinThreeSeconds: with the queue unreachable the press is refused with
// 503 in time for Slack to show the person an error, rather than left hanging.
func TestSlackAnswersWithinThreeSeconds(t *testing.T) {
	e := newSlackEnv(t, nil)
	e.nats.Shutdown()
	body, h := e.slack.SignedInteraction(press(nil))
	start := time.Now()
	if code, _ := e.deliver(t, body, h); code != http.StatusServiceUnavailable {
		t.Errorf("answered %d, want 503", code)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("answer took %s", d)
	}
}
