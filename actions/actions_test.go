package actions_test

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/actions"
)

func TestQuoteSurvivesTheShell(t *testing.T) {
	for _, s := range []string{"", "nginx", "a b", "it's", `$(reboot)`, "'; rm -rf / #", "x\ny", `\"`, "-n", "*"} {
		out, err := exec.Command("sh", "-c", "printf %s "+actions.Quote(s)).Output()
		if err != nil || string(out) != s {
			t.Errorf("Quote(%q) came back as %q (%v)", s, out, err)
		}
	}
}

func TestStillDetached(t *testing.T) {
	at := time.Date(2026, 1, 1, 3, 0, 0, 0, time.UTC)
	detach := func(member string, still bool) actions.Outcome {
		return actions.Outcome{Kind: actions.KindLBDetach, Pool: "app", Member: member, StillDetached: still, Started: at, Step: "detach", Host: member}
	}
	attach := func(member string, ok bool) actions.Outcome {
		return actions.Outcome{Kind: actions.KindLBAttach, Pool: "app", Member: member, OK: ok, StillDetached: !ok}
	}
	tests := []struct {
		name string
		outs []actions.Outcome
		want []string
	}{
		{"detached then attached", []actions.Outcome{detach("a", true), attach("a", true)}, nil},
		{"run failed before attach", []actions.Outcome{detach("a", true)}, []string{"a"}},
		{"attach failed", []actions.Outcome{detach("a", true), attach("a", false)}, []string{"a"}},
		{"refused detach changed nothing", []actions.Outcome{detach("a", false)}, nil},
		{"detached again after attach", []actions.Outcome{detach("a", true), attach("a", true), detach("a", true)}, []string{"a"}},
		{"two members, one back", []actions.Outcome{detach("a", true), detach("b", true), attach("a", true)}, []string{"b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, o := range actions.StillDetached(tt.outs) {
				got = append(got, o.Member)
				if line := actions.DetachedLine(o); !strings.Contains(line, "STILL DETACHED from app (since 03:00:00Z") {
					t.Errorf("line %q", line)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseParams(t *testing.T) {
	lb, err := actions.ParseLBParams("app-3", map[string]string{"backend": "web", "min_healthy": "2", "wait": "45s"})
	if err != nil || lb.Member.Name != "app-3" || lb.MinHealthy != 2 || lb.Member.Pool != "web" || lb.Wait.Seconds() != 45 {
		t.Fatalf("lb %+v %v", lb, err)
	}
	bad := []func() error{
		func() error { _, err := actions.ParseLBParams("h", map[string]string{}); return err },
		func() error {
			_, err := actions.ParseLBParams("h", map[string]string{"backend": "p", "port": "x"})
			return err
		},
		func() error { _, err := actions.ParseRestartParams(map[string]string{}); return err },
		func() error {
			_, err := actions.ParseRestartParams(map[string]string{"service": "a", "settle": "soon"})
			return err
		},
		func() error { _, err := actions.ParseHeapDumpParams(map[string]string{}); return err },
		func() error {
			_, err := actions.ParseHeapDumpParams(map[string]string{"pattern": "p", "max_size": "lots"})
			return err
		},
	}
	for i, f := range bad {
		if err := f(); !errors.Is(err, actions.ErrRefused) {
			t.Errorf("bad params %d: %v", i, err)
		}
	}
	hd, err := actions.ParseHeapDumpParams(map[string]string{"process": "java.*App", "max_size": "2147483648", "compress": "true"})
	if err != nil || hd.MaxSize != 2<<30 || !hd.Compress {
		t.Fatalf("heap dump params %+v %v", hd, err)
	}
}

func TestIsRetryable(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{actions.Retryable("x", errors.New("connection reset")), true},
		{actions.Permanent("x", errors.New("bad")), false},
		{&actions.Refusal{Reason: "no"}, false},
		{actions.Retryable("wait", actions.ErrVerify), false},
		{errors.New("unclassified"), true},
		{context.Canceled, false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := actions.IsRetryable(tt.err); got != tt.want {
			t.Errorf("IsRetryable(%v) = %v", tt.err, got)
		}
	}
}
