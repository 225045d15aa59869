package runbooks

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// Where a value may go in a command is decided by parsing the command, not by looking at the
// characters around the placeholder. At load each placeholder is replaced by a parameter
// expansion ${__alaya_pN}, the command is parsed by a real shell parser, and the place of
// every such expansion in the syntax tree says whether the shell reads the value once, as
// data (then it is rendered as a reference to a variable assigned in a single-quoted prelude),
// or would read it again as code, or not at all (then the runbook is refused, at the
// placeholder, with the way to write it safely).

// varPrefix starts every name Alaya gives a value; runbooks may not use it.
const varPrefix = "__alaya_"

var sentinelRe = regexp.MustCompile(`\$\{__alaya_p([0-9]+)\}`)

// slotMode is how a placeholder is written into the rendered command.
type slotMode uint8

const (
	// slotQuoted: part of a word outside quotes: "${v}"; a list is joined by spaces.
	slotQuoted slotMode = iota
	// slotWord: a whole argument (or for-list item): a list gives one word per element.
	slotWord
	// slotInDQ: inside a double-quoted string: ${v}; a list is joined by spaces.
	slotInDQ
)

// span is a placeholder's place in the parsed text and in the template.
type span struct{ at, n, origAt, origN int }

// shellCheck is the analysis of one command template.
type shellCheck struct {
	src     string
	text    string
	spans   []span
	offsets []int // template offset of each placeholder's "{{"
	exprs   []string
	modes   []slotMode
	found   []bool
	errs    []*exprError

	assigns []nodeAt // assignments and for loops: the names values may flow into
	uses    []nodeAt // parameter expansions and arithmetic names of the author's variables
	calls   []*syntax.CallExpr
	funcs   map[string]bool
	ints    map[string]bool // declared -i or -n: assignments to them are evaluated
}

// nodeAt is a node with its ancestors (stack[len-1] is the node).
type nodeAt struct {
	name  string
	stack []syntax.Node
}

// checkShell parses a command template and gives each placeholder's mode, or the refusals.
func checkShell(src string, parts []part) ([]slotMode, []*exprError) {
	c := &shellCheck{src: src, funcs: map[string]bool{}, ints: map[string]bool{}}
	if !c.substitute(parts) {
		return nil, c.errs
	}
	f, err := syntax.NewParser(syntax.KeepComments(true), syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(c.text), "")
	if err != nil {
		c.parseError(err)
		return nil, c.errs
	}
	c.walk(f)
	c.taint()
	for n, ok := range c.found {
		if !ok {
			c.fail(n, "where the shell does not read it as a value (escaped, or part of a word the shell takes literally); write it as a word of its own or inside double quotes")
		}
	}
	if len(c.errs) > 0 {
		slices.SortStableFunc(c.errs, func(a, b *exprError) int { return a.Line*1e6 + a.Col - b.Line*1e6 - b.Col })
		return nil, c.errs
	}
	return c.modes, nil
}

// substitute builds the text to parse, refusing literal text that uses Alaya's names.
func (c *shellCheck) substitute(parts []part) bool {
	var b strings.Builder
	orig := 0
	for _, p := range parts {
		if p.src == "" {
			if i := strings.Index(p.text, varPrefix); i >= 0 {
				c.errs = append(c.errs, templateError(c.src, orig+i, "names starting with "+varPrefix+" are reserved for the values Alaya passes to the command; rename it"))
			}
			b.WriteString(p.text)
			orig += len(p.text)
			continue
		}
		n := len(c.offsets)
		ref := "${" + varPrefix + "p" + strconv.Itoa(n) + "}"
		c.spans = append(c.spans, span{at: b.Len(), n: len(ref), origAt: p.offset - 2, origN: len(p.src) + 4})
		c.offsets = append(c.offsets, p.offset-2)
		c.exprs = append(c.exprs, strings.TrimSpace(p.src))
		b.WriteString(ref)
		orig = p.offset + len(p.src) + 2
	}
	c.text = b.String()
	c.modes = make([]slotMode, len(c.offsets))
	c.found = make([]bool, len(c.offsets))
	return len(c.errs) == 0
}

// origOffset maps an offset in the parsed text to the template.
func (c *shellCheck) origOffset(off int) int {
	delta := 0
	for _, s := range c.spans {
		if off < s.at {
			break
		}
		if off < s.at+s.n {
			return s.origAt
		}
		delta = s.origAt + s.origN - (s.at + s.n)
	}
	return min(max(off+delta, 0), len(c.src))
}

func (c *shellCheck) parseError(err error) {
	var pe syntax.ParseError
	off := 0
	msg := err.Error()
	if errors.As(err, &pe) {
		off, msg = int(pe.Pos.Offset()), pe.Text
	}
	var le syntax.LangError
	if errors.As(err, &le) {
		off, msg = int(le.Pos.Offset()), le.Error()
	}
	for n, s := range c.spans {
		if off >= s.at && off < s.at+s.n {
			if strings.Contains(msg, "heredoc") {
				c.fail(n, "as a here-document delimiter; use a fixed word")
			} else {
				c.fail(n, "where the shell cannot parse the command: "+msg)
			}
			return
		}
	}
	c.errs = append(c.errs, templateError(c.src, c.origOffset(off), "the shell cannot parse this command: "+msg))
}

// fail refuses placeholder n.
func (c *shellCheck) fail(n int, msg string) {
	c.found[n] = true
	c.errs = append(c.errs, templateError(c.src, c.offsets[n], fmt.Sprintf("{{ %s }} %s", c.exprs[n], msg)))
}

func (c *shellCheck) walk(f *syntax.File) {
	var stack []syntax.Node
	syntax.Walk(f, func(n syntax.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		stack = append(stack, n)
		if !c.visit(n, stack) {
			stack = stack[:len(stack)-1]
			return false
		}
		return true
	})
}

// visit looks at one node; false means its children need no look.
func (c *shellCheck) visit(n syntax.Node, stack []syntax.Node) bool {
	switch n := n.(type) {
	case *syntax.ParamExp:
		if i, ok := sentinel(n); ok && i < len(c.found) {
			c.placeholder(i, stack)
			return false
		}
		if n.Param != nil {
			c.uses = append(c.uses, nodeAt{n.Param.Value, slices.Clone(stack)})
		}
	case *syntax.SglQuoted:
		c.textRefusal(n.Value, c.singleQuoted(n))
	case *syntax.Comment:
		c.textRefusal(n.Text, "inside a comment, where it does nothing; remove it")
	case *syntax.Lit:
		c.textRefusal(n.Value, c.literalRefusal(stack))
		if isName(n.Value) && arithmetic(stack) != "" {
			c.uses = append(c.uses, nodeAt{n.Value, slices.Clone(stack)})
		}
	case *syntax.Assign:
		if n.Name != nil {
			c.assigns = append(c.assigns, nodeAt{n.Name.Value, slices.Clone(stack)})
		}
	case *syntax.WordIter:
		c.assigns = append(c.assigns, nodeAt{n.Name.Value, slices.Clone(stack)})
	case *syntax.FuncDecl:
		c.funcs[n.Name.Value] = true
	case *syntax.CallExpr:
		c.calls = append(c.calls, n)
	case *syntax.DeclClause:
		if flags := declFlags(n); strings.ContainsAny(flags, "in") {
			for _, a := range n.Args {
				if a.Name != nil {
					c.ints[a.Name.Value] = true
				}
			}
		}
	}
	return true
}

// sentinel reports whether p is the plain ${__alaya_pN} standing for placeholder N.
func sentinel(p *syntax.ParamExp) (int, bool) {
	if p.Param == nil || !strings.HasPrefix(p.Param.Value, varPrefix+"p") {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(p.Param.Value, varPrefix+"p"))
	plain := !p.Short && !p.Excl && !p.Length && !p.Width && p.Index == nil && p.Slice == nil && p.Repl == nil && p.Exp == nil
	return n, err == nil && plain
}

// textRefusal refuses every placeholder found in literal text: the shell will never expand it.
func (c *shellCheck) textRefusal(text, msg string) {
	if !strings.Contains(text, "${"+varPrefix) {
		return
	}
	for _, m := range sentinelRe.FindAllStringSubmatch(text, -1) {
		if n, err := strconv.Atoi(m[1]); err == nil && n < len(c.found) && !c.found[n] {
			c.fail(n, msg)
		}
	}
}

func (c *shellCheck) singleQuoted(q *syntax.SglQuoted) string {
	if q.Dollar {
		return "inside $'...', where the shell would not expand it; write it outside the quotes"
	}
	msg := "inside single quotes, where the shell would not expand it; write it outside the quotes"
	if fix := c.unquote(q); fix != "" {
		msg += ": " + fix
	}
	return msg
}

// unquote rewrites a single-quoted string so that its placeholders stand outside the quotes,
// for the refusal's suggestion: 'Investigating: {{ t }}' becomes 'Investigating: '{{ t }}.
func (c *shellCheck) unquote(q *syntax.SglQuoted) string {
	from, to := c.origOffset(int(q.Pos().Offset())), c.origOffset(int(q.End().Offset())-1)+1
	if from >= to || to > len(c.src) {
		return ""
	}
	quoted := c.src[from:to]
	out := placeholderRe.ReplaceAllString(quoted, "'$0'")
	out = strings.ReplaceAll(strings.ReplaceAll(out, "''", ""), "''", "")
	return strings.Replace(c.src, quoted, out, 1)
}

var placeholderRe = regexp.MustCompile(`\{\{.*?\}\}`)

func (c *shellCheck) literalRefusal(stack []syntax.Node) string {
	for j := len(stack) - 2; j >= 0; j-- {
		if r, ok := stack[j].(*syntax.Redirect); ok && r.Hdoc != nil && stack[j+1] == syntax.Node(r.Hdoc) {
			return heredocMsg
		}
	}
	return "where the shell does not read it as a value (escaped, or part of a word the shell takes literally); write it as a word of its own or inside double quotes"
}

const heredocMsg = "inside a here-document, whose text Alaya cannot quote; pass the value as an argument instead, e.g. printf '%s\\n' {{ value }} | command"

// placeholder decides placeholder n found at the top of stack.
func (c *shellCheck) placeholder(n int, stack []syntax.Node) {
	c.found[n] = true
	if msg := c.refusal(stack, false); msg != "" {
		c.fail(n, msg)
		return
	}
	c.modes[n] = modeOf(stack)
}

func modeOf(stack []syntax.Node) slotMode {
	switch p := stack[len(stack)-2].(type) {
	case *syntax.DblQuoted:
		return slotInDQ
	case *syntax.Word:
		if len(p.Parts) == 1 && len(stack) >= 3 {
			switch stack[len(stack)-3].(type) {
			case *syntax.CallExpr, *syntax.WordIter, *syntax.ArrayElem:
				return slotWord
			}
		}
	}
	return slotQuoted
}
