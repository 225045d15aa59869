package runbooks

import (
	"strings"

	"github.com/alaya-sre/alaya/internal/yamlfile"
	"gopkg.in/yaml.v3"
)

// posIn maps a place inside a YAML string value (line 1-based, col 0-based, as expr reports
// them) to the file. For block scalars (| and >) the value starts on the line after the
// indicator, indented; for quoted scalars one column after the quote. Multi-line plain and
// quoted scalars are folded by YAML, so there the position is the best guess.
func posIn(doc *yamlfile.Doc, lines []string, path string, line, col int) yamlfile.Pos {
	n := doc.Node(path)
	if n == nil {
		return doc.Pos(path)
	}
	pos := yamlfile.Pos{File: doc.File, Line: n.Line, Col: n.Column}
	switch n.Style {
	case yaml.LiteralStyle, yaml.FoldedStyle:
		fileLine := n.Line + line // the value's line 1 is the line after the indicator
		pos.Line = fileLine
		pos.Col = blockIndent(lines, n.Line) + col + 1
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		if line <= 1 {
			pos.Col = n.Column + 1 + col
		} else {
			pos.Line, pos.Col = n.Line+line-1, col+1
		}
	default:
		if line <= 1 {
			pos.Col = n.Column + col
		} else {
			pos.Line, pos.Col = n.Line+line-1, col+1
		}
	}
	return pos
}

// blockIndent is the indentation of a block scalar's content: that of its first non-blank
// line after the indicator on line indicator (1-based).
func blockIndent(lines []string, indicator int) int {
	for i := indicator; i < len(lines); i++ {
		l := lines[i]
		if strings.TrimSpace(l) == "" {
			continue
		}
		return len(l) - len(strings.TrimLeft(l, " "))
	}
	return 0
}
