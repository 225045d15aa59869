package executor

import (
	"fmt"
	"sync"
)

// capture keeps at most limit bytes of a stream, the first half and the last half, while
// accepting everything written to it: the remote side is never blocked by a full buffer, and
// memory stays bounded however much a command prints.
type capture struct {
	mu    sync.Mutex
	limit int64
	head  []byte // the first limit/2 bytes
	tail  ring   // the last limit-limit/2 bytes after the head
	total int64
}

func newCapture(limit int64) *capture {
	headCap := limit / 2
	return &capture{limit: limit, head: make([]byte, 0, min(headCap, 4096)), tail: ring{size: int(limit - headCap)}}
}

// Write never fails and never blocks on the amount written.
func (c *capture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(p)
	c.total += int64(n)
	if room := int(c.limit/2) - len(c.head); room > 0 {
		k := min(room, len(p))
		c.head = append(c.head, p[:k]...)
		p = p[k:]
	}
	c.tail.write(p)
	return n, nil
}

// result returns the kept bytes and whether some were left out. When they were, a line
// between head and tail says how many, so that nobody mistakes the join for real output.
func (c *capture) result() ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	tail := c.tail.bytes()
	out := make([]byte, 0, len(c.head)+len(tail)+64)
	out = append(out, c.head...)
	omitted := c.total - int64(len(c.head)) - int64(len(tail))
	if omitted > 0 {
		out = fmt.Appendf(out, "\n[... %d bytes omitted ...]\n", omitted)
	}
	return append(out, tail...), omitted > 0
}

// ring keeps the last size bytes written to it, growing its buffer only as data arrives.
type ring struct {
	size int
	buf  []byte
	pos  int // where the next byte goes once buf is full
}

func (r *ring) write(p []byte) {
	if r.size <= 0 || len(p) == 0 {
		return
	}
	if len(p) >= r.size {
		r.buf = append(r.buf[:0], p[len(p)-r.size:]...)
		r.pos = 0
		return
	}
	if room := r.size - len(r.buf); room > 0 {
		k := min(room, len(p))
		r.buf = append(r.buf, p[:k]...)
		p = p[k:]
	}
	for len(p) > 0 {
		n := copy(r.buf[r.pos:], p)
		p = p[n:]
		r.pos = (r.pos + n) % r.size
	}
}

// bytes returns the kept bytes in the order they were written.
func (r *ring) bytes() []byte {
	out := make([]byte, 0, len(r.buf))
	out = append(out, r.buf[r.pos:]...)
	return append(out, r.buf[:r.pos]...)
}
