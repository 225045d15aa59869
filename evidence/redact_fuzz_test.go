package evidence

import (
	"encoding/base64"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// FuzzRedactor: a configured secret never survives redaction, whatever surrounds it, whether
// the text is redacted whole (String) or streamed (Reader) with the secret across the
// boundary between two rounds, read in chunks of any size; nor does any base64 piece of it
// when it sits inside a base64 blob at any alignment. The stream gives what String gives.
func FuzzRedactor(f *testing.F) {
	f.Add("password=", "hunter2-db-pass", "\n", uint16(0))
	f.Add("Authorization: Bearer ", "tok-AbCdEf0123", " tail", uint16(3))
	f.Add("x", "ababab", "ab", uint16(700))
	f.Add("", "[REDACTED]x", "[REDACTED]", uint16(9))
	f.Add("-----BEGIN RSA PRIVATE KEY-----\n", "s3cr3t\u00e9\u00c9", "\n-----END RSA PRIVATE KEY-----", uint16(65535))
	f.Add("mysql -u root -p", "Pa55word!&<>", "'", uint16(1))
	f.Fuzz(func(t *testing.T, prefix, secret, suffix string, split uint16) {
		if len(secret) < MinSecretLen || len(secret) > 256 || len(prefix)+len(suffix) > 512 || strings.ContainsRune(secret, 0) {
			return
		}
		r := NewRedactor([]string{secret})
		// Small rounds make each execution cheap; the window still holds any match the
		// input can contain, as patternWindow and the longest secret do in production.
		r.window, r.chunk = 1024, 256
		for _, l := range r.literals {
			r.window = max(r.window, len(l.text))
		}
		in := prefix + secret + suffix
		whole := r.String(in)
		survives(t, "String", secret, whole)

		// Put the secret across the cut of the first round, where the stream holds back.
		filler := strings.Repeat("x y\n", max(r.chunk-len(prefix)-int(split%64), 0)/4)
		want := r.String(filler + in)
		for name, src := range map[string]io.Reader{
			"one byte": iotest.OneByteReader(strings.NewReader(filler + in)),
			"chunks":   &chunkReader{r: strings.NewReader(filler + in), size: int(split%1031) + 1},
		} {
			got := readString(t, r.Reader(src))
			survives(t, name, secret, got)
			if got != want {
				t.Fatalf("%s: stream output differs from String", name)
			}
		}

		blob := base64.StdEncoding.EncodeToString([]byte(prefix + secret + suffix))
		out := r.String("data: " + blob + "\n")
		for _, piece := range base64Pieces(base64.RawStdEncoding, []byte(secret)) {
			if strings.Contains(strings.ReplaceAll(out, Redacted, "\x00"), string(piece)) {
				t.Fatalf("base64 piece %q survived in %q", piece, out)
			}
		}
	})
}

// survives fails the test if secret, in any ASCII case, is in out outside the markers.
func survives(t *testing.T, name, secret, out string) {
	t.Helper()
	cleaned := strings.ReplaceAll(out, Redacted, "\x00") // a marker cannot be part of the secret
	if strings.Contains(string(asciiLower([]byte(cleaned))), string(asciiLower([]byte(secret)))) {
		t.Fatalf("%s: secret %q survived in %q", name, secret, out)
	}
}

// chunkReader hands out at most size bytes per Read.
type chunkReader struct {
	r    io.Reader
	size int
}

func (c *chunkReader) Read(p []byte) (int, error) { return c.r.Read(p[:min(len(p), c.size)]) }
