package runbooks

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"time"
)

// SchemaID is where the committed schema lives in the repository.
const SchemaID = "https://github.com/alaya-sre/alaya/schema/runbook.schema.json"

// Schema returns the JSON Schema (draft 2020-12) of a runbook file, generated from the YAML
// types by reflection so it cannot drift from what the loader accepts. Editors with the YAML
// language server use it for completion and checking (`# yaml-language-server: $schema=...`).
// The schema checks shape only; rules, templates and references are checked by `alaya lint`.
func Schema() []byte {
	s := objectSchema(reflect.TypeFor[fileYAML]())
	s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	s["$id"] = SchemaID
	s["title"] = "Alaya runbook"
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		panic("runbooks: schema: " + err.Error()) // maps of strings and bools only
	}
	return buf.Bytes()
}

type schemaMap = map[string]any

func objectSchema(t reflect.Type) schemaMap {
	props := schemaMap{}
	var required, kinds []string
	for f := range t.Fields() {
		name := yamlName(f)
		if name == "" {
			continue
		}
		p := typeSchema(f.Type, f.Tag.Get("schema"))
		if doc := f.Tag.Get("doc"); doc != "" {
			p["description"] = doc
		}
		if enum := f.Tag.Get("enum"); enum != "" {
			p["enum"] = strings.Split(enum, ",")
		}
		props[name] = p
		if f.Tag.Get("required") == "true" {
			required = append(required, name)
		}
		if f.Tag.Get("kind") != "" {
			kinds = append(kinds, name)
		}
	}
	s := schemaMap{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	if len(kinds) > 0 {
		var one []schemaMap
		for _, k := range kinds {
			one = append(one, schemaMap{"required": []string{k}})
		}
		s["oneOf"] = one
	}
	return s
}

func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" || !f.IsExported() {
		return ""
	}
	return name
}

var durationType = reflect.TypeFor[time.Duration]()

func typeSchema(t reflect.Type, hint string) schemaMap {
	if t == durationType {
		return schemaMap{"type": "string", "pattern": `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`}
	}
	switch t.Kind() {
	case reflect.Pointer:
		s := typeSchema(t.Elem(), hint)
		if t.Elem().Kind() == reflect.Struct { // optional block: `gate:` alone is a gate with defaults
			s["type"] = []string{"object", "null"}
		}
		return s
	case reflect.String:
		return schemaMap{"type": "string"}
	case reflect.Bool:
		return schemaMap{"type": "boolean"}
	case reflect.Int:
		return schemaMap{"type": "integer"}
	case reflect.Slice:
		return schemaMap{"type": "array", "items": typeSchema(t.Elem(), "")}
	case reflect.Struct:
		return objectSchema(t)
	case reflect.Map:
		if hint == "params" {
			scalar := schemaMap{"type": []string{"string", "number", "boolean"}}
			return schemaMap{"type": "object", "propertyNames": schemaMap{"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
				"additionalProperties": schemaMap{"anyOf": []schemaMap{scalar, {"type": "array", "items": schemaMap{"type": "string"}}}}}
		}
		return schemaMap{"type": "object", "additionalProperties": typeSchema(t.Elem(), "")}
	}
	return schemaMap{}
}
