package runbooks

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr/vm"
)

// ErrNUL means an interpolated value held a NUL byte. A shell argument cannot carry one (the
// kernel's argv is NUL-terminated), and dropping it silently would run something other than
// what the data said, so the plan is refused instead.
var ErrNUL = errors.New("value contains a NUL byte, which cannot be passed to a command")

// template is a command or parameter template: literal text with {{ expr }} interpolations.
type template struct {
	src   string
	parts []part
}

// part is literal text, or an expression (prog != nil) starting at offset in the source.
type part struct {
	text   string
	prog   *vm.Program
	src    string
	offset int      // byte offset of the expression source within the template
	mode   slotMode // where a shell command holds the value, decided at load (shellctx.go)
}

// splitTemplate cuts src into literal and {{ expr }} parts. A "}}" inside a quoted string in
// the expression does not end it, so map literals and strings holding braces work.
func splitTemplate(src string) ([]part, *exprError) {
	var parts []part
	rest, base := src, 0
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			if j := strings.Index(rest, "}}"); j >= 0 {
				return nil, templateError(src, base+j, `"}}" without an opening "{{"`)
			}
			if rest != "" {
				parts = append(parts, part{text: rest})
			}
			return parts, nil
		}
		if i > 0 {
			parts = append(parts, part{text: rest[:i]})
		}
		end := closing(rest[i+2:])
		if end < 0 {
			return nil, templateError(src, base+i, `"{{" without a closing "}}"`)
		}
		inner := rest[i+2 : i+2+end]
		if strings.TrimSpace(inner) == "" {
			return nil, templateError(src, base+i, "empty {{ }}")
		}
		parts = append(parts, part{src: inner, offset: base + i + 2})
		base += i + 2 + end + 2
		rest = rest[i+2+end+2:]
	}
}

// closing finds the "}}" that ends an expression, skipping quoted strings.
func closing(s string) int {
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == '\\':
			i++
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
		case c == '"' || c == '\'' || c == '`':
			quote = c
		case c == '}' && i+1 < len(s) && s[i+1] == '}':
			return i
		}
	}
	return -1
}

func templateError(src string, byteOffset int, msg string) *exprError {
	line, col := lineCol(src, utf8.RuneCountInString(src[:byteOffset]))
	return &exprError{Line: line, Col: col, Msg: msg}
}

// compileTemplate compiles every interpolation against env. Errors carry their position within
// src, so the loader can point into the YAML.
func compileTemplate(src string, envZero any, params map[string]any) (*template, *exprError) {
	parts, perr := splitTemplate(src)
	if perr != nil {
		return nil, perr
	}
	for i := range parts {
		p := &parts[i]
		if p.src == "" {
			continue
		}
		prog, err := compileExpr(p.src, envZero, params)
		if err == nil {
			err = renderable(prog)
		}
		if err != nil {
			return nil, shift(src, p.offset, err)
		}
		p.prog = prog
	}
	return &template{src: src, parts: parts}, nil
}

// shift moves an error inside one interpolation to its place in the whole template.
func shift(src string, offset int, err error) *exprError {
	ee, ok := err.(*exprError)
	if !ok {
		ee = &exprError{Line: 1, Msg: err.Error()}
	}
	line, col := lineCol(src, utf8.RuneCountInString(src[:offset]))
	if ee.Line <= 1 {
		return &exprError{Line: line, Col: col + ee.Col, Msg: ee.Msg}
	}
	return &exprError{Line: line + ee.Line - 1, Col: ee.Col, Msg: ee.Msg}
}

// renderable refuses, at load, expressions whose type can never be a shell word.
func renderable(prog *vm.Program) error {
	t := prog.Node().Type()
	if t == nil {
		return nil
	}
	switch t.Kind() {
	case reflect.Map, reflect.Struct, reflect.Func, reflect.Chan:
		return &exprError{Line: 1, Msg: fmt.Sprintf("cannot interpolate a %s; pick a field or an element", kindWord(t))}
	}
	return nil
}

func kindWord(t reflect.Type) string {
	if t.Kind() == reflect.Map {
		return "map"
	}
	return t.Kind().String()
}

// render produces a shell command. Every value is assigned, single-quoted, to a variable of
// its own in a prelude, and the command refers to the variable where the placeholder stood:
//
//	__alaya_1='DQTEST $(touch x)'; echo "Investigating: ${__alaya_1}"
//
// Inside single quotes nothing is special, and a parameter expansion's result is never read
// again as code; that the reference stands where the shell reads it once was proven at load
// (checkShell). No parsing happens here.
func (t *template) render(machine *vm.VM, env any) (string, error) {
	var pre, body strings.Builder
	n := 0
	for i := range t.parts {
		p := &t.parts[i]
		if p.prog == nil {
			body.WriteString(p.text)
			continue
		}
		words, err := t.words(machine, *p, env)
		if err != nil {
			return "", err
		}
		if p.mode != slotWord && len(words) != 1 {
			words = []string{strings.Join(words, " ")}
		}
		for j, w := range words {
			n++
			if j > 0 {
				body.WriteByte(' ')
			}
			if n > 1 {
				pre.WriteByte(' ')
			}
			writeVar(&pre, &body, n, w, p.mode == slotInDQ)
		}
	}
	if n == 0 {
		return body.String(), nil
	}
	pre.WriteString("; ")
	pre.WriteString(body.String())
	return pre.String(), nil
}

// writeVar writes the assignment of value number n to pre and its reference to body.
func writeVar(pre, body *strings.Builder, n int, value string, inDQ bool) {
	name := varPrefix + strconv.Itoa(n)
	pre.WriteString(name)
	pre.WriteString("='")
	pre.WriteString(strings.ReplaceAll(value, "'", `'\''`))
	pre.WriteByte('\'')
	if !inDQ {
		body.WriteByte('"')
	}
	body.WriteString("${")
	body.WriteString(name)
	body.WriteByte('}')
	if !inDQ {
		body.WriteByte('"')
	}
}

// renderValue produces a plain value (an action parameter, a path): no shell is involved, so
// nothing is quoted, and a list is refused because a parameter is one value.
func (t *template) renderValue(machine *vm.VM, env any) (string, error) {
	return t.expand(machine, env, func(p *part, words []string) (string, error) {
		if len(words) != 1 {
			return "", fmt.Errorf("{{%s}} gave %d values where one is needed", p.src, len(words))
		}
		return words[0], nil
	})
}

// expand writes literal text as it is and each interpolation as join makes it of its words.
func (t *template) expand(machine *vm.VM, env any, join func(*part, []string) (string, error)) (string, error) {
	var b strings.Builder
	for i := range t.parts {
		p := &t.parts[i]
		if p.prog == nil {
			b.WriteString(p.text)
			continue
		}
		words, err := t.words(machine, *p, env)
		if err != nil {
			return "", err
		}
		s, err := join(p, words)
		if err != nil {
			return "", err
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

func (t *template) words(machine *vm.VM, p part, env any) ([]string, error) {
	out, err := machine.Run(p.prog, env)
	if err != nil {
		return nil, fmt.Errorf("{{%s}}: %s", p.src, oneLine(err))
	}
	words, err := toWords(out)
	if err != nil {
		return nil, fmt.Errorf("{{%s}}: %w", p.src, err)
	}
	for _, w := range words {
		if strings.IndexByte(w, 0) >= 0 {
			return nil, fmt.Errorf("{{%s}}: %w", p.src, ErrNUL)
		}
	}
	return words, nil
}

// toWords turns a value into shell words: a list gives one word per element.
func toWords(v any) ([]string, error) {
	switch v := v.(type) {
	case nil:
		return []string{""}, nil
	case string:
		return []string{v}, nil
	case []string:
		return v, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, err := scalarWord(e)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	s, err := scalarWord(v)
	return []string{s}, err
}

func scalarWord(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case bool:
		return strconv.FormatBool(v), nil
	case int:
		return strconv.Itoa(v), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case fmt.Stringer:
		return v.String(), nil
	}
	return "", fmt.Errorf("cannot interpolate a %T", v)
}

// Quote makes s one shell word that the shell takes literally, whatever it holds: it is
// wrapped in single quotes, inside which nothing is special, and each single quote in s is
// written as '\” (close, escaped quote, reopen). Every value is quoted, even a plain word, so
// no reader has to decide whether quoting was needed. s must not hold a NUL byte.
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
