package runbooks

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/alaya-sre/alaya/internal/testenv"

	"github.com/alaya-sre/alaya/incident"
)

// injection is incident data written to break out of a command. Each must arrive at the
// command as one argument, byte for byte, with no side effect.
var injection = []string{
	"$(touch MARKER)", "`touch MARKER`", "'; touch MARKER; '", `"; touch MARKER; "`,
	`\'; touch MARKER #`, "x && touch MARKER", "x || touch MARKER", "x | touch MARKER", "x; touch MARKER",
	"x\ntouch MARKER", "x\r\ntouch MARKER", "$((1+1)) ${HOME} $HOME ${IFS}touch${IFS}MARKER",
	"* ? [a-z] ~ ~root", "-n", "--help", "-e \\n", "'", "''", `"`, `\`, `\\'`, "a'b'c", "'$(touch MARKER)'",
	"> MARKER", "< /etc/passwd", "2>&1", "&", "#comment", "!!", "{a,b}", "\t\v\f", " leading and trailing ",
	"", "\xff\xfe invalid utf-8 \xc3", "日本語のインシデント 🔥🧯", strings.Repeat("長い🙂", 3000),
	"%s %d %n", "\x1b[31mred\x1b[0m", "\u202egnp.exe", "$'\\x41'", "'\"'\"'",
	"'; touch MARKER #", `"; touch MARKER; "`, "\ntouch MARKER\n", "}; touch MARKER; {", "${__alaya_1}",
	"\"${IFS}$(touch${IFS}MARKER)\"", "a[$(touch MARKER)]", "x\\", "trailing newline\n\n",
}

// injectRunbook renders the incident title into commands the way authors write them.
const injectRunbook = `
name: inject
owner: sre
match: "true"
targets: {expr: '"app-1"'}
steps:
  - name: printf
    run: printf %s {{ incident.title }}
  - name: quoted_format
    run: printf '%s|' {{ incident.title }} {{ [incident.title, alerts[0].details.host] }}
  - name: echo
    run: echo {{ incident.title }}
`

// actionRunbook puts the same data into an action parameter.
const actionRunbook = `
name: inject-action
owner: sre
match: "true"
targets: {expr: '"app-1"'}
steps:
  - name: gate
    gate: {}
  - name: action
    restart: {service: "{{ incident.title }}"}
`

func injectPlan(t testing.TB, value string) (*Plan, error) {
	return planWith(t, injectRunbook, value)
}

func planWith(t testing.TB, src, value string) (*Plan, error) {
	t.Helper()
	rb, err := Parse("inject.yaml", []byte(src), testInventory(t))
	if err != nil {
		t.Fatal(err)
	}
	ev := event(func(i *incident.Incident) {
		i.Title = value
		i.Alerts = []incident.Alert{{Details: map[string]any{"host": value}}}
	})
	return rb.Plan(ev, testInventory(t))
}

// sh runs a rendered command with the real /bin/sh in an empty directory and returns its
// stdout and whatever the command left in the directory.
func sh(t testing.TB, cmd string) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	c := exec.Command("sh", "-c", cmd)
	c.Dir = dir
	c.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir}
	var out, stderr bytes.Buffer
	c.Stdout, c.Stderr = &out, &stderr
	if err := c.Run(); err != nil {
		t.Fatalf("sh -c %q: %v: %s", clipName(cmd), err, stderr.String())
	}
	entries, _ := os.ReadDir(dir)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	return out.String(), left
}

func TestInjectionExecutedByRealShell(t *testing.T) {
	_, err := exec.LookPath("sh")
	testenv.Require(t, "a POSIX sh", err == nil)
	for _, value := range injection {
		t.Run(clipName(value), func(t *testing.T) {
			p, err := injectPlan(t, value)
			if err != nil {
				t.Fatal(err)
			}
			out, left := sh(t, p.Steps[0].Commands["app-1"])
			if out != value {
				t.Errorf("printf %%s got %q, want %q", clipName(out), clipName(value))
			}
			out2, left2 := sh(t, p.Steps[1].Commands["app-1"])
			if want := strings.Repeat(value+"|", 3); out2 != want {
				t.Errorf("list rendering got %q, want %q", clipName(out2), clipName(want))
			}
			// echo's options and escapes make it unfit for data (see docs), but it must
			// still run nothing but echo.
			_, left3 := sh(t, p.Steps[2].Commands["app-1"])
			if len(left)+len(left2)+len(left3) > 0 {
				t.Errorf("side effect: files %v %v %v", left, left2, left3)
			}
		})
	}
}

func TestInjectionInActionParameters(t *testing.T) {
	p, err := planWith(t, actionRunbook, "checkout.service; reboot")
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Steps[1].Action["app-1"]["service"]; got != "checkout.service; reboot" {
		t.Errorf("service = %q", got)
	}
	// Action parameters are data for the action, not shell; control characters would let an
	// incident smuggle a second line into a line protocol, so they are refused.
	for _, bad := range []string{"a\nb", "a\rb", "x\x1b[0m"} {
		if _, err := planWith(t, actionRunbook, bad); err == nil || !strings.Contains(err.Error(), "control character") {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
}

// TestNULRefused documents the rule for NUL: a shell argument cannot hold one, so a plan
// whose interpolated value holds one is refused (ErrNUL) rather than silently changed.
func TestNULRefused(t *testing.T) {
	for _, v := range []string{"a\x00b", "\x00", "$(touch MARKER)\x00"} {
		_, err := injectPlan(t, v)
		if !errors.Is(err, ErrNUL) {
			t.Errorf("%q: err = %v, want ErrNUL", v, err)
		}
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"": "''", "a": "'a'", "a b": "'a b'", "it's": `'it'\''s'`, "'": `''\'''`,
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestInjectionCorpusIsSeeded(t *testing.T) {
	// The fuzz seeds start from this corpus; keep them together.
	files, _ := filepath.Glob("testdata/fuzz/FuzzRender/*")
	if len(files) == 0 {
		t.Fatal("no committed seeds under testdata/fuzz/FuzzRender: the injection corpus must seed the fuzzer")
	}
}

// shellContexts are the places a value may stand in a command. Each writes what arrived to
// the file out; want is what it must hold for the value v.
var shellContexts = []struct {
	name, run string
	want      func(v string) string
	bashOnly  bool
}{
	{"bare word", `printf %s {{ incident.title }} > out`, same, false},
	{"double quotes", `printf %s "{{ incident.title }}" > out`, same, false},
	{"double quotes with text", `printf %s "Investigating: {{ incident.title }}!" > out`, func(v string) string { return "Investigating: " + v + "!" }, false},
	{"concatenated with text", `printf %s pre-{{ incident.title }}-post > out`, func(v string) string { return "pre-" + v + "-post" }, false},
	{"pipeline", `printf %s {{ incident.title }} | cat | cat > out`, same, false},
	{"for list", `for v in {{ incident.title }}; do printf '%s|' "$v"; done > out`, func(v string) string { return v + "|" }, false},
	{"for list of a list", `for v in {{ [incident.title, incident.title] }}; do printf '%s|' "$v"; done > out`, func(v string) string { return v + "|" + v + "|" }, false},
	{"function argument", `f() { printf %s "$1"; }; f {{ incident.title }} > out`, same, false},
	{"assignment", `v={{ incident.title }}; printf %s "$v" > out`, same, false},
	{"local assignment", `f() { local v={{ incident.title }}; printf %s "$v"; }; f > out`, same, false},
	{"command substitution", `printf %s "$(printf %s {{ incident.title }})" > out`, func(v string) string { return strings.TrimRight(v, "\n") }, false},
	{"case word and pattern", `case {{ incident.title }} in {{ incident.title }}) printf %s {{ incident.title }};; *) printf no;; esac > out`, same, false},
	{"argument after sh -c code", `sh -c 'printf %s "$1"' sh {{ incident.title }} > out`, same, false},
	{"environment of a command", `title={{ incident.title }} sh -c 'printf %s "$title"' > out`, same, false},
	{"after set -eu", `set -eu; printf %s "{{ incident.title }}" > out`, same, false},
	{"wrapped command", `timeout 10 sh -c 'printf %s "$1"' sh {{ incident.title }} > out`, same, false},
	{"test operands", `[ {{ incident.title }} = "{{ incident.title }}" ] && printf %s {{ incident.title }} > out`, same, false},
	{"[[ ]] comparison", `[[ {{ incident.title }} == "{{ incident.title }}" ]] && printf %s {{ incident.title }} > out`, same, true},
	{"here-string", `cat <<< {{ incident.title }} > out`, func(v string) string { return v + "\n" }, true},
	{"array element", `a=({{ incident.title }} x); printf %s "${a[0]}" > out`, same, true},
}

func same(v string) string { return v }

// contextsRunbook puts every context in one runbook, a step each.
func contextsRunbook() string {
	var b strings.Builder
	b.WriteString("name: contexts\nowner: sre\nmatch: \"true\"\ntargets: {expr: '\"app-1\"'}\nsteps:\n")
	for i, c := range shellContexts {
		fmt.Fprintf(&b, "  - name: c%d\n    run: |\n      %s\n", i, c.run)
	}
	return b.String()
}

// shells are the real shells a target runs commands with: /bin/sh (dash here) and bash.
func shells(t *testing.T) []string {
	var out []string
	for _, s := range []string{"sh", "bash"} {
		_, err := exec.LookPath(s)
		testenv.Require(t, s, err == nil)
		out = append(out, s)
	}
	return out
}

// runIn runs cmd with shell in an empty directory and returns the file out and the names
// of the files the command left.
func runIn(t testing.TB, shell, cmd string) (string, []string, error) {
	t.Helper()
	dir := t.TempDir()
	c := exec.Command(shell, "-c", cmd)
	c.Dir = dir
	c.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir}
	var stderr bytes.Buffer
	c.Stderr = &stderr
	err := c.Run()
	if err != nil {
		err = fmt.Errorf("%w: %s", err, stderr.String())
	}
	out, _ := os.ReadFile(filepath.Join(dir, "out"))
	entries, _ := os.ReadDir(dir)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	return string(out), left, err
}

// TestInjectionInEveryContext runs the injection corpus through every allowed context with
// dash and bash: the value arrives byte for byte, and nothing but the command runs.
func TestInjectionInEveryContext(t *testing.T) {
	src := contextsRunbook()
	for _, shell := range shells(t) {
		for _, value := range injection {
			p, err := planWith(t, src, value)
			if err != nil {
				t.Fatal(err)
			}
			for i, c := range shellContexts {
				if c.bashOnly && shell != "bash" {
					continue
				}
				cmd := p.Steps[i].Commands["app-1"]
				out, left, err := runIn(t, shell, cmd)
				if err != nil || out != c.want(value) || !slices.Equal(left, []string{"out"}) {
					t.Errorf("%s, %s, value %q:\n$ %s\ngot %q, files %v, err %v", shell, c.name, clipName(value), clipName(cmd), clipName(out), left, err)
				}
			}
		}
	}
}

// TestInjectionAsRedirectionTarget: a value may name the file a command writes. It is one
// word (no splitting, no globbing, no second redirection), so the file has exactly that name.
func TestInjectionAsRedirectionTarget(t *testing.T) {
	const src = "name: redir\nowner: sre\nmatch: \"true\"\ntargets: {expr: '\"app-1\"'}\nsteps:\n  - name: w\n    run: printf %s x > ./o{{ incident.title }}\n"
	for _, shell := range shells(t) {
		for _, value := range injection {
			p, err := planWith(t, src, value)
			if err != nil {
				t.Fatal(err)
			}
			_, left, err := runIn(t, shell, p.Steps[0].Commands["app-1"])
			name := "o" + value
			if strings.Contains(value, "/") || len(name) > 255 {
				if err == nil || len(left) > 0 {
					t.Errorf("%s, %q: want a failed redirection and no file, got %v, %v", shell, clipName(value), left, err)
				}
				continue
			}
			if err != nil || !slices.Equal(left, []string{name}) {
				t.Errorf("%s, %q: files %q, err %v", shell, clipName(value), left, err)
			}
		}
	}
}
