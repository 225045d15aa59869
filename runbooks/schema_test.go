package runbooks

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"slices"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the committed schema and golden files")

const committedSchema = "../schema/runbook.schema.json"

// TestSchemaCommitted keeps schema/runbook.schema.json equal to what `alaya schema` prints.
// Run `go test ./runbooks -run Schema -update` after changing the YAML types.
func TestSchemaCommitted(t *testing.T) {
	if *update {
		if err := os.WriteFile(committedSchema, Schema(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(committedSchema)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, Schema()) {
		t.Error("schema/runbook.schema.json is stale: run go test ./runbooks -run Schema -update")
	}
}

// TestSchemaMatchesTypes walks the YAML types and the schema side by side: every key the
// loader accepts is in the schema and the schema has no key the loader would reject.
func TestSchemaMatchesTypes(t *testing.T) {
	var s map[string]any
	if err := json.Unmarshal(Schema(), &s); err != nil {
		t.Fatal(err)
	}
	compareKeys(t, "", reflect.TypeFor[fileYAML](), s)
}

func compareKeys(t *testing.T, path string, typ reflect.Type, s map[string]any) {
	for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
		typ = typ.Elem()
		if items, ok := s["items"].(map[string]any); ok {
			s = items
		}
	}
	if typ.Kind() != reflect.Struct {
		return
	}
	props, _ := s["properties"].(map[string]any)
	var fromType []string
	for f := range typ.Fields() {
		name := yamlName(f)
		if name == "" {
			continue
		}
		fromType = append(fromType, name)
		sub, ok := props[name].(map[string]any)
		if !ok {
			t.Errorf("%s%s: in the Go types, not in the schema", path, name)
			continue
		}
		compareKeys(t, path+name+".", f.Type, sub)
	}
	for name := range props {
		if !slices.Contains(fromType, name) {
			t.Errorf("%s%s: in the schema, not in the Go types", path, name)
		}
	}
	if s["additionalProperties"] != false {
		t.Errorf("%s: schema allows unknown keys, the loader does not", path)
	}
}

// TestSchemaRequired checks that the schema requires exactly the keys the loader requires
// (name, owner, match, targets, steps).
func TestSchemaRequired(t *testing.T) {
	var s struct {
		Required []string `json:"required"`
	}
	_ = json.Unmarshal(Schema(), &s)
	if !slices.Equal(s.Required, []string{"name", "owner", "match", "targets", "steps"}) {
		t.Errorf("required = %v", s.Required)
	}
}
