package evidence

import "bytes"

// startIndex finds where the patterns' starts occur in one pass over the input. Searching
// for each start in turn took most of the redactor's time once there were a few dozen of
// them, several beginning with a byte as common as '-' or 's'; a table keyed by a start's
// first two bytes (lower-cased) makes each input position cost one lookup.
type startIndex struct {
	slot []uint16 // 1<<16 entries: 1 + index into refs, or 0
	refs [][]startRef
}

type startRef struct {
	pattern int
	text    []byte
	exact   bool // text must occur as given; otherwise it is lower case and matches any case
}

func newStartIndex(patterns []pattern) startIndex {
	x := startIndex{slot: make([]uint16, 1<<16)}
	for i, p := range patterns {
		for _, s := range p.starts {
			x.add(startRef{pattern: i, text: []byte(s), exact: p.exact})
		}
	}
	return x
}

// add registers a start; starts are at least two bytes long.
func (x *startIndex) add(ref startRef) {
	k := pair(asciiLower(ref.text), 0)
	if x.slot[k] == 0 {
		x.refs = append(x.refs, nil)
		x.slot[k] = uint16(len(x.refs))
	}
	x.refs[x.slot[k]-1] = append(x.refs[x.slot[k]-1], ref)
}

func pair(b []byte, i int) int { return int(b[i])<<8 | int(b[i+1]) }

// find appends the matches of every pattern with starts, trying each where one of its starts
// occurs (buf lower-cased is lower).
func (x *startIndex) find(ms []match, patterns []pattern, buf, lower []byte) []match {
	for i := 0; i+1 < len(lower); i++ {
		k := x.slot[pair(lower, i)]
		if k == 0 {
			continue
		}
		for _, ref := range x.refs[k-1] {
			search := lower
			if ref.exact {
				search = buf
			}
			if bytes.HasPrefix(search[i:], ref.text) {
				ms = patterns[ref.pattern].tryAt(ms, buf, i)
			}
		}
	}
	return ms
}
