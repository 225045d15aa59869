// Package version says which build of Alaya is running. Operators ask it first when something
// behaves oddly ("which commit is on the workers?"), so every binary answers -version from the
// build information the Go toolchain records: the module version and the VCS commit that
// `go build` stamps in a git checkout. No -ldflags are needed; an image build that has no .git
// directory can still name the commit through Commit and Version below.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version and Commit may be set with -ldflags "-X" by a build that has no VCS information
// (for example a container build whose context leaves out .git). They win over the build info.
var (
	Version = ""
	Commit  = ""
)

// Info is what a binary knows about its own build.
type Info struct {
	Version  string // module version: a tag, a pseudo-version, or "(devel)"
	Commit   string // full VCS revision, "" when unknown
	Time     string // commit time (RFC 3339), "" when unknown
	Modified bool   // the working tree had uncommitted changes
	Go       string // toolchain version
}

// Get reads the running binary's build information.
func Get() Info {
	info := Info{Version: "(devel)", Go: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		info = fromBuildInfo(bi)
	}
	if Version != "" {
		info.Version = Version
	}
	if Commit != "" {
		info.Commit = Commit
	}
	return info
}

func fromBuildInfo(bi *debug.BuildInfo) Info {
	info := Info{Version: bi.Main.Version, Go: bi.GoVersion}
	if info.Version == "" {
		info.Version = "(devel)"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Commit = s.Value
		case "vcs.time":
			info.Time = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
}

// String is the line -version prints, for example
// "alaya-worker v0.3.1 commit 1b0eca2f… (2026-11-30T10:00:00Z) go1.26.8".
func (i Info) String() string {
	commit := i.Commit
	if commit == "" {
		commit = "unknown"
	}
	s := fmt.Sprintf("%s commit %s", i.Version, commit)
	if i.Time != "" {
		s += " (" + i.Time + ")"
	}
	if i.Modified {
		s += " modified"
	}
	return s + " " + i.Go
}

// Line is the -version output of the binary called name.
func Line(name string) string { return name + " " + Get().String() }
