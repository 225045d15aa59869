package evidence

import (
	"errors"
	"strings"
	"testing"
)

func TestKey(t *testing.T) {
	tests := []struct {
		name  string
		parts []string
		want  string
	}{
		{"layout", []string{"incidents", "Q1ABC", "run-1", "01-uptime", "app-1.prod", "stdout"}, "incidents/Q1ABC/run-1/01-uptime/app-1.prod/stdout"},
		{"dot dot", []string{"incidents", "..", "x"}, "incidents/_./x"},
		{"traversal inside part", []string{"incidents", "../../etc/passwd"}, "incidents/_._.._etc_passwd"},
		{"absolute part", []string{"/etc/passwd"}, "_etc_passwd"},
		{"slash splits nothing", []string{"a/b"}, "a_b"},
		{"nul", []string{"a\x00b"}, "a_b"},
		{"hidden", []string{".link-key"}, "_link-key"},
		{"empty part", []string{"a", "", "b"}, "a/_/b"},
		{"shell and html", []string{"$(reboot)<script>"}, "__reboot__script_"},
		{"unicode", []string{"höst"}, "h__st"},
		{"backslash", []string{`..\..\x`}, `_._.._x`},
		{"single dot", []string{"."}, "_"},
		{"dots keep inside", []string{"heap.hprof"}, "heap.hprof"},
		{"no parts", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Key(tt.parts...)
			if got != tt.want {
				t.Errorf("Key(%q) = %q, want %q", tt.parts, got, tt.want)
			}
			if len(tt.parts) > 0 {
				if err := checkKey(got); err != nil {
					t.Errorf("Key(%q) = %q fails checkKey: %v", tt.parts, got, err)
				}
			}
		})
	}
}

func TestKeyLongPartsStayDistinct(t *testing.T) {
	a, b := strings.Repeat("a", 200)+"1", strings.Repeat("a", 200)+"2"
	ka, kb := Key(a), Key(b)
	if ka == kb || len(ka) != maxPartLen || len(kb) != maxPartLen {
		t.Errorf("Key(long1) = %q, Key(long2) = %q: want distinct, %d bytes", ka, kb, maxPartLen)
	}
}

func TestCheckKey(t *testing.T) {
	tests := []struct {
		name string
		key  string
		ok   bool
	}{
		{"normal", "incidents/Q1/r/s/h/stdout", true},
		{"empty", "", false},
		{"absolute", "/etc/passwd", false},
		{"parent", "incidents/../../etc/passwd", false},
		{"trailing parent", "incidents/..", false},
		{"dot", "incidents/./x", false},
		{"hidden", "incidents/.tmp-123", false},
		{"empty segment", "incidents//x", false},
		{"trailing slash", "incidents/x/", false},
		{"nul", "incidents/x\x00y", false},
		{"newline", "incidents/x\ny", false},
		{"backslash", `incidents\..\x`, false},
		{"too long", strings.Repeat("a", 1025), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkKey(tt.key)
			if (err == nil) != tt.ok {
				t.Fatalf("checkKey(%q) = %v, want ok=%v", tt.key, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidKey) {
				t.Errorf("checkKey(%q) = %v, want ErrInvalidKey", tt.key, err)
			}
		})
	}
}
