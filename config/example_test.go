package config

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/alaya-sre/alaya/internal/yamlfile"
)

const examplePath = "../deploy/config.example.yaml"

// commentedKey is a key the example documents without setting it ("  # token: ..."): secrets
// that belong in files, and switches whose default is the right choice. A prose comment line
// must therefore not start with a lower-case word and a colon ("# window: ...").
var commentedKey = regexp.MustCompile(`(?m)^(\s*)# (\s*[a-z0-9_]+:(?: .*)?)$`)

// TestExampleDocumentsEveryKey keeps deploy/config.example.yaml complete: every key of Config
// appears in it (set, or commented out), and it names no key Config does not have.
func TestExampleDocumentsEveryKey(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	uncommented := commentedKey.ReplaceAll(data, []byte("$1$2"))
	// Strict decode: the example, with every commented key switched on, is a valid config.
	var c Config
	if _, err := yamlfile.Decode(examplePath+" (commented keys included)", uncommented, &c); err != nil {
		t.Fatalf("%v", err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(uncommented, &root); err != nil {
		t.Fatal(err)
	}
	want := structKeys(reflect.TypeOf(Config{}), "")
	have := exampleKeys(root.Content[0], "", want)
	for _, k := range want {
		if !slices.Contains(have, k) {
			t.Errorf("%s does not document %s", examplePath, k)
		}
	}
	for _, k := range have {
		if !slices.Contains(want, k) {
			t.Errorf("%s documents %s, which is not a config key", examplePath, k)
		}
	}
}

// structKeys lists the dotted YAML path of every leaf of t (lists and scalars are leaves).
func structKeys(t reflect.Type, prefix string) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" || !f.IsExported() {
			continue
		}
		if f.Type.Kind() == reflect.Struct && f.Type != durationType {
			out = append(out, structKeys(f.Type, prefix+tag+".")...)
			continue
		}
		out = append(out, prefix+tag)
	}
	return out
}

// exampleKeys lists the dotted path of every leaf of a YAML mapping. A mapping at a path that
// is a leaf of Config (a map such as slack.service_channels) is one leaf.
func exampleKeys(n *yaml.Node, prefix string, leaves []string) []string {
	var out []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1]
		if v.Kind == yaml.MappingNode && !slices.Contains(leaves, prefix+k) {
			out = append(out, exampleKeys(v, prefix+k+".", leaves)...)
			continue
		}
		out = append(out, prefix+k)
	}
	return out
}
