package sources

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/alaya-sre/alaya/internal/yamlfile"
)

// Options say how to load sources.
type Options struct {
	// Getenv reads the environment for secret_env; nil: os.Getenv.
	Getenv func(string) string
	// Secrets: read and check every source's secrets (the receiver). Without it, where the
	// secrets live is checked but they are not read (lint, plan, test run anywhere).
	Secrets bool
}

var nameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// LoadDir loads every *.yaml and *.yml file directly in dir, one source a file. All problems
// of all files are reported at once, one "file:line:col: message" a line (a yamlfile.List
// joined with errors.Join).
func LoadDir(dir string, opt Options) (*Set, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("sources: %w", err)
	}
	var errs yamlfile.List
	set := &Set{byName: map[string]*Source{}}
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		file := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(file)
		if err != nil {
			errs.Add(yamlfile.Pos{File: file}, "cannot read: %v", errors.Unwrap(err))
			continue
		}
		s, ferrs := parse(file, data, opt)
		errs = append(errs, ferrs...)
		if s == nil {
			continue
		}
		if first, ok := set.byName[s.Name]; ok {
			errs.Add(s.Pos, "duplicate source name %q (also in %s)", s.Name, first.Pos)
			continue
		}
		set.byName[s.Name] = s
	}
	return set, errs.Err()
}

// Parse checks one source held in memory; file names it in errors (fuzzing, tests).
func Parse(file string, data []byte, opt Options) (*Source, error) {
	s, errs := parse(file, data, opt)
	return s, errs.Err()
}

func parse(file string, data []byte, opt Options) (*Source, yamlfile.List) {
	var raw fileYAML
	doc, err := yamlfile.Decode(file, data, &raw)
	if doc == nil || doc.Root == nil {
		return nil, yamlfile.AsList(file, err)
	}
	var errs yamlfile.List
	if err != nil {
		errs = yamlfile.AsList(file, err)
	}
	s := &Source{Name: raw.Name, Description: strings.TrimSpace(raw.Description), File: file, Pos: doc.Pos("")}
	errs = append(errs, checkName(doc, raw.Name)...)
	auth, aerrs := loadAuth(doc, filepath.Dir(file), raw.Auth, opt)
	errs = append(errs, aerrs...)
	m, merrs := compileMapping(doc, strings.Split(string(data), "\n"), &raw.Mapping)
	errs = append(errs, merrs...)
	if len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b *yamlfile.Error) int {
			return cmp.Or(cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col))
		})
		return nil, errs
	}
	s.kind, s.mapping = auth.Kind, m
	if opt.Secrets {
		s.Auth = auth
	}
	return s, nil
}

func checkName(doc *yamlfile.Doc, name string) yamlfile.List {
	var errs yamlfile.List
	switch {
	case name == "":
		errs.Add(doc.Pos(""), "missing name: every source needs a unique name, used in its path %sNAME", PathPrefix)
	case !nameRe.MatchString(name):
		errs.Add(doc.Pos("name"), "name %q: expected lower case letters, digits, - and _ (at most 63)", name)
	case slices.Contains(reserved, name):
		errs.Add(doc.Pos("name"), "name %q is reserved for Alaya's own sources", name)
	}
	return errs
}

// loadAuth checks that exactly one way to authenticate is set and, with opt.Secrets, reads
// its secrets.
func loadAuth(doc *yamlfile.Doc, dir string, raw authYAML, opt Options) (*Auth, yamlfile.List) {
	var errs yamlfile.List
	var set []string
	if raw.HMAC != nil {
		set = append(set, AuthHMAC)
	}
	if raw.Bearer != nil {
		set = append(set, AuthBearer)
	}
	if raw.PathToken != nil {
		set = append(set, AuthPathToken)
	}
	if len(set) != 1 {
		errs.Add(doc.Pos("auth"), "auth: set exactly one of hmac, bearer and path_token (found %d)", len(set))
		return &Auth{}, errs
	}
	a := &Auth{Kind: set[0]}
	var sec secretYAML
	switch a.Kind {
	case AuthHMAC:
		sec = secretYAML{SecretEnv: raw.HMAC.SecretEnv, SecretFile: raw.HMAC.SecretFile}
		errs = append(errs, a.hmac(doc, raw.HMAC)...)
	case AuthBearer:
		sec = *raw.Bearer
	case AuthPathToken:
		sec = *raw.PathToken
	}
	path := "auth." + a.Kind
	if sec.SecretEnv == "" && sec.SecretFile == "" {
		errs.Add(doc.Pos(path), "%s: missing secret_env or secret_file: where the secret is (never in this file)", path)
		return a, errs
	}
	if !opt.Secrets {
		return a, errs
	}
	getenv := opt.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	secrets, err := readSecrets(sec.SecretEnv, sec.SecretFile, dir, getenv)
	if err != nil {
		errs.Add(doc.Pos(path), "%s: %v", path, err)
	}
	a.secrets = secrets
	return a, errs
}

func (a *Auth) hmac(doc *yamlfile.Doc, h *hmacYAML) yamlfile.List {
	var errs yamlfile.List
	if a.header = h.Header; a.header == "" {
		errs.Add(doc.Pos("auth.hmac"), "auth.hmac: missing header: the request header carrying the signature")
	}
	if a.hash = hashes[cmp.Or(h.Hash, "sha256")]; a.hash == nil {
		errs.Add(doc.Pos("auth.hmac.hash"), "auth.hmac.hash: %q, want sha256, sha1 or sha512", h.Hash)
	}
	switch a.encoding = cmp.Or(h.Encoding, "hex"); a.encoding {
	case "hex", "base64":
	default:
		errs.Add(doc.Pos("auth.hmac.encoding"), "auth.hmac.encoding: %q, want hex or base64", h.Encoding)
	}
	a.prefix = h.Prefix
	a.tsHeader, a.maxAge, a.now = h.TimestampHeader, cmp.Or(h.MaxAge, DefaultMaxAge), time.Now
	if h.MaxAge < 0 {
		errs.Add(doc.Pos("auth.hmac.max_age"), "auth.hmac.max_age: must be positive")
	}
	return errs
}
