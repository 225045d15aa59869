// Package image builds Alaya's container image without a container daemon: the three static
// binaries, a CA bundle and a passwd entry for a non-root user, as one layer on an empty base,
// written as an OCI image layout. Every timestamp is fixed (SOURCE_DATE_EPOCH), so the same
// binaries give the same digest on any machine; CI builds it and inspects what it built. The
// Dockerfile next to the repository root builds the equivalent image with a daemon.
package image

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"runtime"
	"sort"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The image's fixed facts, shared with the Dockerfile and the Helm chart.
const (
	UID      = 65532 // the distroless "nonroot" user, so both images run as the same id
	BinDir   = "/usr/local/bin"
	CAPath   = "/etc/ssl/certs/ca-certificates.crt"
	Receiver = "alaya-receiver"
	Worker   = "alaya-worker"
	CLI      = "alaya"
)

// Commands are the binaries the image holds, by file name.
var Commands = []string{Receiver, Worker, CLI}

// Options is what goes into the image.
type Options struct {
	Binaries map[string]string // file name in BinDir -> path of the static binary on disk
	CABundle string            // path of a PEM bundle, usually /etc/ssl/certs/ca-certificates.crt
	Created  time.Time         // every timestamp in the image; from SOURCE_DATE_EPOCH
	Version  string            // org.opencontainers.image.version
	Revision string            // org.opencontainers.image.revision (the commit)
}

// Build assembles the image in memory.
func Build(opts Options) (v1.Image, error) {
	layerTar, err := rootfs(opts)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("image: layer: %w", err)
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{Layer: layer, History: v1.History{
		Created: v1.Time{Time: opts.Created}, CreatedBy: "alaya deploy/image", Comment: "static binaries, CA bundle, non-root user",
	}})
	if err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("image: config: %w", err)
	}
	cf = cf.DeepCopy()
	// The binaries are built for the machine building the image (BuildBinaries).
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	cf.Config = runConfig(opts)
	// Not mutate.Canonical: it would reset the creation time the labels and history carry.
	cf.Created = v1.Time{Time: opts.Created}
	return mutate.ConfigFile(img, cf)
}

// runConfig: no entrypoint, so `command: [alaya-worker]` in a pod spec (or `docker run IMAGE
// alaya-worker`) picks the process; the receiver is the default.
func runConfig(opts Options) v1.Config {
	return v1.Config{
		User:       fmt.Sprintf("%d:%d", UID, UID),
		Cmd:        []string{path.Join(BinDir, Receiver)},
		Env:        []string{"PATH=" + BinDir, "SSL_CERT_FILE=" + CAPath},
		WorkingDir: "/",
		ExposedPorts: map[string]struct{}{
			"8080/tcp": {}, // receiver.listen (webhooks)
			"9090/tcp": {}, // worker.listen (health, metrics)
		},
		Labels: map[string]string{
			"org.opencontainers.image.title":    "alaya",
			"org.opencontainers.image.source":   "https://github.com/alaya-sre/alaya",
			"org.opencontainers.image.version":  opts.Version,
			"org.opencontainers.image.revision": opts.Revision,
			"org.opencontainers.image.created":  opts.Created.UTC().Format(time.RFC3339),
		},
	}
}

// WriteLayout writes img as an OCI image layout in dir (created if needed), tagged ref.
func WriteLayout(dir string, img v1.Image, ref string) (v1.Hash, error) {
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("image: layout: %w", err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": ref,
	})); err != nil {
		return v1.Hash{}, fmt.Errorf("image: layout: %w", err)
	}
	return img.Digest()
}

// entry is one file or directory of the root filesystem.
type entry struct {
	name string
	mode int64
	dir  bool
	data []byte
}

// rootfs is the layer's tar: the exact list of what the image contains.
func rootfs(opts Options) ([]byte, error) {
	ca, err := os.ReadFile(opts.CABundle)
	if err != nil {
		return nil, fmt.Errorf("image: CA bundle: %w", err)
	}
	entries := []entry{
		{name: "etc/", mode: 0o755, dir: true},
		{name: "etc/passwd", mode: 0o644, data: []byte(fmt.Sprintf(
			"root:x:0:0:root:/root:/sbin/nologin\nalaya:x:%d:%d:alaya:/home/alaya:/sbin/nologin\n", UID, UID))},
		{name: "etc/group", mode: 0o644, data: []byte(fmt.Sprintf("root:x:0:\nalaya:x:%d:\n", UID))},
		{name: "etc/ssl/", mode: 0o755, dir: true},
		{name: "etc/ssl/certs/", mode: 0o755, dir: true},
		{name: CAPath[1:], mode: 0o644, data: ca},
		{name: "home/", mode: 0o755, dir: true},
		{name: "home/alaya/", mode: 0o700, dir: true},
		{name: "tmp/", mode: 0o1777, dir: true},
		{name: "usr/", mode: 0o755, dir: true},
		{name: "usr/local/", mode: 0o755, dir: true},
		{name: BinDir[1:] + "/", mode: 0o755, dir: true},
	}
	for _, name := range Commands {
		src, ok := opts.Binaries[name]
		if !ok {
			return nil, fmt.Errorf("image: no binary for %s", name)
		}
		data, err := os.ReadFile(src)
		if err != nil {
			return nil, fmt.Errorf("image: %w", err)
		}
		entries = append(entries, entry{name: path.Join(BinDir[1:], name), mode: 0o755, data: data})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	return writeTar(entries, opts.Created)
}

func writeTar(entries []entry, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, ModTime: mtime, Format: tar.FormatPAX, Typeflag: tar.TypeReg, Size: int64(len(e.data))}
		if e.dir {
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if e.name == "home/alaya/" {
			h.Uid, h.Gid = UID, UID
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("image: tar %s: %w", e.name, err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, fmt.Errorf("image: tar %s: %w", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("image: tar: %w", err)
	}
	return buf.Bytes(), nil
}
