package runbooks

import (
	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/alaya-sre/alaya/internal/yamlfile"
)

// CompileAt compiles the expression src, the string value at path in a YAML file decoded with
// yamlfile (lines are the file's lines), against the environment type of envZero, with the
// same helper functions, limits and error wording as runbook rules. A compile error is a
// *yamlfile.Error at the exact place in the file. Other files that hold expressions (source
// mappings) use it so that their checks and messages are those of runbooks, written once.
func CompileAt(doc *yamlfile.Doc, lines []string, path, src string, envZero any, opts ...expr.Option) (*vm.Program, error) {
	prog, err := compileExpr(src, envZero, nil, opts...)
	if err == nil {
		return prog, nil
	}
	ee, ok := err.(*exprError)
	if !ok {
		return nil, yamlfile.Errorf(doc.Pos(path), "%v", err)
	}
	return nil, &yamlfile.Error{Pos: posIn(doc, lines, path, ee.Line, ee.Col), Msg: ee.Msg}
}
