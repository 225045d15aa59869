package runbooks

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"mvdan.cc/sh/v3/syntax"
)

// The refusals: the places where the shell, or the command that receives a word, reads a
// value again. Each message says what would happen and how to write it instead; `alaya lint`
// prints them as they are.

const (
	arithMsg = "in arithmetic, where the value is evaluated as an expression (a[$(cmd)] runs cmd); compare numbers with [ ] instead ([ {{ value }} -gt 5 ]), which does not evaluate them"
	codeHint = "; pass the value as data instead: as an argument after the code (sh -c 'echo \"$1\"' sh {{ value }}) or on standard input"
)

// refusal says why the node at the top of stack may not hold a value, or "" when it may.
// forVar relaxes the rules for the author's own variables ("$v" inside ${...} or a
// here-document is expanded once) and keeps those where the value is run or evaluated.
func (c *shellCheck) refusal(stack []syntax.Node, forVar bool) string {
	if msg := arithmetic(stack); msg != "" {
		return msg
	}
	for j := len(stack) - 2; j >= 0; j-- {
		child := stack[j+1]
		var msg string
		switch p := stack[j].(type) {
		case *syntax.DblQuoted:
			if p.Dollar {
				msg = `inside $"...", a string bash may translate and read again; use "..."`
			}
		case *syntax.ParamExp:
			if !forVar {
				msg = "inside a parameter expansion ${...}, whose operators read it as a pattern or assign it; assign the value to a variable first (v={{ value }}) and use \"$v\" there"
			}
		case *syntax.CmdSubst:
			if p.Backquotes && !forVar {
				msg = "inside backquotes, whose text the shell reads twice; use $( ... ) instead"
			}
		case *syntax.Redirect:
			msg = redirectRefusal(p, child, forVar)
		case *syntax.Assign:
			msg = c.assignRefusal(p, stack[:j+1], child)
		case *syntax.CallExpr:
			msg = callRefusal(p, child)
		}
		if msg != "" {
			return msg
		}
	}
	return ""
}

// arithmetic says whether the node is read as arithmetic, where bash evaluates a value
// again: $(( )), (( )), let, for (( )), array subscripts, and [[ ]]'s -eq family and -v.
func arithmetic(stack []syntax.Node) string {
	for j := len(stack) - 2; j >= 0; j-- {
		child := stack[j+1]
		switch p := stack[j].(type) {
		case *syntax.ArithmExp, *syntax.ArithmCmd, *syntax.LetClause, *syntax.CStyleLoop:
			return arithMsg
		case *syntax.ParamExp:
			if p.Index != nil && child == syntax.Node(p.Index) || p.Slice != nil {
				return arithMsg
			}
		case *syntax.Assign:
			if p.Index != nil && child == syntax.Node(p.Index) {
				return arithMsg
			}
		case *syntax.ArrayElem:
			if p.Index != nil && child == syntax.Node(p.Index) {
				return arithMsg
			}
		case *syntax.BinaryTest:
			if p.Op >= syntax.TsEql && p.Op <= syntax.TsGtr {
				return "as an operand of " + p.Op.String() + " inside [[ ]], which evaluates it as arithmetic (a[$(cmd)] runs cmd); use [ ] instead ([ {{ value }} -gt 5 ]), which does not"
			}
		case *syntax.UnaryTest:
			if p.Op == syntax.TsVarSet || p.Op == syntax.TsRefVar {
				return "as the operand of " + p.Op.String() + ", which names a variable and evaluates array subscripts in the name (a[$(cmd)] runs cmd)"
			}
		}
	}
	return ""
}

func redirectRefusal(r *syntax.Redirect, child syntax.Node, forVar bool) string {
	switch {
	case r.Hdoc != nil && child == syntax.Node(r.Hdoc):
		if !forVar {
			return heredocMsg
		}
	case r.Op == syntax.Hdoc || r.Op == syntax.DashHdoc:
		return "as a here-document delimiter; use a fixed word"
	case (r.Op == syntax.DplIn || r.Op == syntax.DplOut) && !forVar:
		return "as the target of " + r.Op.String() + ", where it names a file descriptor or closes one; redirect to a file with > or < instead"
	}
	return ""
}

// assignRefusal: a value assigned to a variable is data unless the name makes it code.
func (c *shellCheck) assignRefusal(a *syntax.Assign, stack []syntax.Node, child syntax.Node) string {
	if a.Name == nil || a.Naked {
		return "where it names a variable; assign to a fixed name instead: v={{ value }}"
	}
	name := a.Name.Value
	if strings.ToUpper(name) == name {
		return fmt.Sprintf("assigned to %s: upper-case names are environment variables, and programs read some as code (PS4, PROMPT_COMMAND, BASH_ENV, LD_PRELOAD, GIT_SSH_COMMAND, PAGER); use a lower-case name", name)
	}
	if c.ints[name] {
		return fmt.Sprintf("assigned to %s, which is declared -i or -n, so bash evaluates what is assigned as arithmetic (a[$(cmd)] runs cmd)", name)
	}
	if len(stack) >= 2 {
		if d, ok := stack[len(stack)-2].(*syntax.DeclClause); ok {
			if flags := declFlags(d); strings.Trim(flags, "rxg") != "" {
				return fmt.Sprintf("assigned by %s -%s, which may evaluate it as arithmetic or a reference; use %s without options, or a plain assignment", d.Variant.Value, flags, d.Variant.Value)
			}
		}
	}
	return ""
}

// declFlags gathers the option letters of declare, local, export, readonly or typeset.
func declFlags(d *syntax.DeclClause) string {
	var flags strings.Builder
	for _, a := range d.Args {
		if !a.Naked || a.Value == nil {
			continue
		}
		if w, ok := literal(a.Value); ok && (strings.HasPrefix(w, "-") || strings.HasPrefix(w, "+")) {
			flags.WriteString(w[1:])
		}
	}
	return flags.String()
}

// callRefusal classifies the argument child of a simple command.
func callRefusal(call *syntax.CallExpr, child syntax.Node) string {
	k := -1
	for i, w := range call.Args {
		if syntax.Node(w) == child {
			k = i
		}
	}
	if k < 0 {
		return ""
	}
	if k >= 2 {
		if name, ok := literal(call.Args[0]); ok && (name == "[" || name == "test") {
			if op, _ := literal(call.Args[k-1]); op == "-v" || op == "-R" {
				return "as the operand of " + op + ", which names a variable and evaluates array subscripts in the name (a[$(cmd)] runs cmd)"
			}
		}
		if name, ok := literal(call.Args[0]); ok && name == "printf" {
			if op, _ := literal(call.Args[k-1]); op == "-v" {
				return "as the variable of printf -v, which evaluates array subscripts in the name (a[$(cmd)] runs cmd); use a fixed name"
			}
		}
	}
	if c := classifyArg(call.Args, k); c.refused {
		if strings.HasPrefix(c.msg, "in command position") {
			return c.msg + "; name the program in the runbook"
		}
		return c.msg
	}
	return ""
}

// taint follows values into the author's variables: v={{ x }}; eval "$v" runs the value as
// surely as eval {{ x }} would, so every use of a variable holding a value is held to the
// rules for code. Positional parameters hold values when a function of the command, or set,
// is called with one.
func (c *shellCheck) taint() {
	origin := map[string]int{}
	for changed := true; changed; {
		changed = false
		for _, a := range c.assigns {
			if _, done := origin[a.name]; done {
				continue
			}
			if n := c.valueOrigin(a.stack[len(a.stack)-1], origin); n >= 0 {
				origin[a.name], changed = n, true
			}
		}
	}
	if n := c.positionalOrigin(); n >= 0 {
		for _, p := range []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "@", "*"} {
			origin[p] = n
		}
	}
	for _, u := range c.uses {
		n, ok := origin[u.name]
		if !ok || c.found[n] && c.refusedAlready(n) {
			continue
		}
		if msg := c.useRefusal(u); msg != "" {
			off := c.origOffset(int(u.stack[len(u.stack)-1].Pos().Offset()))
			line, _ := lineCol(c.src, utf8.RuneCountInString(c.src[:off]))
			c.fail(n, fmt.Sprintf("goes to $%s, which line %d of the command uses %s", u.name, line, msg))
		}
	}
}

// refusedAlready keeps one refusal per placeholder.
func (c *shellCheck) refusedAlready(n int) bool {
	for _, e := range c.errs {
		l, col := lineCol(c.src, c.offsets[n])
		if e.Line == l && e.Col == col {
			return true
		}
	}
	return false
}

// useRefusal applies the rules for code to a use of a tainted variable, and refuses it
// unquoted where the shell would split and glob it.
func (c *shellCheck) useRefusal(u nodeAt) string {
	node := u.stack[len(u.stack)-1]
	if p, ok := node.(*syntax.ParamExp); ok && (p.Excl || p.Names != 0) {
		return "indirectly (${!v}), which names a variable and evaluates array subscripts in the name"
	}
	if msg := c.refusal(u.stack, true); msg != "" {
		return msg
	}
	if len(u.stack) >= 3 {
		if w, ok := u.stack[len(u.stack)-2].(*syntax.Word); ok && len(w.Parts) >= 1 {
			switch u.stack[len(u.stack)-3].(type) {
			case *syntax.CallExpr, *syntax.WordIter, *syntax.ArrayElem:
				return "unquoted, where the shell splits it into words and expands * and ? in it; write \"$" + u.name + "\""
			}
		}
	}
	return ""
}

// valueOrigin finds, in an assignment's value or a for loop's list, a placeholder or a
// variable that holds one.
func (c *shellCheck) valueOrigin(node syntax.Node, origin map[string]int) int {
	found := -1
	var parts []syntax.Node
	switch a := node.(type) {
	case *syntax.Assign:
		if a.Value != nil {
			parts = append(parts, a.Value)
		}
		if a.Array != nil {
			parts = append(parts, a.Array)
		}
	case *syntax.WordIter:
		for _, w := range a.Items {
			parts = append(parts, w)
		}
	}
	for _, part := range parts {
		syntax.Walk(part, func(n syntax.Node) bool {
			if p, ok := n.(*syntax.ParamExp); ok && found < 0 {
				if i, ok := sentinel(p); ok {
					found = i
				} else if p.Param != nil {
					if i, ok := origin[p.Param.Value]; ok {
						found = i
					}
				}
			}
			return found < 0
		})
	}
	return found
}

// positionalOrigin is the first placeholder passed to a function of the command or to set.
func (c *shellCheck) positionalOrigin() int {
	for _, call := range c.calls {
		name, ok := "", len(call.Args) > 0
		if ok {
			name, ok = literal(call.Args[0])
		}
		if !ok || !c.funcs[name] && name != "set" {
			continue
		}
		for _, w := range call.Args[1:] {
			for _, p := range w.Parts {
				if pe, ok := p.(*syntax.ParamExp); ok {
					if i, ok := sentinel(pe); ok {
						return i
					}
				}
			}
		}
	}
	return -1
}

func isName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
