package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/alaya-sre/alaya/pagerduty"
)

func init() {
	register("send", "sign a recorded PagerDuty webhook and deliver it to a receiver", runSend)
}

// runSend lets an operator check a deployment end to end with a recorded incident, signed the
// way PagerDuty signs, without waiting for a real page.
func runSend(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("alaya send", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "http://127.0.0.1:8080/v1/webhooks/pagerduty", "the receiver's PagerDuty webhook endpoint")
	event := fs.String("event", "", "file holding a PagerDuty V3 webhook body (required)")
	secretFile := fs.String("secret-file", "", "the receiver's webhook secrets file; signs with its last secret (default: $ALAYA_WEBHOOK_SECRET)")
	timeout := fs.Duration("timeout", 10*time.Second, "give up after this long")
	keepTime := fs.Bool("keep-time", false, "send the recorded occurred_at instead of now (the receiver refuses events older than its replay window)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *event == "" {
		fmt.Fprintln(stderr, "alaya send: --event FILE is required")
		return 2
	}
	body, err := os.ReadFile(*event)
	if err != nil {
		fmt.Fprintf(stderr, "alaya send: %v\n", err)
		return 1
	}
	if _, err := pagerduty.DecodeWebhook(body); err != nil {
		fmt.Fprintf(stderr, "alaya send: %s: %v\n", *event, err)
		return 1
	}
	if !*keepTime {
		body = restamp(body, time.Now())
	}
	secret, err := webhookSecret(*secretFile)
	if err != nil {
		fmt.Fprintf(stderr, "alaya send: %v\n", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	code, resp, err := deliver(ctx, *url, body, secret)
	if err != nil {
		fmt.Fprintf(stderr, "alaya send: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%d %s\n", code, strings.TrimSpace(resp))
	if code/100 != 2 {
		return 1
	}
	return 0
}

// occurredAt finds the event's time in a V3 body.
var occurredAt = regexp.MustCompile(`"occurred_at"\s*:\s*"[^"]*"`)

// restamp sets the event's occurred_at to now, so a recorded event is a new delivery the
// receiver accepts (it refuses signed events older than its replay window); the rest of the
// body is sent byte for byte.
func restamp(body []byte, now time.Time) []byte {
	loc := occurredAt.FindIndex(body)
	if loc == nil {
		return body
	}
	stamp := fmt.Appendf(nil, `"occurred_at": %q`, now.UTC().Format("2006-01-02T15:04:05.000Z"))
	return append(append(append([]byte{}, body[:loc[0]]...), stamp...), body[loc[1]:]...)
}

func webhookSecret(file string) ([]byte, error) {
	if file == "" {
		if s := os.Getenv("ALAYA_WEBHOOK_SECRET"); s != "" {
			return []byte(s), nil
		}
		return nil, fmt.Errorf("no secret: use --secret-file or set ALAYA_WEBHOOK_SECRET")
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	// The receiver's secrets file holds one secret a line while rotating; sign with the
	// newest, the last one.
	var secret []byte
	for _, line := range bytes.Split(b, []byte("\n")) {
		if line = bytes.TrimSpace(line); len(line) > 0 && line[0] != '#' {
			secret = line
		}
	}
	if secret == nil {
		return nil, fmt.Errorf("%s holds no secret", file)
	}
	return secret, nil
}

func deliver(ctx context.Context, url string, body, secret []byte) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "alaya-send (PagerDuty-Webhook/V3.0 compatible)")
	req.Header.Set("X-PagerDuty-Signature", pagerduty.Sign(secret, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, string(b), nil
}
