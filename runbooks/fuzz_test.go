package runbooks

import (
	"errors"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/internal/yamlfile"
	"mvdan.cc/sh/v3/syntax"
)

// FuzzLoad feeds arbitrary bytes to the loader. It must never panic; every error must be a
// positioned problem in the file; and a runbook that loads must plan without panicking.
// Seeds: testdata/fuzz/FuzzLoad (the good and bad fixtures).
func FuzzLoad(f *testing.F) {
	f.Add([]byte(injectRunbook))
	inv := testInventory(f)
	ev := event(func(i *incident.Incident) { i.Title = "$(touch MARKER)" })
	f.Fuzz(func(t *testing.T, data []byte) {
		rb, err := Parse("fuzz.yaml", data, inv)
		if err != nil {
			for _, e := range yamlfile.Split(err) {
				var ye *yamlfile.Error
				if !errors.As(e, &ye) || !strings.HasPrefix(e.Error(), "fuzz.yaml") {
					t.Fatalf("unpositioned error %T: %v", e, e)
				}
			}
			return
		}
		p, err := rb.Plan(ev, inv)
		if err == nil {
			_ = p.Hash()
		}
	})
}

// FuzzRender renders arbitrary incident data into every allowed shell context. For any
// value: the rendered command, parsed by the same shell parser, starts with one statement of
// assignments whose values are single-quoted and decode to the value; everything after it
// is the same text whatever the value (so the value is nowhere else); and the real sh,
// running the plain and double-quoted contexts, prints the value byte for byte and creates
// no file. A NUL byte, which no command line can carry, is refused instead.
// Seeds: testdata/fuzz/FuzzRender (the injection corpus).
func FuzzRender(f *testing.F) {
	if _, err := exec.LookPath("sh"); err != nil {
		f.Skip("no sh")
	}
	for _, v := range injection {
		if len(v) < 1000 {
			f.Add(v)
		}
	}
	inv := testInventory(f)
	rb, err := Parse("contexts.yaml", []byte(contextsRunbook()), inv)
	if err != nil {
		f.Fatal(err)
	}
	plan := func(value string) (*Plan, error) {
		return rb.Plan(event(func(i *incident.Incident) { i.Title = value }), inv)
	}
	benign, err := plan("benign")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, value string) {
		if len(value) > 32<<10 {
			t.Skip("beyond what one argument may hold")
		}
		p, err := plan(value)
		if strings.IndexByte(value, 0) >= 0 {
			if !errors.Is(err, ErrNUL) {
				t.Fatalf("NUL not refused: %v", err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		// The parser refuses invalid UTF-8 and reads \r\n as \n, where shells take bytes
		// as they are; quoting treats every byte but ' alike, so the structure is checked
		// on the value made valid, and the bytes by the real shell below.
		parsed, pp := value, p
		if !utf8.ValidString(value) || strings.Contains(value, "\r") {
			parsed = strings.ReplaceAll(strings.ToValidUTF8(value, "\uFFFD"), "\r", "")
			if pp, err = plan(parsed); err != nil {
				t.Fatal(err)
			}
		}
		for i := range shellContexts {
			checkRendered(t, pp.Steps[i].Commands["app-1"], benign.Steps[i].Commands["app-1"], parsed)
		}
		for i := range 3 { // bare word, double quotes, double quotes with text
			out, left, err := runIn(t, "sh", p.Steps[i].Commands["app-1"])
			if err != nil || out != shellContexts[i].want(value) || !slices.Equal(left, []string{"out"}) {
				t.Fatalf("%s: got %q (files %v, %v), want %q", shellContexts[i].name, out, left, err, value)
			}
		}
	})
}

// checkRendered parses cmd: its first statement must assign only single-quoted text that
// decodes to value, and the rest must be what the benign rendering has after its prelude.
func checkRendered(t *testing.T, cmd, benign, value string) {
	t.Helper()
	prelude, body := splitPrelude(t, cmd)
	_, benignBody := splitPrelude(t, benign)
	if body != benignBody {
		t.Fatalf("the command after the prelude depends on the value:\n%q\n%q", body, benignBody)
	}
	for i, a := range prelude.Assigns {
		if a.Name.Value != varPrefix+strconv.Itoa(i+1) {
			t.Fatalf("assignment %d is to %s", i, a.Name.Value)
		}
		got, ok := singleQuoted(a.Value)
		if !ok || got != value {
			t.Fatalf("%s holds %q (only single quotes: %v), want %q", a.Name.Value, got, ok, value)
		}
	}
}

// splitPrelude parses cmd and returns its first statement, which must be assignments only,
// and the text after it.
func splitPrelude(t *testing.T, cmd string) (*syntax.CallExpr, string) {
	t.Helper()
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(cmd), "")
	if err != nil {
		t.Fatalf("rendered command does not parse: %v\n%s", err, cmd)
	}
	first := f.Stmts[0]
	call, ok := first.Cmd.(*syntax.CallExpr)
	if !ok || len(call.Args) != 0 || len(call.Assigns) == 0 || len(first.Redirs) != 0 {
		t.Fatalf("first statement is not the prelude: %s", cmd)
	}
	end := int(first.Semicolon.Offset())
	if cmd[end:end+2] != "; " {
		t.Fatalf("prelude not ended by \"; \": %s", cmd)
	}
	return call, cmd[end+2:]
}

// singleQuoted decodes a word made only of '...' and \' (the escaped quote between them).
func singleQuoted(w *syntax.Word) (string, bool) {
	var b strings.Builder
	for _, p := range w.Parts {
		switch p := p.(type) {
		case *syntax.SglQuoted:
			if p.Dollar {
				return "", false
			}
			b.WriteString(p.Value)
		case *syntax.Lit:
			if p.Value != `\'` {
				return "", false
			}
			b.WriteByte('\'')
		default:
			return "", false
		}
	}
	return b.String(), true
}
