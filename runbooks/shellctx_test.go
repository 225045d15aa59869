package runbooks

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/alaya-sre/alaya/internal/testenv"
)

// dquoteRunbook is the command from issue 8: a placeholder inside a double-quoted string.
const dquoteRunbook = `
name: dquote
owner: sre
match: "true"
targets: {expr: '"app-1"'}
steps:
  - name: echo
    run: 'printf %s "Investigating: {{ incident.title }}"'
`

// TestPlaceholderInDoubleQuotesIsData is the reproduction from issue 8: inside double quotes
// the value's single quotes were literal, so a command substitution in an incident title ran.
func TestPlaceholderInDoubleQuotesIsData(t *testing.T) {
	_, err := exec.LookPath("sh")
	testenv.Require(t, "a POSIX sh", err == nil)
	const title = "DQTEST $(touch MARKER) `touch MARKER` ${IFS}"
	p, err := planWith(t, dquoteRunbook, title)
	if err != nil {
		t.Fatal(err)
	}
	out, left := sh(t, p.Steps[0].Commands["app-1"])
	if want := "Investigating: " + title; out != want || len(left) > 0 {
		t.Fatalf("got %q (files left: %v), want %q and no files", out, left, want)
	}
}

// TestRefusedContexts lists the places where the shell, or the command receiving the word,
// would read a value again, or not at all. Each is refused at load, at the placeholder
// (line 1-based, column 0-based within the command, as expr reports them; the loader maps
// them into the file), with words saying why.
func TestRefusedContexts(t *testing.T) {
	const x = "{{ incident.title }}"
	tests := []struct {
		run       string
		line, col int
		want      string
	}{
		{"echo '" + x + "'", 1, 6, "inside single quotes"},
		{"echo 'Investigating: " + x + "'", 1, 21, "write it outside the quotes: echo 'Investigating: '" + x},
		{"echo $'" + x + "'", 1, 7, "inside $'...'"},
		{`echo $"` + x + `"`, 1, 7, `inside $"..."`},
		{"cat <<EOF\n" + x + "\nEOF", 2, 0, "inside a here-document"},
		{"cat <<'EOF'\nid: " + x + "\nEOF", 2, 4, "inside a here-document"},
		{"cat <<-EOF\n\t" + x + "\n\tEOF", 2, 1, "inside a here-document"},
		{"echo `echo " + x + "`", 1, 11, "inside backquotes"},
		{`echo "$(echo ` + "`echo " + x + "`" + `)"`, 1, 19, "inside backquotes"},
		{"echo $(( " + x + " + 1 ))", 1, 9, "in arithmetic"},
		{"(( n = " + x + " ))", 1, 7, "in arithmetic"},
		{"let n=" + x, 1, 6, "in arithmetic"},
		{"for ((i = 0; i < " + x + "; i++)); do :; done", 1, 17, "in arithmetic"},
		{"a[" + x + "]=1", 1, 2, "in arithmetic"},
		{"echo ${a[" + x + "]}", 1, 9, "in arithmetic"},
		{"[[ " + x + " -eq 1 ]]", 1, 3, "-eq inside [[ ]]"},
		{"[[ 1 -lt " + x + " ]]", 1, 9, "-lt inside [[ ]]"},
		{"[[ -v " + x + " ]]", 1, 6, "operand of -v"},
		{"[ -v " + x + " ]", 1, 5, "operand of -v"},
		{"echo ${HOME:-" + x + "}", 1, 13, "inside a parameter expansion"},
		{"echo ${HOME#" + x + "}", 1, 12, "inside a parameter expansion"},
		{"echo ${HOME/" + x + "/x}", 1, 12, "inside a parameter expansion"},
		{"declare -i n; n=" + x, 1, 16, "declared -i"},
		{"local -n r=" + x, 1, 11, "declared -i or -n"},
		{"export " + x, 1, 7, "names a variable"},
		{"PS4=" + x + "; set -x; true", 1, 4, "upper-case names"},
		{"LD_PRELOAD=" + x + " ls", 1, 11, "upper-case names"},
		{"v=" + x + "; eval \"$v\"", 1, 2, "goes to $v, which line 1"},
		{"v=" + x + "\nw=\"pre $v\"\nbash -c \"$w\"", 1, 2, "goes to $w, which line 3"},
		{"v=" + x + "; echo 'éééééééé'\n$v\n\n\n", 1, 2, "goes to $v, which line 2"},
		{"v=" + x + "; echo $((v + 1))", 1, 2, "goes to $v"},
		{"v=" + x + "; $v --version", 1, 2, "in command position"},
		{"v=" + x + "; rm -f $v", 1, 2, `unquoted, where the shell splits it`},
		{"v=" + x + "; echo ${!v}", 1, 2, "indirectly"},
		{"f() { eval \"$1\"; }; f " + x, 1, 22, "goes to $1"},
		{"for h in " + x + "; do eval \"$h\"; done", 1, 9, "goes to $h"},
		{"eval echo " + x, 1, 10, "argument of eval"},
		{"sh -c " + x, 1, 6, "argument of sh"},
		{"sh -c \"echo " + x + "\"", 1, 12, "argument of sh"},
		{"bash -c 'echo hi; '" + x, 1, 19, "argument of bash"},
		{"dash -ec " + x, 1, 9, "argument of dash"},
		{"zsh -c " + x, 1, 7, "argument of zsh"},
		{"sh " + x, 1, 3, "argument of sh"},
		{"su -c " + x + " postgres", 1, 6, "argument of su"},
		{"su postgres -c " + x, 1, 15, "argument of su"},
		{"sudo sh -c " + x, 1, 11, "argument of sh"},
		{"sudo -n -u app -- bash -c " + x, 1, 26, "argument of bash"},
		{"sudo -s " + x, 1, 8, "argument of sudo -s"},
		{"ssh db-1 tail " + x, 1, 14, "argument of ssh"},
		{"ssh " + x + " uptime", 1, 4, "argument of ssh"},
		{"xargs -n1 echo " + x, 1, 15, "argument of xargs"},
		{"find /var/log -name x -exec grep " + x + " {} +", 1, 33, "find -exec"},
		{"find . -execdir sh -c 'x' " + x + " ';'", 1, 26, "find -execdir"},
		{"find . -ok rm " + x + " \\;", 1, 14, "find -ok"},
		{"watch ls " + x, 1, 9, "argument of watch"},
		{"timeout 5 sh -c " + x, 1, 16, "argument of sh"},
		{"timeout " + x + " ls", 1, 8, "argument of timeout"},
		{"nice -n 5 eval " + x, 1, 15, "argument of eval"},
		{"nohup bash -c " + x, 1, 14, "argument of bash"},
		{"env A=1 sh -c " + x, 1, 14, "argument of sh"},
		{"env " + x + " ls", 1, 4, "argument of env"},
		{"env -S " + x, 1, 7, "argument of env -S"},
		{"stdbuf -oL sh -c " + x, 1, 17, "argument of sh"},
		{"docker exec web sh -c " + x, 1, 22, "argument of sh"},
		{"kubectl exec web -- bash -c " + x, 1, 28, "argument of bash"},
		{"source " + x, 1, 7, "argument of source"},
		{". " + x, 1, 2, "argument of ."},
		{"trap " + x + " EXIT", 1, 5, "argument of trap"},
		{"alias ll=" + x, 1, 9, "argument of alias"},
		{"read " + x, 1, 5, "argument of read"},
		{"printf -v " + x + " %s x", 1, 10, "printf -v"},
		{"python3 -c " + x, 1, 11, "argument of python3"},
		{"perl -e 'print @ARGV' " + x, 1, 22, "could become an option"},
		{"awk " + x + " /var/log/syslog", 1, 4, "argument of awk"},
		{"sed " + x + " file", 1, 4, "argument of sed"},
		{"flock /tmp/l -c " + x, 1, 16, "argument of flock -c"},
		{"find " + x + " -name '*.log'", 1, 5, "could become a primary such as -delete"},
		{"find /var -name x " + x, 1, 18, "could become a primary such as -delete"},
		{"sed -n p " + x, 1, 9, "read as an option"},
		{"tar -czf /tmp/o.tgz " + x, 1, 20, "--to-command"},
		{"git log " + x, 1, 8, "argument of git"},
		{x + " --version", 1, 0, "in command position"},
		{"sudo " + x, 1, 5, "argument of sudo"},
		{"$(echo ls) " + x, 1, 11, "not known when the runbook is loaded"},
		{`"$cmd" ` + x, 1, 7, "not known when the runbook is loaded"},
		{"echo hi >&" + x, 1, 10, "target of >&"},
		{"cat <<" + x + "\nx\n" + x + "\n", 1, 6, "here-document delimiter"},
		{"echo hi # " + x, 1, 10, "inside a comment"},
		{`echo \` + x, 1, 6, "does not read it as a value"},
		{"echo __alaya_1 " + x, 1, 5, "reserved"},
		{`echo "` + x, 1, 5, "cannot parse this command"},
	}
	for _, tt := range tests {
		tmpl, err := compileTemplate(tt.run, TemplateEnv{}, nil)
		if err != nil {
			t.Fatalf("%q: %v", tt.run, err)
		}
		_, errs := checkShell(tt.run, tmpl.parts)
		if len(errs) == 0 {
			t.Errorf("%q: accepted", tt.run)
			continue
		}
		e := errs[0]
		if e.Line != tt.line || e.Col != tt.col || !strings.Contains(e.Msg, tt.want) {
			t.Errorf("%q:\n got %d:%d %s\nwant %d:%d ...%s...", tt.run, e.Line, e.Col, e.Msg, tt.line, tt.col, tt.want)
		}
	}
}

// TestAllowedContexts are commands that look like the refused ones but hand the value over
// as data; they must load.
func TestAllowedContexts(t *testing.T) {
	const x = "{{ incident.title }}"
	for _, run := range []string{
		"sh -c 'printf %s \"$1\"' sh " + x,
		"sudo -n -u " + x + " -- systemctl status -- " + x,
		"timeout 10 grep -c -- " + x + " /var/log/syslog",
		"python3 -c 'import sys; print(sys.argv[1])' " + x,
		"perl -e 'print @ARGV' -- " + x,
		"awk -v t=" + x + " '$0 ~ t' /var/log/syslog",
		"sed -n -e '1,5p' -- " + x,
		"find ./" + x + " /var/log/" + x + " -name '*.log' -mtime +7 -print",
		"sed -n p -- " + x,
		"sed -n 's/a/b/p' /var/log/" + x,
		"tar -czf /tmp/o.tgz -C /var/log -- " + x,
		"git -C /srv/app log --grep=" + x,
		"find /var -name " + x + " -exec ls -l {} +",
		"v=" + x + "; echo \"$v\"; cat <<EOF\n$v\nEOF",
		"v=" + x + "; [ \"$v\" -gt 5 ] && echo big",
		"echo " + x + " > /tmp/alaya-out",
		"grep -e " + x + " <<< \"$(uptime)\"",
		"[[ " + x + " == *disk* ]] && echo disk",
		"case " + x + " in *disk*) echo disk;; esac",
		"echo \"$(printf %s " + x + ")\"",
		"grep bash " + x,
	} {
		tmpl, err := compileTemplate(run, TemplateEnv{}, nil)
		if err != nil {
			t.Fatalf("%q: %v", run, err)
		}
		if _, errs := checkShell(run, tmpl.parts); errs != nil {
			t.Errorf("%q: refused: %v", run, errs[0])
		}
	}
}
