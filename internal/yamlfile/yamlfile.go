// Package yamlfile loads YAML written by people (config, inventory, runbooks) strictly, and
// turns every problem into an error that names the file, line and column. Decoding is two
// passes over the same bytes: a strict decode into Go types (unknown and duplicate keys fail)
// and a walk of the node tree that records where every value sits, so later semantic checks
// (a missing bastion, an expr type error) can point at the exact line too.
package yamlfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Pos is a place in a YAML file. Line and Col are 1-based; zero means unknown.
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Error is one problem at one place.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Errorf builds an Error at pos.
func Errorf(pos Pos, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// List collects problems so a loader can report all of them at once.
type List []*Error

// Add appends a problem.
func (l *List) Add(pos Pos, format string, args ...any) {
	*l = append(*l, Errorf(pos, format, args...))
}

// Err returns nil for an empty list and otherwise an error whose text is one problem a line.
func (l List) Err() error {
	if len(l) == 0 {
		return nil
	}
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// Doc is a decoded document and the positions of its values.
type Doc struct {
	File string
	Root *yaml.Node
	pos  map[string]*yaml.Node
}

// Node returns the node at a path such as "hosts[2].bastion" or "steps[0].run", or nil.
func (d *Doc) Node(path string) *yaml.Node { return d.pos[path] }

// Pos returns the position of the value at path. A missing path falls back to its nearest
// recorded parent, so an error about a key that is absent still points at its enclosing block.
func (d *Doc) Pos(path string) Pos {
	for p := path; ; {
		if n, ok := d.pos[p]; ok {
			return Pos{File: d.File, Line: n.Line, Col: n.Column}
		}
		i := strings.LastIndexAny(p, ".[")
		if i <= 0 {
			return Pos{File: d.File, Line: 1, Col: 1}
		}
		p = p[:i]
	}
}

// KeyPos returns the position of the key (not the value) at path, for "unknown key" style
// messages; it falls back to Pos.
func (d *Doc) KeyPos(path string) Pos {
	if n, ok := d.pos[path+"#key"]; ok {
		return Pos{File: d.File, Line: n.Line, Col: n.Column}
	}
	return d.Pos(path)
}

// Decode strictly decodes one YAML document from data into v and records positions.
// Unknown keys, duplicate keys and type mismatches are returned as a List with file:line:col.
func Decode(file string, data []byte, v any) (*Doc, error) {
	doc := &Doc{File: file, pos: map[string]*yaml.Node{}}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, convert(file, err, doc, data)
	}
	if root.Kind == 0 {
		return nil, List{Errorf(Pos{File: file, Line: 1, Col: 1}, "empty document")}.Err()
	}
	doc.Root = &root
	doc.walk("", &root)

	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return doc, convert(file, err, doc, data)
	}
	return doc, nil
}

func (d *Doc) walk(path string, n *yaml.Node) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			d.walk(path, c)
		}
		return
	case yaml.AliasNode:
		d.pos[path] = n
		return
	}
	d.pos[path] = n
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			d.pos[p+"#key"] = k
			d.walk(p, v)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			d.walk(path+"["+strconv.Itoa(i)+"]", c)
		}
	}
}

var (
	lineRe    = regexp.MustCompile(`^line (\d+): (.*)$`)
	unknownRe = regexp.MustCompile(`^field (\S+) not found in type .+$`)
	cannotRe  = regexp.MustCompile("^cannot unmarshal !!(\\w+) `(.*)` into (\\S+)$")
)

// convert rewrites yaml.v3's errors ("yaml: unmarshal errors:\n  line 3: field x not found in
// type foo") into one Error per problem, in words an SRE can act on.
func convert(file string, err error, doc *Doc, data []byte) error {
	var te *yaml.TypeError
	var msgs []string
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	var list List
	for _, m := range msgs {
		pos := Pos{File: file}
		if sm := lineRe.FindStringSubmatch(strings.TrimSpace(m)); sm != nil {
			pos.Line, _ = strconv.Atoi(sm[1])
			m = sm[2]
		}
		if sm := unknownRe.FindStringSubmatch(m); sm != nil {
			m = fmt.Sprintf("unknown key %q", sm[1])
			pos.Col = doc.keyColumn(pos.Line, sm[1])
		} else if sm := cannotRe.FindStringSubmatch(m); sm != nil {
			m = fmt.Sprintf("expected %s, found %s %q", goTypeWord(sm[3]), sm[1], sm[2])
			pos.Col = doc.valueColumn(pos.Line, sm[2])
		} else if m == "mapping values are not allowed in this context" {
			pos.Col = secondColon(line(data, pos.Line))
			m = `a value holding ": " must be quoted or written as a block scalar ` +
				`(key: >- and the text indented on the next lines); YAML read it as another key`
		}
		list = append(list, &Error{Pos: pos, Msg: m})
	}
	return list.Err()
}

// line returns the 1-based line n of data, or "".
func line(data []byte, n int) string {
	lines := strings.Split(string(data), "\n")
	if n < 1 || n > len(lines) {
		return ""
	}
	return lines[n-1]
}

// secondColon is the 1-based column of the ": " after the line's key: where YAML saw a second
// mapping value. 0 when there is none.
func secondColon(s string) int {
	first := strings.Index(s, ": ")
	if first < 0 {
		return 0
	}
	rest := strings.Index(s[first+2:]+" ", ": ")
	if rest < 0 {
		return 0
	}
	return first + 2 + rest + 1
}

// keyColumn finds the column of the key named name on line, for unknown-key errors.
func (d *Doc) keyColumn(line int, name string) int {
	for p, n := range d.pos {
		if strings.HasSuffix(p, "#key") && n.Line == line && n.Value == name {
			return n.Column
		}
	}
	return 0
}

// valueColumn finds the column of a scalar value on line, for type errors.
func (d *Doc) valueColumn(line int, value string) int {
	for p, n := range d.pos {
		if !strings.HasSuffix(p, "#key") && n.Kind == yaml.ScalarNode && n.Line == line && n.Value == value {
			return n.Column
		}
	}
	return 0
}

func goTypeWord(t string) string {
	switch {
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		return "an integer"
	case t == "bool":
		return "true or false"
	case t == "string":
		return "a string"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["):
		return "a mapping"
	case t == "time.Duration":
		return "a duration such as 30s or 5m"
	}
	return "a " + t
}

// AsList keeps Decode's problems as they are and places any other error (a file that cannot
// be read, say) at the start of file, so a loader reports both kinds the same way.
func AsList(file string, err error) List {
	var list List
	for _, e := range Split(err) {
		var ye *Error
		if errors.As(e, &ye) {
			list = append(list, ye)
		} else {
			list.Add(Pos{File: file, Line: 1, Col: 1}, "%v", e)
		}
	}
	return list
}

// Split returns the errors joined in err (errors.Join, List.Err), or err alone.
func Split(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
