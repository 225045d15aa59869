package evidence

import (
	"bytes"
	"cmp"
	"slices"
)

// match is one secret found in a buffer: [start,end) is replaced; [mstart,mend) is all the
// text its pattern needed to recognise it (password=hunter2: the value, and the whole).
type match struct{ start, end, mstart, mend int }

// redact replaces the secrets in buf. When final is false, more input follows: the last
// window bytes, and any match reaching into them, are held back for the next call, and
// consumed says how much of buf the output covers.
func (r *Redactor) redact(buf []byte, final bool) (out []byte, consumed int) {
	ms := r.matches(buf)
	cut := len(buf)
	if !final {
		cut = holdBack(ms, len(buf), r.window)
	}
	slices.SortFunc(ms, func(a, b match) int { return cmp.Compare(a.start, b.start) })
	out = make([]byte, 0, cut+len(Redacted))
	prev := 0
	for _, m := range ms {
		if m.end > cut || m.end <= prev || m.start == m.end {
			continue // held back, inside a secret already replaced, or empty
		}
		if m.start >= prev {
			out = append(out, buf[prev:m.start]...)
			out = append(out, Redacted...)
		}
		prev = m.end
	}
	return append(out, buf[prev:cut]...), cut
}

// holdBack picks where to cut a buffer of n bytes that more input will follow: at least
// window bytes before its end and never inside a match, since a match cut short (or one that
// reaches the end and may go on) could let the rest of a secret through in the next call.
func holdBack(ms []match, n, window int) int {
	cut := max(n-window, 0)
	for moved := true; moved; {
		moved = false
		for _, m := range ms {
			if m.mstart < cut && cut < m.mend {
				cut, moved = m.mstart, true
			}
		}
	}
	return cut
}

// matches finds every literal and pattern match in buf. They may overlap.
func (r *Redactor) matches(buf []byte) []match {
	var ms []match
	lower := asciiLower(buf)
	for _, lit := range r.literals {
		in := buf
		if lit.fold {
			in = lower
		}
		for off := 0; ; {
			i := bytes.Index(in[off:], lit.text)
			if i < 0 {
				break
			}
			s := off + i
			ms = append(ms, match{s, s + len(lit.text), s, s + len(lit.text)})
			off = s + 1 // overlapping occurrences too: "abab" in "ababab" ends at the last b
		}
	}
	for _, p := range r.patterns {
		if len(p.starts) == 0 {
			ms = p.findAll(ms, buf)
		}
	}
	ms = r.starts.find(ms, r.patterns, buf, lower)
	return followVariables(ms, buf)
}

// findAll appends p's matches anywhere in buf.
func (p *pattern) findAll(ms []match, buf []byte) []match {
	for _, loc := range p.re.FindAllSubmatchIndex(buf, -1) {
		ms = append(ms, p.match(loc, 0))
	}
	return ms
}

// tryAt appends p's match starting at s, if there is one.
func (p *pattern) tryAt(ms []match, buf []byte, s int) []match {
	end := len(buf)
	if !p.multiline {
		if nl := bytes.IndexByte(buf[s:], '\n'); nl >= 0 {
			end = s + nl
		}
	}
	if loc := p.re.FindSubmatchIndex(buf[s:end]); loc != nil {
		ms = append(ms, p.match(loc, s))
	}
	return ms
}

// match turns a match location in text starting at offset off into a match, narrowed to its
// "secret" group when it has one.
func (p *pattern) match(loc []int, off int) match {
	m := match{loc[0] + off, loc[1] + off, loc[0] + off, loc[1] + off}
	for i, name := range p.re.SubexpNames() {
		if name == "secret" && loc[2*i] >= 0 {
			m.start, m.end = loc[2*i]+off, loc[2*i+1]+off
			break
		}
	}
	return m
}

// asciiLower lower-cases ASCII letters only, keeping every byte at its offset (bytes.ToLower
// may change the length of non-ASCII text).
func asciiLower(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return out
}
