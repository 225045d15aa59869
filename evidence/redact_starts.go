package evidence

import "bytes"

// startIndex finds where the patterns' starts occur in one pass over the input. Searching
// for each start in turn took most of the redactor's time once there were a few dozen of
// them, several beginning with a byte as common as '-' or 's'; a table keyed by a start's
// first two bytes makes each input position cost two lookups.
type startIndex struct {
	fold, exact pairTable // starts searched in the lower-cased input, and as given
}

// pairTable maps the first two bytes of each start to the starts that begin with them.
type pairTable struct {
	slot []uint16 // 1<<16 entries: 1 + index into refs, or 0
	refs [][]startRef
}

type startRef struct {
	pattern int
	text    []byte
}

func newStartIndex(patterns []pattern) startIndex {
	var x startIndex
	for i, p := range patterns {
		t := &x.fold
		if p.exact {
			t = &x.exact
		}
		for _, s := range p.starts {
			t.add(startRef{pattern: i, text: []byte(s)})
		}
	}
	return x
}

// add registers a start; starts are at least two bytes long.
func (t *pairTable) add(ref startRef) {
	if t.slot == nil {
		t.slot = make([]uint16, 1<<16)
	}
	k := pair(ref.text, 0)
	if t.slot[k] == 0 {
		t.refs = append(t.refs, nil)
		t.slot[k] = uint16(len(t.refs))
	}
	t.refs[t.slot[k]-1] = append(t.refs[t.slot[k]-1], ref)
}

func pair(b []byte, i int) int { return int(b[i])<<8 | int(b[i+1]) }

// find appends the matches of every pattern with starts, trying each where one of its starts
// occurs (buf lower-cased is lower).
func (x *startIndex) find(ms []match, patterns []pattern, buf, lower []byte) []match {
	for i := 0; i+1 < len(buf); i++ {
		ms = x.fold.try(ms, patterns, buf, lower, i)
		ms = x.exact.try(ms, patterns, buf, buf, i)
	}
	return ms
}

// try runs the patterns whose start occurs in search at i.
func (t *pairTable) try(ms []match, patterns []pattern, buf, search []byte, i int) []match {
	if t.slot == nil {
		return ms
	}
	k := t.slot[pair(search, i)]
	if k == 0 {
		return ms
	}
	for _, ref := range t.refs[k-1] {
		if bytes.HasPrefix(search[i:], ref.text) {
			ms = patterns[ref.pattern].tryAt(ms, buf, i)
		}
	}
	return ms
}
