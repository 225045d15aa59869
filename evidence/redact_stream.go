package evidence

import (
	"io"
	"slices"
)

const (
	// readChunk is how much new input the streaming redactor takes per round.
	readChunk = 32 << 10
	// holdLimit caps the input held back (one huge unterminated match): past it the buffer is
	// redacted as it stands, so memory stays bounded whatever the stream holds.
	holdLimit = 4 * (patternWindow + readChunk)
)

// Reader returns a reader of src with secrets replaced, for streaming collected files and
// command output into a Store. A secret split across src's reads is still found: the last
// window of input (at least the longest configured secret, and patternWindow for patterns) is
// held back until more input or the end arrives.
func (r *Redactor) Reader(src io.Reader) io.Reader {
	return &redactReader{r: r, src: src}
}

type redactReader struct {
	r   *Redactor
	src io.Reader
	in  []byte // read from src, not yet redacted
	out []byte // redacted, not yet returned
	err error  // src's error, returned once in and out are drained
}

func (rr *redactReader) Read(p []byte) (int, error) {
	for len(rr.out) == 0 {
		if rr.err != nil && len(rr.in) == 0 {
			return 0, rr.err
		}
		rr.fill()
	}
	n := copy(p, rr.out)
	rr.out = rr.out[n:]
	return n, nil
}

// fill reads until it holds a round's worth of new input (or src ends), then redacts what can
// be released. Each round adds a chunk (readChunk) of bytes, so a stream of tiny reads is not rescanned
// once per read.
func (rr *redactReader) fill() {
	chunk := rr.r.chunk
	want := max(rr.r.window+chunk, len(rr.in)+chunk)
	for rr.err == nil {
		if cap(rr.in)-len(rr.in) < chunk/4+1 {
			rr.in = slices.Grow(rr.in, chunk)
		}
		n, err := rr.src.Read(rr.in[len(rr.in):cap(rr.in)])
		rr.in, rr.err = rr.in[:len(rr.in)+n], err
		if len(rr.in) >= want {
			break
		}
	}
	final := rr.err != nil || len(rr.in) >= max(holdLimit, 2*rr.r.window)
	out, used := rr.r.redact(rr.in, final)
	rr.out = out
	rr.in = append(rr.in[:0], rr.in[used:]...)
}
