package slackstandin

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// webAPI is the project's subset of Slack's Web API description (testdata/README.md).
//
//go:embed testdata/webapi.json
var webAPI []byte

type apiSpec struct {
	Methods map[string]methodSpec `json:"methods"`
}

type methodSpec struct {
	HTTPMethod       string      `json:"http_method"`
	Consumes         []string    `json:"consumes"`
	Scopes           []string    `json:"scopes"`
	Params           []paramSpec `json:"params"`
	ResponseRequired []string    `json:"response_required"`
	ErrorRequired    []string    `json:"error_required"`
}

type paramSpec struct {
	Name     string `json:"name"`
	In       string `json:"in"` // header (the token), query, formData
	Required bool   `json:"required"`
	Type     string `json:"type"` // string, boolean, integer
}

var spec = mustSpec()

func mustSpec() apiSpec {
	var a apiSpec
	if err := json.Unmarshal(webAPI, &a); err != nil {
		panic("slackstandin: testdata/webapi.json: " + err.Error())
	}
	return a
}

func (m methodSpec) param(name string) (paramSpec, bool) {
	i := slices.IndexFunc(m.Params, func(p paramSpec) bool { return p.Name == name })
	if i < 0 {
		return paramSpec{}, false
	}
	return m.Params[i], true
}

// jsonArrays are parameters the description types as string (a JSON-encoded array in a form
// post) that Slack's documentation lets a JSON body carry as the array itself: Block Kit
// arrived after the description was written.
var jsonArrays = map[string]bool{"blocks": true, "attachments": true}

// jsonObjects are string parameters that a JSON body may carry as the object itself:
// chat.postMessage's metadata (message metadata, newer than the description).
var jsonObjects = map[string]bool{"metadata": true}

// params reads the request's parameters as the description places them and checks each: known
// to the method, in the right place, of the right type; then that every required one is there.
// It returns the values (strings, bools, numbers, or raw JSON for arrays) or the problems.
func (m methodSpec) params(r *http.Request, body []byte) (map[string]any, []string) {
	got, problems := m.read(r, body)
	for name, v := range got {
		p, ok := m.param(name)
		switch {
		case name == "token":
			problems = append(problems, "token as a parameter: send it as Authorization: Bearer")
		case !ok:
			problems = append(problems, fmt.Sprintf("unknown parameter %q", name))
		case !typeOK(p, v):
			problems = append(problems, fmt.Sprintf("parameter %q: expected %s, got %T", name, p.Type, v))
		}
	}
	for _, p := range m.Params {
		// The token is the Authorization header's business (checkAuth).
		if _, ok := got[p.Name]; p.Required && p.Name != "token" && !ok {
			problems = append(problems, fmt.Sprintf("missing required parameter %q", p.Name))
		}
	}
	slices.Sort(problems)
	return got, problems
}

// read collects the parameters: a GET's from the query; a POST's from its form or JSON body
// (as the description's consumes allow), with nothing in the query.
func (m methodSpec) read(r *http.Request, body []byte) (map[string]any, []string) {
	if r.Method != m.HTTPMethod {
		return nil, []string{fmt.Sprintf("HTTP method %s, the description says %s", r.Method, m.HTTPMethod)}
	}
	if r.Method == http.MethodGet {
		if len(body) > 0 {
			return nil, []string{"GET with a body"}
		}
		return fromValues(r.URL.Query()), nil
	}
	if r.URL.RawQuery != "" {
		return nil, []string{"POST with a query string: parameters belong in the body"}
	}
	ct, ps, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if !slices.Contains(m.Consumes, ct) {
		return nil, []string{fmt.Sprintf("Content-Type %q, the description accepts %v", ct, m.Consumes)}
	}
	if ct == "application/x-www-form-urlencoded" {
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, []string{"form: " + err.Error()}
		}
		return fromValues(v), nil
	}
	if cs := ps["charset"]; !strings.EqualFold(cs, "utf-8") {
		// Slack warns (missing_charset) and may misread non-ASCII text without it.
		return nil, []string{"JSON body without charset=utf-8"}
	}
	var obj map[string]any
	d := json.NewDecoder(strings.NewReader(string(body)))
	d.UseNumber()
	if err := d.Decode(&obj); err != nil {
		return nil, []string{"JSON body: " + err.Error()}
	}
	return obj, nil
}

// fromValues turns form or query values into parameters; a repeated one is a problem Slack
// would resolve arbitrarily, so it is kept as a list and refused by typeOK.
func fromValues(v url.Values) map[string]any {
	out := map[string]any{}
	for k, vs := range v {
		if len(vs) == 1 {
			out[k] = formValue(vs[0])
		} else {
			out[k] = vs
		}
	}
	return out
}

// formValue marks a value as coming from a form (every value is text there).
type formValue string

// typeOK checks v against the description's type. Form values are text and must read as the
// type; JSON values must be of it, except the Block Kit arrays.
func typeOK(p paramSpec, v any) bool {
	switch v := v.(type) {
	case formValue:
		switch p.Type {
		case "boolean":
			_, err := strconv.ParseBool(string(v))
			return err == nil
		case "integer":
			_, err := strconv.Atoi(string(v))
			return err == nil
		case "number": // a Slack ts, "1700000000.000100"
			_, err := strconv.ParseFloat(string(v), 64)
			return err == nil
		}
		return p.Type == "string"
	case string:
		return p.Type == "string"
	case bool:
		return p.Type == "boolean"
	case json.Number:
		_, err := v.Int64()
		return p.Type == "integer" && err == nil
	case []any:
		return p.Type == "string" && jsonArrays[p.Name]
	case map[string]any:
		return p.Type == "string" && jsonObjects[p.Name]
	}
	return false
}

// str reads a string parameter, from a form or JSON.
func str(params map[string]any, name string) string {
	switch v := params[name].(type) {
	case formValue:
		return string(v)
	case string:
		return v
	}
	return ""
}

// blocksOf reads the blocks parameter as JSON: the array itself, or the JSON text of it.
func blocksOf(params map[string]any) (json.RawMessage, error) {
	switch v := params["blocks"].(type) {
	case nil:
		return nil, nil
	case []any:
		return json.Marshal(v)
	case formValue:
		return json.RawMessage(v), nil
	case string:
		return json.RawMessage(v), nil
	}
	return nil, fmt.Errorf("blocks of type %T", params["blocks"])
}
