package runbooks

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/alaya-sre/alaya/internal/yamlfile"
	"github.com/alaya-sre/alaya/inventory"
)

var nameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// LoadDir loads every *.yaml and *.yml file directly in dir (not in subdirectories, where test
// cases live). All problems of all files are reported at once, one "file:line:col: message" a
// line, as a yamlfile.List joined with errors.Join. inv may be nil (lint without an
// inventory); then the checks that need one are skipped.
func LoadDir(dir string, inv *inventory.Inventory) (*Catalog, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("runbooks: %w", err)
	}
	var files []string
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if !e.IsDir() && (ext == ".yaml" || ext == ".yml") {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	return LoadFiles(inv, files...)
}

// LoadFiles loads the given runbook files into one catalog; see LoadDir.
func LoadFiles(inv *inventory.Inventory, files ...string) (*Catalog, error) {
	var errs yamlfile.List
	var rbs []*Runbook
	paths := newPathTable()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			errs.Add(yamlfile.Pos{File: f}, "cannot read: %v", errors.Unwrap(err))
			continue
		}
		rb, ferrs := parse(f, data, inv, paths)
		errs = append(errs, ferrs...)
		if rb != nil {
			rbs = append(rbs, rb)
		}
	}
	errs = append(errs, duplicates(rbs)...)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return newCatalog(rbs, paths), nil
}

// Parse checks one runbook held in memory; file names it in errors. It is LoadFiles for
// callers (fuzzing, editors) that have the bytes already.
func Parse(file string, data []byte, inv *inventory.Inventory) (*Runbook, error) {
	rb, errs := parse(file, data, inv, newPathTable())
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return rb, nil
}

func duplicates(rbs []*Runbook) yamlfile.List {
	var errs yamlfile.List
	seen := map[string]*Runbook{}
	for _, rb := range rbs {
		if first, ok := seen[rb.Name]; ok {
			errs.Add(rb.Pos, "duplicate runbook name %q (also in %s)", rb.Name, first.Pos)
			continue
		}
		seen[rb.Name] = rb
	}
	return errs
}

// loader carries one file's decoding state so every check can point into the YAML.
type loader struct {
	doc   *yamlfile.Doc
	lines []string
	inv   *inventory.Inventory
	errs  yamlfile.List
	rb    *Runbook
}

func parse(file string, data []byte, inv *inventory.Inventory, paths *pathTable) (*Runbook, yamlfile.List) {
	var raw fileYAML
	doc, err := yamlfile.Decode(file, data, &raw)
	if doc == nil || doc.Root == nil {
		return nil, yamlfile.AsList(file, err)
	}
	sum := sha256.Sum256(data)
	l := &loader{doc: doc, lines: strings.Split(string(data), "\n"), inv: inv}
	if err != nil {
		// Type and unknown-key problems leave the rest decoded: keep checking, so an author
		// sees every problem of the file at once.
		l.errs = yamlfile.AsList(file, err)
	}
	l.rb = &Runbook{
		Name: raw.Name, Description: strings.TrimSpace(raw.Description), Owner: raw.Owner,
		Version: hex.EncodeToString(sum[:])[:12], File: file, Order: DefaultOrder, Stop: raw.Stop,
		Match: raw.Match, Params: map[string]any{}, Pos: doc.Pos(""), paths: paths,
	}
	if raw.Order != nil {
		l.rb.Order = *raw.Order
	}
	l.header(raw)
	l.params(raw.Params)
	l.match(raw.Match)
	l.targetsOf(raw.Targets)
	l.steps(raw)
	l.limits(raw.Limits)
	l.slack(raw.Slack)
	if len(l.errs) > 0 {
		slices.SortStableFunc(l.errs, func(a, b *yamlfile.Error) int {
			return cmp.Or(cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col))
		})
		return nil, l.errs
	}
	return l.rb, nil
}

func (l *loader) header(raw fileYAML) {
	switch {
	case raw.Name == "":
		l.errs.Add(l.doc.Pos(""), "missing name: every runbook needs a unique name")
	case !nameRe.MatchString(raw.Name):
		l.errs.Add(l.doc.Pos("name"), "name %q: expected lower case letters, digits, - and _", raw.Name)
	}
	if raw.Owner == "" {
		l.errs.Add(l.doc.Pos(""), "missing owner: say which team maintains this runbook")
	}
	if len(raw.Steps) == 0 {
		l.errs.Add(l.doc.Pos("steps"), "missing steps: a runbook needs at least one step")
	}
}

func (l *loader) params(raw map[string]any) {
	for _, k := range sortedKeys(raw) {
		path := "params." + k
		if !identRe.MatchString(k) {
			l.errs.Add(l.doc.KeyPos(path), "parameter name %q: expected letters, digits and _ (it is used as params.%s)", k, k)
			continue
		}
		v, err := paramValue(raw[k])
		if err != nil {
			l.errs.Add(l.doc.Pos(path), "parameter %s: %v", k, err)
			continue
		}
		l.rb.Params[k] = v
	}
}

var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// paramValue accepts scalars and lists of strings, the values that make sense in a command.
func paramValue(v any) (any, error) {
	switch v := v.(type) {
	case string, int, float64, bool:
		return v, nil
	case []any:
		out := make([]string, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("expected a list of strings, found %T at index %d", e, i)
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, fmt.Errorf("expected a string, number, true/false or a list of strings, found %T", v)
}

func (l *loader) match(src string) {
	if strings.TrimSpace(src) == "" {
		l.errs.Add(l.doc.Pos(""), "missing match: a rule such as service == \"checkout\"")
		return
	}
	r, err := compileRule(src, l.rb.Params, l.rb.paths)
	if err != nil {
		l.exprErr("match", err)
		return
	}
	l.rb.rule = r
}

// exprErr reports a compile error of the expression held at path, at its place in the file.
func (l *loader) exprErr(path string, err error) {
	ee, ok := err.(*exprError)
	if !ok {
		l.errs.Add(l.doc.Pos(path), "%v", err)
		return
	}
	l.errs = append(l.errs, &yamlfile.Error{Pos: posIn(l.doc, l.lines, path, ee.Line, ee.Col), Msg: ee.Msg})
}

func (l *loader) limits(raw limitsYAML) {
	lim := Limits{MaxTargets: raw.MaxTargets, Concurrency: raw.Concurrency, Cooldown: raw.Cooldown}
	if raw.MaxTargets < 0 {
		l.errs.Add(l.doc.Pos("limits.max_targets"), "max_targets must be at least 1")
	}
	if raw.Concurrency < 0 {
		l.errs.Add(l.doc.Pos("limits.concurrency"), "concurrency must be at least 1")
	}
	if raw.Cooldown < 0 {
		l.errs.Add(l.doc.Pos("limits.cooldown"), "cooldown must not be negative")
	}
	if lim.MaxTargets == 0 {
		lim.MaxTargets = DefaultMaxTargets
	}
	if lim.Concurrency == 0 {
		lim.Concurrency = lim.MaxTargets
		if l.rb.Mutating() {
			lim.Concurrency = 1 // change one host at a time unless the author says otherwise
		}
	}
	l.rb.Limits = lim
}

// sortRunbooks puts runbooks in evaluation order: order, then file name, then name.
func sortRunbooks(rbs []*Runbook) {
	slices.SortStableFunc(rbs, func(a, b *Runbook) int {
		if c := cmp.Compare(a.Order, b.Order); c != 0 {
			return c
		}
		if c := strings.Compare(filepath.Base(a.File), filepath.Base(b.File)); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
}
