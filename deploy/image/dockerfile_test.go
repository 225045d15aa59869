package image

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDockerfileMatchesTheImage keeps the daemon build (Dockerfile) and the daemonless build
// (this package, which CI runs) from drifting apart: same Go toolchain as go.mod, same user,
// same binaries, same default command.
func TestDockerfileMatchesTheImage(t *testing.T) {
	df, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(mod)
	if goVersion == nil {
		t.Fatal("go.mod has no go directive")
	}
	text := string(df)
	for _, want := range []string{
		"FROM golang:" + string(goVersion[1]) + "-",
		"CGO_ENABLED=0 go build -trimpath",
		"./cmd/receiver ./cmd/worker ./cmd/alaya",
		"USER 65532:65532",
		`CMD ["/usr/local/bin/alaya-receiver"]`,
		"FROM gcr.io/distroless/static",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("Dockerfile does not contain %q", want)
		}
	}
	for _, name := range Commands {
		if !strings.Contains(text, "/out/"+name) {
			t.Errorf("Dockerfile does not copy %s", name)
		}
	}
}
