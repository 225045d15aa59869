package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// applyEnv overrides config values from ALAYA_* variables. The variable name is derived from
// the YAML path, so every key has one and the documentation cannot drift: nats.urls becomes
// ALAYA_NATS_URLS, pagerduty.from ALAYA_PAGERDUTY_FROM. Lists are comma-separated, maps
// comma-separated key=value pairs.
func applyEnv(c *Config, getenv func(string) string) error {
	if getenv == nil {
		return nil
	}
	return walkEnv(reflect.ValueOf(c).Elem(), "ALAYA", getenv)
}

func walkEnv(v reflect.Value, prefix string, getenv func(string) string) error {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" || !f.IsExported() {
			continue
		}
		name := prefix + "_" + strings.ToUpper(tag)
		fv := v.Field(i)
		if fv.Kind() == reflect.Struct {
			if err := walkEnv(fv, name, getenv); err != nil {
				return err
			}
			continue
		}
		if raw := getenv(name); raw != "" {
			if err := setFromString(fv, raw); err != nil {
				return fmt.Errorf("config: environment %s: %w", name, err)
			}
		}
	}
	return nil
}

var durationType = reflect.TypeOf(time.Duration(0))

func setFromString(v reflect.Value, raw string) error {
	switch {
	case v.Type() == durationType:
		d, err := time.ParseDuration(raw)
		if err != nil {
			return fmt.Errorf("expected a duration such as 30s or 5m, got %q", raw)
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		v.SetString(raw)
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("expected true or false, got %q", raw)
		}
		v.SetBool(b)
	case v.Kind() == reflect.Int:
		n, err := strconv.Atoi(raw)
		if err != nil {
			return fmt.Errorf("expected an integer, got %q", raw)
		}
		v.SetInt(int64(n))
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		parts := strings.Split(raw, ",")
		s := reflect.MakeSlice(v.Type(), 0, len(parts))
		for _, p := range parts {
			if p = strings.TrimSpace(p); p != "" {
				s = reflect.Append(s, reflect.ValueOf(p).Convert(v.Type().Elem()))
			}
		}
		v.Set(s)
	case v.Kind() == reflect.Map && v.Type().Key().Kind() == reflect.String && v.Type().Elem().Kind() == reflect.String:
		return setMap(v, raw)
	default:
		return fmt.Errorf("cannot be set from the environment")
	}
	return nil
}

// setMap reads "key=value,key=value" into a map of strings (slack.service_channels).
func setMap(v reflect.Value, raw string) error {
	m := reflect.MakeMap(v.Type())
	for _, p := range strings.Split(raw, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		k, val, ok := strings.Cut(p, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return fmt.Errorf("expected key=value pairs separated by commas, got %q", p)
		}
		m.SetMapIndex(reflect.ValueOf(strings.TrimSpace(k)).Convert(v.Type().Key()),
			reflect.ValueOf(strings.TrimSpace(val)).Convert(v.Type().Elem()))
	}
	v.Set(m)
	return nil
}

// EnvNames lists every environment variable Load honours, for documentation and `--help`.
func EnvNames() []string {
	var out []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if tag == "" || tag == "-" || !f.IsExported() {
				continue
			}
			name := prefix + "_" + strings.ToUpper(tag)
			if f.Type.Kind() == reflect.Struct && f.Type != durationType {
				walk(f.Type, name)
				continue
			}
			out = append(out, name)
		}
	}
	walk(reflect.TypeOf(Config{}), "ALAYA")
	return out
}

// envName is the environment variable for a dotted key: worker.inventory -> WORKER_INVENTORY
// (callers add the ALAYA_ prefix).
func envName(key string) string {
	return strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}
