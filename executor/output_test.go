package executor

import (
	"bytes"
	"fmt"
	"testing"
)

func TestCapture(t *testing.T) {
	tests := []struct {
		name      string
		limit     int64
		writes    []string
		want      string
		truncated bool
	}{
		{"empty", 10, nil, "", false},
		{"under the limit", 10, []string{"abc", "def"}, "abcdef", false},
		{"exactly the limit", 10, []string{"0123456789"}, "0123456789", false},
		{"one byte over", 10, []string{"0123456789x"}, "01234\n[... 1 bytes omitted ...]\n6789x", true},
		{"many small writes wrap the tail", 6, []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"}, "abc\n[... 3 bytes omitted ...]\nghi", true},
		{"one huge write", 4, []string{"0123456789"}, "01\n[... 6 bytes omitted ...]\n89", true},
		{"odd limit gives the tail the extra byte", 5, []string{"0123456789"}, "01\n[... 5 bytes omitted ...]\n789", true},
		{"limit one keeps the last byte", 1, []string{"abc"}, "\n[... 2 bytes omitted ...]\nc", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCapture(tt.limit)
			for _, w := range tt.writes {
				if n, err := c.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			got, truncated := c.result()
			if string(got) != tt.want || truncated != tt.truncated {
				t.Errorf("got %q, %v; want %q, %v", got, truncated, tt.want, tt.truncated)
			}
		})
	}
}

// TestCaptureMatchesNaive compares head+tail with a naive implementation over many write
// patterns, so the ring's wrap-around arithmetic is checked beyond hand-picked cases.
func TestCaptureMatchesNaive(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdefghijklmnopqrstuvwxyz"), 10)
	for limit := int64(1); limit < 40; limit += 3 {
		for chunk := 1; chunk < 50; chunk += 7 {
			c := newCapture(limit)
			for i := 0; i < len(data); i += chunk {
				c.Write(data[i:min(i+chunk, len(data))])
			}
			head, tail := data[:limit/2], data[len(data)-int(limit-limit/2):]
			want := fmt.Sprintf("%s\n[... %d bytes omitted ...]\n%s", head, int64(len(data))-limit, tail)
			if got, _ := c.result(); string(got) != want {
				t.Fatalf("limit %d chunk %d: got %q want %q", limit, chunk, got, want)
			}
		}
	}
}
