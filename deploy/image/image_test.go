package image

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// The exact contents of the image: anything more (a shell, a package database) is a failure.
var wantFiles = []string{
	"etc/", "etc/group", "etc/passwd", "etc/ssl/", "etc/ssl/certs/", "etc/ssl/certs/ca-certificates.crt",
	"home/", "home/alaya/", "tmp/", "usr/", "usr/local/", "usr/local/bin/",
	"usr/local/bin/alaya", "usr/local/bin/alaya-receiver", "usr/local/bin/alaya-worker",
}

// TestImage builds the image the way CI ships it (static binaries, no daemon), twice, and
// inspects the result as an operator's runtime would see it.
func TestImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds three binaries")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	start := time.Now()
	bins, err := BuildBinaries(ctx, "../..", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("binaries built in %v", time.Since(start).Round(time.Millisecond))
	opts := Options{Binaries: bins, CABundle: "/etc/ssl/certs/ca-certificates.crt",
		Created: time.Unix(1764460800, 0).UTC(), Version: "v0.0.0-test", Revision: "test"}
	if _, err := os.Stat(opts.CABundle); err != nil {
		opts.CABundle = filepath.Join(t.TempDir(), "ca.pem")
		os.WriteFile(opts.CABundle, []byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"), 0o644)
	}
	dir := t.TempDir()
	img := readBack(t, dir, buildDigest(t, opts, dir))
	second := buildDigest(t, opts, t.TempDir())
	if d, _ := img.Digest(); d != second {
		t.Errorf("two builds of the same binaries differ: %s and %s", d, second)
	}
	checkConfig(t, img)
	files := layerFiles(t, img)
	if names := slices.Sorted(mapsKeys(files)); !slices.Equal(names, wantFiles) {
		t.Errorf("image files:\n%s\nwant exactly:\n%s", strings.Join(names, "\n"), strings.Join(wantFiles, "\n"))
	}
	checkBinaries(t, files)
}

func buildDigest(t *testing.T, opts Options, dir string) v1.Hash {
	t.Helper()
	img, err := Build(opts)
	if err != nil {
		t.Fatal(err)
	}
	d, err := WriteLayout(dir, img, "alaya:test")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// readBack opens the layout from disk, so the test inspects what was written, not the value
// in memory.
func readBack(t *testing.T, dir string, digest v1.Hash) v1.Image {
	t.Helper()
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	img, err := p.Image(digest)
	if err != nil {
		t.Fatalf("layout has no image %s: %v", digest, err)
	}
	return img
}

func checkConfig(t *testing.T, img v1.Image) {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if c.User == "" || c.User == "0" || strings.HasPrefix(c.User, "0:") || strings.HasPrefix(c.User, "root") {
		t.Errorf("image runs as %q, want a non-root user", c.User)
	}
	if len(c.Entrypoint) != 0 || !slices.Equal(c.Cmd, []string{"/usr/local/bin/alaya-receiver"}) {
		t.Errorf("entrypoint %q cmd %q, want no entrypoint and the receiver as the default command", c.Entrypoint, c.Cmd)
	}
	if !cf.Created.Equal(time.Unix(1764460800, 0)) || cf.OS != "linux" || cf.Architecture != runtime.GOARCH {
		t.Errorf("created %v os %q arch %q, want SOURCE_DATE_EPOCH on linux/%s", cf.Created, cf.OS, cf.Architecture, runtime.GOARCH)
	}
	if layers, _ := img.Layers(); len(layers) != 1 {
		t.Errorf("%d layers, want one on an empty base", len(layers))
	}
}

// layerFiles reads the image's only layer: name -> header and content.
func layerFiles(t *testing.T, img v1.Image) map[string]file {
	t.Helper()
	layers, err := img.Layers()
	if err != nil || len(layers) == 0 {
		t.Fatalf("layers: %v", err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	files := map[string]file{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = file{h: h, data: data}
	}
}

type file struct {
	h    *tar.Header
	data []byte
}

func mapsKeys(m map[string]file) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// checkBinaries: each binary is static (runs on an empty base), executable, and -version names
// the commit it was built from.
func checkBinaries(t *testing.T, files map[string]file) {
	t.Helper()
	// The toolchain stamps the commit in a clone; in a git worktree (.git is a file) it cannot.
	var commit []byte
	if fi, err := os.Stat("../../.git"); err == nil && fi.IsDir() {
		commit, _ = exec.Command("git", "-C", "../..", "rev-parse", "HEAD").Output()
	}
	for _, name := range Commands {
		f := files["usr/local/bin/"+name]
		if f.h == nil {
			continue // reported by the file list
		}
		if f.h.Mode&0o111 == 0 {
			t.Errorf("%s mode %o is not executable", name, f.h.Mode)
		}
		if e, err := elf.NewFile(bytes.NewReader(f.data)); err != nil {
			t.Errorf("%s: %v", name, err)
		} else if slices.ContainsFunc(e.Progs, func(p *elf.Prog) bool { return p.Type == elf.PT_INTERP }) {
			t.Errorf("%s is dynamically linked; the image has no libc", name)
		}
		bin := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(bin, f.data, 0o755); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "-version").Output()
		if err != nil {
			t.Errorf("%s -version: %v", name, err)
			continue
		}
		t.Logf("%s", bytes.TrimSpace(out))
		if !strings.HasPrefix(string(out), name+" ") {
			t.Errorf("%s -version = %q", name, out)
		}
		if c := strings.TrimSpace(string(commit)); c != "" && !strings.Contains(string(out), "commit "+c) {
			t.Errorf("%s -version = %q, want commit %s", name, out, c)
		}
	}
}
