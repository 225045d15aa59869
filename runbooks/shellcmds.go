package runbooks

import (
	"fmt"
	"path"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// A placeholder is written as one word that the shell never reads again, but the command that
// receives the word may: eval and sh -c run it as code, ssh hands it to another shell, sudo
// and timeout run their remaining words as a command. This table says, for the commands that
// do such things, which of their arguments are code. It errs on the side of refusing: a
// refused runbook is rewritten once, a run command is forever.

// cmdKind is how a command treats its arguments.
type cmdKind uint8

const (
	// cmdCode: every argument is, or may become, shell code (eval, ssh, xargs, watch).
	cmdCode cmdKind = iota + 1
	// cmdWrapper: options, a fixed number of operands, then a command with its arguments
	// (sudo, timeout, env, nice).
	cmdWrapper
	// cmdInterp: options, then a script (file or text) that is code, then arguments that are
	// data; an option such as -c or -e may give the code instead (sh, python3, awk, sed).
	cmdInterp
	// cmdNames: arguments name variables, and bash evaluates array subscripts in names
	// (read 'a[$(cmd)]' runs cmd).
	cmdNames
	// cmdFind: find, whose -exec, -execdir, -ok and -okdir run the words up to ";" or "+".
	cmdFind
	// cmdOptionRuns: arguments are data, but the command reads options anywhere among them
	// (GNU getopt permutes) and some options run programs (tar --to-command): a value
	// must not begin a word unless it follows "--".
	cmdOptionRuns
)

// cmdSpec describes one command.
type cmdSpec struct {
	kind cmdKind
	// valueOpts take the next word as their value (or after "=" or attached to a short one).
	valueOpts []string
	// dataOpts are the valueOpts whose value is plain data (sudo -u USER, awk -v NAME=VALUE);
	// a value may be given to those, not to the others (strace -o '|cmd' runs cmd).
	dataOpts []string
	// codeOpts take code as their value, or make the wrapper run a shell (sudo -s).
	codeOpts []string
	// operands before the wrapped command (timeout's duration, chroot's directory).
	operands int
	// envAssigns: NAME=value words before the command are skipped (env).
	envAssigns bool
	// codeEndsOptions: after the code option's value every word is an argument (python -c).
	codeEndsOptions bool
	// permutes: options are read after operands too (GNU sed), so an operand must follow
	// "--" or start with fixed text.
	permutes bool
	// why says what the command does with its arguments, for the refusal.
	why string
	// hint is how to pass a value instead, when the general advice does not fit.
	hint string
}

var shellSpec = cmdSpec{kind: cmdInterp, valueOpts: []string{"-o", "+o", "-O", "+O", "--rcfile", "--init-file"},
	why: "runs its first operand (the -c command or a script) as shell code"}

var cmdSpecs = map[string]cmdSpec{
	"eval":        {kind: cmdCode, why: "runs its arguments as shell code"},
	"source":      {kind: cmdCode, why: "runs a file as shell code"},
	".":           {kind: cmdCode, why: "runs a file as shell code"},
	"trap":        {kind: cmdCode, why: "runs its action as shell code when a signal arrives", hint: "; assign it to a variable (v={{ value }}) and refer to it in the single-quoted action: trap 'echo \"$v\"' EXIT"},
	"alias":       {kind: cmdCode, why: "defines shell code run later", hint: "; use a function that takes the value as an argument"},
	"fc":          {kind: cmdCode, why: "runs history entries as shell code"},
	"bind":        {kind: cmdCode, why: "binds keys to shell code"},
	"complete":    {kind: cmdCode, why: "runs completion commands as shell code"},
	"compgen":     {kind: cmdCode, why: "expands its word lists and runs -C commands as shell code"},
	"ssh":         {kind: cmdCode, why: "joins its arguments into a command that the remote shell parses again", hint: "; Alaya already runs the command on every target: name the host in the runbook's targets and run the command there"},
	"mosh":        {kind: cmdCode, why: "joins its arguments into a command that the remote shell parses again", hint: "; Alaya already runs the command on every target: name the host in the runbook's targets and run the command there"},
	"rsh":         {kind: cmdCode, why: "joins its arguments into a command that the remote shell parses again", hint: "; Alaya already runs the command on every target: name the host in the runbook's targets and run the command there"},
	"scp":         {kind: cmdCode, why: "passes remote paths to a remote shell, and takes options that run programs", hint: "; Alaya already runs the command on every target: name the host in the runbook's targets and run the command there"},
	"rsync":       {kind: cmdCode, why: "passes remote paths to a remote shell, and -e runs a program", hint: "; Alaya already runs the command on every target: name the host in the runbook's targets and run the command there"},
	"su":          {kind: cmdCode, why: "runs its -c argument as shell code", hint: "; use sudo -n -u USER -- command {{ value }}, which passes it as an argument"},
	"runuser":     {kind: cmdCode, why: "runs its -c argument as shell code", hint: "; use sudo -n -u USER -- command {{ value }}, which passes it as an argument"},
	"xargs":       {kind: cmdCode, why: "builds commands from its arguments and input", hint: "; give the value to the command directly, as an argument"},
	"parallel":    {kind: cmdCode, why: "runs its arguments through a shell"},
	"watch":       {kind: cmdCode, why: "joins its arguments and runs them with sh -c", hint: "; run the command once: Alaya runs diagnostics when the incident fires"},
	"script":      {kind: cmdCode, why: "runs its -c argument as shell code"},
	"at":          {kind: cmdCode, why: "runs its input as shell code later"},
	"batch":       {kind: cmdCode, why: "runs its input as shell code later"},
	"expect":      {kind: cmdCode, why: "runs its arguments as Tcl code"},
	"tmux":        {kind: cmdCode, why: "runs its arguments as commands in a shell"},
	"screen":      {kind: cmdCode, why: "runs its arguments as commands in a shell"},
	"systemd-run": {kind: cmdCode, why: "runs a command built from options Alaya does not check"},

	"sudo": {kind: cmdWrapper, valueOpts: []string{"-u", "--user", "-g", "--group", "-h", "--host", "-p", "--prompt",
		"-C", "--close-from", "-D", "--chdir", "-r", "--role", "-t", "--type", "-U", "--other-user", "-T", "--command-timeout", "-R", "--chroot"},
		dataOpts: []string{"-u", "--user", "-g", "--group"},
		codeOpts: []string{"-s", "--shell", "-i", "--login"}, why: "runs its arguments as a command"},
	"doas": {kind: cmdWrapper, valueOpts: []string{"-u", "-C"}, dataOpts: []string{"-u"}, codeOpts: []string{"-s"}, why: "runs its arguments as a command"},
	"timeout": {kind: cmdWrapper, valueOpts: []string{"-k", "--kill-after", "-s", "--signal"}, dataOpts: []string{"-k", "--kill-after", "-s", "--signal"},
		operands: 1, why: "runs its arguments as a command"},
	"nice":    {kind: cmdWrapper, valueOpts: []string{"-n", "--adjustment"}, dataOpts: []string{"-n", "--adjustment"}, why: "runs its arguments as a command"},
	"ionice":  {kind: cmdWrapper, valueOpts: []string{"-c", "--class", "-n", "--classdata", "-p", "--pid", "-P", "--pgid", "-u", "--uid"}, why: "runs its arguments as a command"},
	"chrt":    {kind: cmdWrapper, valueOpts: []string{"-T", "--sched-runtime", "-P", "--sched-period", "-D", "--sched-deadline"}, operands: 1, why: "runs its arguments as a command"},
	"taskset": {kind: cmdWrapper, operands: 1, why: "runs its arguments as a command"},
	"chroot":  {kind: cmdWrapper, operands: 1, why: "runs its arguments as a command"},
	"nsenter": {kind: cmdWrapper, valueOpts: []string{"-t", "--target", "-S", "--setuid", "-G", "--setgid"}, why: "runs its arguments as a command"},
	"flock": {kind: cmdWrapper, valueOpts: []string{"-w", "--timeout", "-E", "--conflict-exit-code"}, operands: 1,
		codeOpts: []string{"-c", "--command"}, why: "runs its arguments as a command, or its -c argument as shell code"},
	"env": {kind: cmdWrapper, valueOpts: []string{"-u", "--unset", "-C", "--chdir"}, envAssigns: true,
		codeOpts: []string{"-S", "--split-string"}, why: "runs its arguments as a command, and -S splits a string into one"},
	"stdbuf":   {kind: cmdWrapper, valueOpts: []string{"-i", "--input", "-o", "--output", "-e", "--error"}, why: "runs its arguments as a command"},
	"nohup":    {kind: cmdWrapper, why: "runs its arguments as a command"},
	"setsid":   {kind: cmdWrapper, why: "runs its arguments as a command"},
	"unbuffer": {kind: cmdWrapper, why: "runs its arguments as a command"},
	"time":     {kind: cmdWrapper, valueOpts: []string{"-o", "--output", "-f", "--format"}, why: "runs its arguments as a command"},
	"command":  {kind: cmdWrapper, why: "runs its arguments as a command"},
	"builtin":  {kind: cmdWrapper, why: "runs its arguments as a command"},
	"exec":     {kind: cmdWrapper, valueOpts: []string{"-a"}, why: "runs its arguments as a command"},
	"busybox":  {kind: cmdWrapper, why: "runs its arguments as a command"},
	"strace": {kind: cmdWrapper, valueOpts: []string{"-o", "-e", "-p", "-s", "-u", "-E", "-P", "-a", "-b", "-O", "-S", "-X"},
		why: "runs its arguments as a command"},
	"ltrace": {kind: cmdWrapper, valueOpts: []string{"-o", "-e", "-p", "-s", "-u", "-a", "-n", "-x", "-L"}, why: "runs its arguments as a command"},

	"sh": shellSpec, "bash": shellSpec, "dash": shellSpec, "zsh": shellSpec, "ksh": shellSpec, "mksh": shellSpec,
	"ash": shellSpec, "rbash": shellSpec, "fish": shellSpec, "csh": shellSpec, "tcsh": shellSpec, "yash": shellSpec,
	"python": pythonSpec, "python2": pythonSpec, "python3": pythonSpec,
	"perl": interp("-e", "-E"), "ruby": interp("-e"), "php": interp("-r"),
	"node": interp("-e", "--eval", "-p", "--print"), "nodejs": interp("-e", "--eval", "-p", "--print"),
	"awk": awkSpec, "gawk": awkSpec, "mawk": awkSpec, "nawk": awkSpec,
	"sed": {kind: cmdInterp, valueOpts: []string{"-l", "--line-length"}, codeOpts: []string{"-e", "--expression", "-f", "--file"}, permutes: true,
		why: "runs its script (the first operand, or -e) as sed code, which can run commands and write files"},

	"find": {kind: cmdFind},

	"tar":   optionRuns("--to-command, --use-compress-program and --checkpoint-action run programs"),
	"git":   optionRuns("-c, --upload-pack and --exec run programs"),
	"zip":   optionRuns("-TT runs a program"),
	"wget":  optionRuns("--execute runs commands and -O writes files"),
	"curl":  optionRuns("-K reads a config and -o writes files"),
	"psql":  optionRuns("-c runs SQL, and \\! in it a shell"),
	"mysql": optionRuns("-e runs SQL, and system in it a shell"),
	"less":  optionRuns("+ and -k options run commands"),
	"man":   optionRuns("-P runs a pager"),
	"vi":    optionRuns("-c and + run editor commands, which run a shell"),
	"vim":   optionRuns("-c and + run editor commands, which run a shell"),

	"read":      {kind: cmdNames, why: "takes variable names, and bash evaluates array subscripts in them"},
	"unset":     {kind: cmdNames, why: "takes variable names, and bash evaluates array subscripts in them"},
	"getopts":   {kind: cmdNames, why: "takes variable names, and bash evaluates array subscripts in them"},
	"mapfile":   {kind: cmdNames, why: "takes a variable name and a -C callback run as shell code"},
	"readarray": {kind: cmdNames, why: "takes a variable name and a -C callback run as shell code"},
}

func optionRuns(why string) cmdSpec {
	return cmdSpec{kind: cmdOptionRuns, why: "reads options among its arguments, and " + why}
}

var awkSpec = cmdSpec{kind: cmdInterp, valueOpts: []string{"-v", "-F", "--assign", "--field-separator"},
	dataOpts: []string{"-v", "--assign"},
	codeOpts: []string{"-f", "--file", "-e", "--source", "-i", "--include"},
	why:      "runs its program (the first operand, or -f/-e) as awk code, which can run commands"}

var pythonSpec = func() cmdSpec { s := interp("-c", "-m"); s.codeEndsOptions = true; return s }()

func interp(codeOpts ...string) cmdSpec {
	return cmdSpec{kind: cmdInterp, codeOpts: codeOpts, valueOpts: []string{"-W", "-X", "-I", "-r", "--require"},
		why: "runs its script (the first operand, or " + strings.Join(codeOpts, "/") + ") as code"}
}

// argClass is what a command does with one of its arguments.
type argClass struct {
	refused bool
	msg     string // why, when refused
}

var dataArg = argClass{}

func refuse(format string, a ...any) argClass {
	return argClass{refused: true, msg: fmt.Sprintf(format, a...)}
}

// classifyArg says what the command in args does with args[k]. words gives the literal text
// of a word, ok false when the word holds an expansion.
func classifyArg(args []*syntax.Word, k int) argClass {
	start := 0
	for {
		if k == start {
			return refuse("in command position: the value would choose the program that runs")
		}
		name, ok := literal(args[start])
		if !ok {
			return refuse("as an argument of a command that is not known when the runbook is loaded, so Alaya cannot tell whether it runs its arguments as code")
		}
		name = path.Base(name)
		spec, known := cmdSpecs[name]
		if !known {
			next, found := nestedRunner(args, start, k)
			if !found {
				return dataArg
			}
			start = next
			continue
		}
		switch spec.kind {
		case cmdCode:
			return refuse("as an argument of %s, which %s%s", name, spec.why, or(spec.hint, codeHint))
		case cmdNames:
			return refuse("as an argument of %s, which %s; use a fixed name", name, spec.why)
		case cmdFind:
			return findArg(args, start, k)
		case cmdOptionRuns:
			return optionArg(name, spec, args, start, k)
		case cmdInterp:
			c := spec.interpArg(name, args, start, k)
			if !c.refused && spec.permutes {
				return optionArg(name, spec, args, start, k)
			}
			return c
		}
		next, c := spec.wrapped(name, args, start, k)
		if next < 0 {
			return c
		}
		start = next
	}
}

// findArg refuses values in the commands find runs (-exec ... ;), and values that could
// become a primary (-delete): a value may follow a primary that takes one (-name {{ x }}) or
// start after fixed text (/var/log/{{ x }}).
func findArg(args []*syntax.Word, start, k int) argClass {
	in := ""
	for i := start + 1; i < k; i++ {
		w, _ := literal(args[i])
		switch {
		case in == "" && (w == "-exec" || w == "-execdir" || w == "-ok" || w == "-okdir"):
			in = w
		case in != "" && (w == ";" || w == "+"):
			in = ""
		}
	}
	if in != "" {
		return refuse("in the command of find %s, which runs it (and sh -c there runs code)%s", in, codeHint)
	}
	if prev, _ := literal(args[k-1]); findPrimaries[prev] || beginsFixed(args[k]) {
		return dataArg
	}
	return refuse("as an argument of find where it could become a primary such as -delete or -fprint; start the word with fixed text (./{{ value }}, /var/log/{{ value }}) or put it after -name or -path")
}

// findPrimaries take the next word as their argument.
var findPrimaries = map[string]bool{
	"-name": true, "-iname": true, "-path": true, "-ipath": true, "-wholename": true, "-iwholename": true,
	"-regex": true, "-iregex": true, "-lname": true, "-ilname": true, "-newer": true, "-anewer": true,
	"-cnewer": true, "-user": true, "-group": true, "-uid": true, "-gid": true, "-type": true, "-xtype": true,
	"-size": true, "-perm": true, "-mtime": true, "-mmin": true, "-atime": true, "-amin": true, "-ctime": true,
	"-cmin": true, "-maxdepth": true, "-mindepth": true, "-links": true, "-inum": true, "-samefile": true,
	"-used": true, "-fstype": true, "-context": true, "-printf": true,
}

// optionArg refuses a value that begins a word of a command reading options anywhere,
// unless "--" came before it.
func optionArg(name string, spec cmdSpec, args []*syntax.Word, start, k int) argClass {
	if beginsFixed(args[k]) {
		return dataArg
	}
	for i := start + 1; i < k; i++ {
		if w, _ := literal(args[i]); w == "--" {
			return dataArg
		}
	}
	return refuse("as an argument of %s, which %s; a value starting with - would be read as an option: write -- before it, or start the word with fixed text (./{{ value }})", name, spec.why)
}

// beginsFixed reports whether a word starts with literal text, so a value inside it cannot
// make it an option.
func beginsFixed(w *syntax.Word) bool {
	if len(w.Parts) == 0 {
		return false
	}
	switch p := w.Parts[0].(type) {
	case *syntax.Lit:
		return p.Value != ""
	case *syntax.SglQuoted:
		return p.Value != "" && !p.Dollar
	case *syntax.DblQuoted:
		if len(p.Parts) > 0 {
			l, ok := p.Parts[0].(*syntax.Lit)
			return ok && l.Value != ""
		}
	}
	return false
}

// nestedRunner finds, for a command Alaya does not know (docker exec, kubectl exec, ip netns
// exec), a later word naming a shell or interpreter followed by its code option, such as
// "sh -c": from there on the arguments are read by that program's rules.
func nestedRunner(args []*syntax.Word, start, k int) (int, bool) {
	for j := start + 1; j+1 < k; j++ {
		name, ok := literal(args[j])
		if !ok {
			continue
		}
		spec, known := cmdSpecs[path.Base(name)]
		if !known {
			continue
		}
		if spec.kind == cmdCode || spec.kind == cmdWrapper && len(spec.codeOpts) > 0 {
			return j, true
		}
		opt, _ := literal(args[j+1])
		if spec.kind == cmdInterp && (isShellC(opt) || spec.hasOpt(spec.codeOpts, opt)) {
			return j, true
		}
	}
	return 0, false
}

func isShellC(opt string) bool {
	return len(opt) > 1 && opt[0] == '-' && opt[1] != '-' && strings.ContainsRune(opt, 'c')
}

// wrapped walks a wrapper's options and operands. It returns the index of the wrapped
// command, or -1 and the class of args[k] when k falls among the wrapper's own words.
func (s cmdSpec) wrapped(name string, args []*syntax.Word, start, k int) (int, argClass) {
	own := refuse("as an argument of %s, which %s; a value among its own options could become an option that changes what runs: put the value after the command it runs", name, s.why)
	i, c, done := s.skipOptions(name, args, start+1, k, own)
	if done {
		return -1, c
	}
	for n := 0; n < s.operands && i < len(args); n, i = n+1, i+1 {
		if i == k {
			return -1, own
		}
	}
	if w, ok := literal(argAt(args, i)); ok && i < k && s.hasOpt(s.codeOpts, w) {
		return -1, refuse("as an argument of %s %s, which runs shell code%s", name, w, codeHint)
	}
	for ; s.envAssigns && i < len(args); i++ {
		w, ok := literal(args[i])
		if i == k || !ok {
			return -1, own
		}
		if !strings.Contains(w, "=") {
			break
		}
	}
	if i >= len(args) {
		return -1, own
	}
	return i, dataArg
}

// skipOptions walks a wrapper's options from args[i]; done is true when args[k] was among
// them, and then c is its class.
func (s cmdSpec) skipOptions(name string, args []*syntax.Word, i, k int, own argClass) (next int, c argClass, done bool) {
	for ; i < len(args); i++ {
		w, ok := literal(args[i])
		switch {
		case i == k || !ok:
			return i, own, true
		case w == "--":
			return i + 1, dataArg, false
		case !strings.HasPrefix(w, "-") || w == "-":
			return i, dataArg, false
		case s.hasOpt(s.codeOpts, w):
			return i, refuse("as an argument of %s %s, which runs shell code%s", name, w, codeHint), true
		case s.takesValue(w):
			if i+1 == k && !s.hasOpt(s.dataOpts, w) {
				return i, own, true
			}
			i++
		}
	}
	return i, dataArg, false
}

// interpArg classifies an argument of a shell or interpreter: options may not hold values,
// the code (the -c/-e value, or else the first operand) may not, later operands may: they are
// the script's arguments ($1, sys.argv), the safe way to hand a value to a script.
func (s cmdSpec) interpArg(name string, args []*syntax.Word, start, k int) argClass {
	codeRefusal := refuse("as an argument of %s, which %s%s", name, s.why, codeHint)
	codeGiven := false
	i := start + 1
	for ; i < len(args); i++ {
		w, ok := literal(args[i])
		if i == k {
			return s.inOptions(name, codeGiven, codeRefusal)
		}
		if !ok {
			return codeRefusal
		}
		if w == "--" {
			i++
			break
		}
		if !strings.HasPrefix(w, "-") && !strings.HasPrefix(w, "+") || w == "-" {
			break
		}
		switch {
		case s.hasOpt(s.codeOpts, w):
			codeGiven = true
			if s.takesNext(w) && i+1 == k {
				return codeRefusal
			}
			if s.takesNext(w) {
				i++
			}
		case s.takesValue(w):
			if i+1 == k {
				return s.optValue(name, w)
			}
			i++
		}
	}
	if k < i || (!codeGiven && k == i) {
		return codeRefusal
	}
	return dataArg
}

// inOptions classifies a value where an interpreter reads options: after python's -c code
// it is an argument; after sed's -e it could become another option; else it is the code.
func (s cmdSpec) inOptions(name string, codeGiven bool, codeRefusal argClass) argClass {
	switch {
	case codeGiven && s.codeEndsOptions:
		return dataArg
	case codeGiven:
		return refuse("as an argument of %s where it could become an option, and %s options can run code; write -- before it so that it can only be an operand", name, name)
	}
	return codeRefusal
}

// optValue classifies the value of an interpreter's option.
func (s cmdSpec) optValue(name, opt string) argClass {
	if s.hasOpt(s.dataOpts, opt) {
		return dataArg
	}
	return refuse("as the value of %s %s, which Alaya does not know to be data; pass the value as an argument after the script", name, opt)
}

// hasOpt reports whether word is one of opts, alone, with "=value", or with the value
// attached to a short option (-e'code', -oL).
func (s cmdSpec) hasOpt(opts []string, word string) bool {
	for _, o := range opts {
		if word == o || strings.HasPrefix(word, o+"=") || len(o) == 2 && o[1] != '-' && strings.HasPrefix(word, o) {
			return true
		}
	}
	return false
}

// takesValue reports whether the option word consumes the next word.
func (s cmdSpec) takesValue(word string) bool {
	for _, o := range s.valueOpts {
		if word == o {
			return true
		}
	}
	return false
}

// takesNext reports whether a code option consumes the next word as its value (python -c
// code) rather than carrying it (-e'code', --expression=code).
func (s cmdSpec) takesNext(word string) bool {
	for _, o := range s.codeOpts {
		if word == o {
			return true
		}
	}
	return false
}

// argAt is args[i], or an empty word past the end.
func argAt(args []*syntax.Word, i int) *syntax.Word {
	if i < len(args) {
		return args[i]
	}
	return &syntax.Word{}
}

// literal is the text of a word made only of literal text and quotes.
func literal(w *syntax.Word) (string, bool) {
	var b strings.Builder
	for _, p := range w.Parts {
		if !literalPart(&b, p) {
			return "", false
		}
	}
	return b.String(), true
}

func literalPart(b *strings.Builder, p syntax.WordPart) bool {
	switch p := p.(type) {
	case *syntax.Lit:
		b.WriteString(p.Value)
	case *syntax.SglQuoted:
		if p.Dollar {
			return false
		}
		b.WriteString(p.Value)
	case *syntax.DblQuoted:
		for _, q := range p.Parts {
			if !literalPart(b, q) {
				return false
			}
		}
	default:
		return false
	}
	return true
}
