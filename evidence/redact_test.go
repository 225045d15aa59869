package evidence

import (
	"bytes"
	"io"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"
)

func TestRedactorString(t *testing.T) {
	r := NewRedactor([]string{"hunter2-db-pass", "s3cr3t&value", "abc", ""},
		regexp.MustCompile(`ticket-(?P<secret>[0-9]{6})`))
	tests := []struct {
		name, in, want string
	}{
		{"configured secret", "connecting with hunter2-db-pass to db", "connecting with [REDACTED] to db"},
		{"configured secret url-encoded", "GET /?p=s3cr3t%26value HTTP/1.1", "GET /?p=[REDACTED] HTTP/1.1"},
		{"short secret ignored", "abc is not redacted", "abc is not redacted"},
		{"aws access key id", "key AKIAIOSFODNN7EXAMPLE in use", "key [REDACTED] in use"},
		{"aws temporary key id", "ASIAIOSFODNN7EXAMPLE", "[REDACTED]"},
		{"aws secret assignment", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key = [REDACTED]"},
		{"aws env export", "export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "export AWS_SECRET_ACCESS_KEY=[REDACTED]"},
		{"password assignment", "jdbc password=Tr0ub4dor&3 user=app", "jdbc password=[REDACTED] user=app"},
		{"password quoted with spaces", `DB_PASSWORD="correct horse battery"`, `DB_PASSWORD="[REDACTED]"`},
		{"password yaml", "  password: p4ssw0rd\n  user: app", "  password: [REDACTED]\n  user: app"},
		{"password empty yaml keeps next line", "password:\n  user: app", "password:\n  user: app"},
		{"bearer header", "Authorization: Bearer eyJhbGciOi.abc.def", "Authorization: Bearer [REDACTED]"},
		{"basic header", "authorization: Basic dXNlcjpwYXNz", "authorization: Basic [REDACTED]"},
		{"pagerduty token header", "Authorization: Token token=y_NbAkKc66ryYTWUXYEu", "Authorization: Token [REDACTED]"},
		{"pagerduty user token", "using u+Xq7bL2mN9pR4sT6vW8y for the API", "using [REDACTED] for the API"},
		{"generic token", "token=abcdef123456 next", "token=[REDACTED] next"},
		{"generic api key json", `{"api_key": "k-123456", "n": 1}`, `{"api_key": "[REDACTED]", "n": 1}`},
		{"generic secret env", "CLIENT_SECRET=zzz999 ", "CLIENT_SECRET=[REDACTED] "},
		{"jwt", "session eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U end",
			"session [REDACTED] end"},
		{"url password", "postgres://app:pa55word@db.internal:5432/app", "postgres://app:[REDACTED]@db.internal:5432/app"},
		{"pem block", "before\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\nabc\n-----END RSA PRIVATE KEY-----\nafter",
			"before\n[REDACTED]\nafter"},
		{"openssh key", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----", "[REDACTED]"},
		{"extra pattern group", "see ticket-123456", "see ticket-[REDACTED]"},
		{"overlapping secret and pattern", "password=hunter2-db-pass;", "password=[REDACTED]"},
		{"connection string", "Server=db;Password=a;b&c;User Id=app", "Server=db;Password=[REDACTED] Id=app"},
		{"nothing secret", "load average: 0.42 0.40 0.38\n/dev/vda1 79G", "load average: 0.42 0.40 0.38\n/dev/vda1 79G"},
		{"public key is kept", "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----", "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.String(tt.in); got != tt.want {
				t.Errorf("String(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if got := readString(t, r.Reader(iotest.OneByteReader(strings.NewReader(tt.in)))); got != tt.want {
				t.Errorf("Reader(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func readString(t *testing.T, r io.Reader) string {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRedactorReaderBoundaries puts each secret across every read boundary the stream can
// have: filler pushes it to the edge of the redactor's internal rounds, and the source hands
// out data in sizes that split it anywhere.
func TestRedactorReaderBoundaries(t *testing.T) {
	secret := "Zq9-very-long-configured-secret-" + strings.Repeat("x", 100)
	r := NewRedactor([]string{secret})
	pem := "-----BEGIN EC PRIVATE KEY-----\n" + strings.Repeat("MHcCAQEEI", 200) + "\n-----END EC PRIVATE KEY-----"
	tests := []struct {
		name   string
		secret string // must not survive
		filler int    // bytes before it
	}{
		{"configured at start", secret, 0},
		{"configured across first round", secret, readChunk + patternWindow - 50},
		{"configured across later round", secret, 3*readChunk + 2*patternWindow - 7},
		{"pem across round", pem, readChunk + patternWindow - 500},
		{"password across round", "password=" + strings.Repeat("p", 300), readChunk + patternWindow - 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := strings.Repeat("a b\n", tt.filler/4) + strings.Repeat("z", tt.filler%4) + " " + tt.secret + " tail\n"
			readers := map[string]io.Reader{
				"one byte": iotest.OneByteReader(strings.NewReader(in)),
				"half":     iotest.HalfReader(strings.NewReader(in)),
				"data err": iotest.DataErrReader(strings.NewReader(in)),
				"whole":    strings.NewReader(in),
			}
			for name, src := range readers {
				got := readString(t, r.Reader(src))
				if strings.Contains(got, tt.secret[len(tt.secret)-20:]) || strings.Contains(got, tt.secret[:20]) {
					t.Errorf("%s: secret survived", name)
				}
				if want := r.String(in); got != want {
					t.Errorf("%s: stream output differs from String (len %d vs %d)", name, len(got), len(want))
				}
				if !strings.HasSuffix(got, " tail\n") || !strings.HasPrefix(got, in[:min(10, tt.filler)]) {
					t.Errorf("%s: text around the secret lost", name)
				}
			}
		})
	}
}

// TestRedactorNoSecretSurvives streams a large text sprinkled with every configured secret,
// in odd-sized reads, and checks none comes out.
func TestRedactorNoSecretSurvives(t *testing.T) {
	secrets := []string{"pd-webhook-secret-1", "alaya-link-key-XYZ", "nats-pass-42", "Sup3r$ecret!"}
	r := NewRedactor(secrets)
	var in bytes.Buffer
	for i := range 20000 {
		in.WriteString("line ")
		in.WriteString(strings.Repeat("-", i%37))
		in.WriteString(secrets[i%len(secrets)])
		in.WriteString("\n")
	}
	got := readString(t, r.Reader(iotest.HalfReader(&in)))
	for _, s := range secrets {
		if strings.Contains(got, s) {
			t.Errorf("secret %q survived", s)
		}
	}
	if n := strings.Count(got, Redacted); n != 20000 {
		t.Errorf("%d redactions, want 20000", n)
	}
}

func TestRedactorReaderPassesErrors(t *testing.T) {
	boom := io.ErrClosedPipe
	src := io.MultiReader(strings.NewReader("token=abc123 ok"), iotest.ErrReader(boom))
	b, err := io.ReadAll(NewRedactor(nil).Reader(src))
	if err != boom {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	if string(b) != "token=[REDACTED] ok" {
		t.Errorf("data before the error = %q", b)
	}
}

func TestRedactorUnterminatedValueIsBounded(t *testing.T) {
	// A value longer than the hold limit is flushed in pieces rather than held forever.
	in := "token=" + strings.Repeat("v", 3*holdLimit)
	got := readString(t, NewRedactor(nil).Reader(strings.NewReader(in)))
	if !strings.HasPrefix(got, "token=[REDACTED]") {
		t.Errorf("output starts %q", got[:40])
	}
}

func BenchmarkRedactorReader(b *testing.B) {
	r := NewRedactor([]string{"pd-webhook-secret-1", "alaya-link-key-XYZ"})
	lines := map[string]string{
		"plain":    "2026-05-01T03:00:00Z INFO request served path=/api/v1/orders status=200 duration=12ms\n",
		"triggers": "2026-05-01T03:00:00Z DEBUG cache key=orders:42 token=abc123 Authorization: Bearer xyz12345678\n",
	}
	for name, line := range lines {
		b.Run(name, func(b *testing.B) {
			data := []byte(strings.Repeat(line, (4<<20)/len(line)))
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				io.Copy(io.Discard, r.Reader(bytes.NewReader(data)))
			}
		})
	}
}
