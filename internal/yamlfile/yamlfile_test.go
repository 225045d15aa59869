package yamlfile

import (
	"strings"
	"testing"
	"time"
)

type sample struct {
	Name  string        `yaml:"name"`
	Count int           `yaml:"count"`
	Wait  time.Duration `yaml:"wait"`
	Items []struct {
		Host string `yaml:"host"`
	} `yaml:"items"`
}

func TestDecodeErrorsCarryFileLineColumn(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"unknown key", "name: a\ncolor: red\n", `f.yaml:2:1: unknown key "color"`},
		{"nested unknown key", "items:\n  - host: a\n    hots: b\n", `f.yaml:3:5: unknown key "hots"`},
		{"duplicate key", "name: a\nname: b\n", `f.yaml:2`},
		{"wrong type", "count: many\n", `f.yaml:1:8: expected an integer, found str "many"`},
		{"bad duration", "wait: soon\n", `f.yaml:1:7: expected a duration such as 30s or 5m`},
		{"syntax", "name: [a\n", `f.yaml`},
		{"empty", "", `f.yaml:1:1: empty document`},
		{"colon in a plain value", "name: a\nitems:\n  - host: echo status: ok\n",
			`f.yaml:3:22: a value holding ": " must be quoted or written as a block scalar`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v sample
			_, err := Decode("f.yaml", []byte(tt.src), &v)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestPositionsOfValuesAndKeys(t *testing.T) {
	var v sample
	doc, err := Decode("f.yaml", []byte("name: a\nitems:\n  - host: x\n  - host: y\n"), &v)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"items[1].host":    "f.yaml:4:11",
		"items[1]":         "f.yaml:4:5",
		"items[1].missing": "f.yaml:4:5", // falls back to the enclosing block
		"nowhere":          "f.yaml:1:1",
	} {
		if got := doc.Pos(path).String(); got != want {
			t.Errorf("Pos(%q) = %s, want %s", path, got, want)
		}
	}
	if got := doc.KeyPos("items[1].host").String(); got != "f.yaml:4:5" {
		t.Errorf("KeyPos = %s", got)
	}
}

func TestListReportsEveryProblem(t *testing.T) {
	var l List
	if l.Err() != nil {
		t.Fatal("empty list is an error")
	}
	l.Add(Pos{File: "a", Line: 1, Col: 2}, "first %d", 1)
	l.Add(Pos{File: "a", Line: 3}, "second")
	if got := l.Err().Error(); got != "a:1:2: first 1\na:3: second" {
		t.Errorf("Err() = %q", got)
	}
}
