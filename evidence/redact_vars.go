package evidence

import (
	"bytes"
	"regexp"
)

// maxVarDistance is how far before a reference the redactor looks for the variable's
// assignment. It is below patternWindow, so the streaming redactor always holds both.
const maxVarDistance = 4 << 10

// varRef is a shell variable reference: $NAME or ${NAME}.
var varRef = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)

// followVariables adds, for every secret that is a variable reference (mysql -p"${__alaya_1}",
// --password "$PW"), the value assigned to the variable shortly before. Runbook commands pass
// every value through a quoted prelude (__alaya_1='…'; command "${__alaya_1}"), so the value
// a pattern recognises by its place is not where the pattern sees it.
func followVariables(ms []match, buf []byte) []match {
	if bytes.IndexByte(buf, '$') < 0 {
		return ms
	}
	for _, m := range ms {
		for _, ref := range varRef.FindAllSubmatchIndex(buf[m.start:m.end], -1) {
			name := buf[m.start+ref[2] : m.start+ref[3]]
			if a, ok := assignment(buf, name, m.start); ok {
				a.mend = max(a.mend, m.mend) // held back with the reference by the stream
				ms = append(ms, a)
			}
		}
	}
	return ms
}

// assignment finds the last NAME=value in the maxVarDistance bytes before end and returns
// its value as a match spanning from the assignment on.
func assignment(buf, name []byte, end int) (match, bool) {
	from := max(end-maxVarDistance, 0)
	key := append(append([]byte{}, name...), '=')
	for e := end; e > from; {
		i := bytes.LastIndex(buf[from:e], key)
		if i < 0 {
			return match{}, false
		}
		i += from
		if i == 0 || bytes.IndexByte([]byte(" \t\n;&|("), buf[i-1]) >= 0 {
			if s, v, ok := assignedValue(buf, i+len(key)); ok && v <= end {
				return match{start: s, end: v, mstart: i, mend: v}, true
			}
		}
		e = i
	}
	return match{}, false
}

// assignedValue is the span of the value starting at i: inside single quotes (where a quote
// is written '\”), inside double quotes (\" escaped), or bare up to a blank or separator.
func assignedValue(buf []byte, i int) (start, end int, ok bool) {
	if i >= len(buf) {
		return 0, 0, false
	}
	switch buf[i] {
	case '\'':
		for j := i + 1; ; {
			k := bytes.IndexByte(buf[j:], '\'')
			if k < 0 {
				return 0, 0, false
			}
			e := j + k
			if !bytes.HasPrefix(buf[e:], []byte(`'\''`)) {
				return i + 1, e, e > i+1
			}
			j = e + 4
		}
	case '"':
		for j := i + 1; j < len(buf); j++ {
			switch buf[j] {
			case '\\':
				j++
			case '"':
				return i + 1, j, j > i+1
			}
		}
		return 0, 0, false
	}
	j := i
	for j < len(buf) && bytes.IndexByte([]byte(" \t\n;&|)"), buf[j]) < 0 {
		j++
	}
	return i, j, j > i
}
