package inventory

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadGood(t *testing.T) {
	inv, err := Load("testdata/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	h, err := inv.Lookup("app-2")
	if err != nil {
		t.Fatal(err)
	}
	if h.Addr() != "10.1.2.4:2222" || h.User != "alaya" || h.KeyFile != filepath.Join("testdata", "keys/id_ed25519") {
		t.Errorf("app-2 = %+v", h.Endpoint)
	}
	var route []string
	for _, b := range inv.Route(h) {
		route = append(route, b.Name+"@"+b.User)
	}
	if got := strings.Join(route, ","); got != "edge@jump,inner@alaya" {
		t.Errorf("route = %s, want edge@jump,inner@alaya (outermost first, per-hop users)", got)
	}
	var names []string
	for _, h := range inv.Select(map[string]string{"service": "api"}) {
		names = append(names, h.Name)
	}
	if strings.Join(names, ",") != "app-1,app-2" {
		t.Errorf("Select(service=api) = %v", names)
	}
	if l, _ := inv.Lookup("local"); l.Transport != TransportLocal {
		t.Errorf("local transport = %q", l.Transport)
	}
}

func TestLookupUnknownIsRefused(t *testing.T) {
	inv, err := Load("testdata/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"app-9", "", "10.1.2.3", "app-1 ", "APP-1"} {
		if _, err := inv.Lookup(name); !errors.Is(err, ErrUnknownHost) {
			t.Errorf("Lookup(%q) err = %v, want ErrUnknownHost", name, err)
		}
	}
}

func TestLoadBadReportsEveryProblemWithPosition(t *testing.T) {
	_, err := Load("testdata/bad.yaml")
	if err == nil {
		t.Fatal("bad inventory loaded")
	}
	want := []string{
		`testdata/bad.yaml:25:5: unknown key "labls"`,
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
	// Strict decoding stops at unknown keys; without them every semantic problem is reported at once.
	data := strings.Replace(readFile(t, "testdata/bad.yaml"), "    labls: {x: y}\n", "", 1)
	_, err = Parse("bad.yaml", []byte(data))
	for _, w := range []string{
		`bad.yaml:8:10: a: bastion chain loops through "a"`,
		`bad.yaml:14:10: c: via "nowhere" is not defined under bastions`,
		`bad.yaml:17:14: app-1: address "10.0.0.9; rm -rf /" is neither an IP address nor a host name`,
		`bad.yaml:18:14: app-1: bastion "missing" is not defined under bastions`,
		`bad.yaml:19:11: duplicate host name "app-1"`,
		`bad.yaml:21:11: app-1: port 70000 out of range 1-65535`,
		`bad.yaml:24:16: app-3: transport "telnet": expected ssh or local`,
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
}

func TestAddrBracketsIPv6(t *testing.T) {
	for _, tt := range []struct{ addr, want string }{
		{"10.0.0.1", "10.0.0.1:22"}, {"fd00::1", "[fd00::1]:22"}, {"app.example.com", "app.example.com:22"},
	} {
		e := Endpoint{Address: tt.addr, Port: 22}
		if got := e.Addr(); got != tt.want {
			t.Errorf("Addr(%s) = %s, want %s", tt.addr, got, tt.want)
		}
	}
}
