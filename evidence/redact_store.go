package evidence

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"strings"
	"time"
)

// maxRedactedJSON bounds the JSON objects the redacting store decodes; manifests and
// action.json are kilobytes. A larger one is redacted as text.
const maxRedactedJSON = 16 << 20

// Store returns s with every text object redacted on its way in, whoever wrote it: text/*
// streams through Reader, and JSON (action.json, result.json, the manifest) has each string
// redacted and is written again, so a secret is caught in any field and in its unescaped
// form (encoding/json writes '<' as \u003c), and redaction cannot break the JSON. Other
// content types (heap dumps) are stored as they are; see the package comment.
func (r *Redactor) Store(s Store) Store { return &redactingStore{s: s, r: r} }

type redactingStore struct {
	s Store
	r *Redactor
}

func (rs *redactingStore) Put(ctx context.Context, key string, body io.Reader, opt PutOptions) (Object, error) {
	mediaType, _, _ := mime.ParseMediaType(opt.ContentType)
	switch {
	case mediaType == "application/json":
		data, err := io.ReadAll(io.LimitReader(body, maxRedactedJSON+1))
		if err != nil {
			return Object{}, err
		}
		if len(data) > maxRedactedJSON {
			opt.Size = -1
			return rs.s.Put(ctx, key, rs.reader(io.MultiReader(bytes.NewReader(data), body)), opt)
		}
		out, err := rs.r.JSON(data)
		if err != nil {
			out = []byte(rs.r.String(string(data)))
		}
		opt.Size = int64(len(out))
		return rs.s.Put(ctx, key, bytes.NewReader(out), opt)
	case strings.HasPrefix(mediaType, "text/"):
		opt.Size = -1 // redaction changes the length
		return rs.s.Put(ctx, key, rs.reader(body), opt)
	}
	return rs.s.Put(ctx, key, body, opt)
}

// reader redacts body unless it already is this redactor's stream (collected files are).
func (rs *redactingStore) reader(body io.Reader) io.Reader {
	if rr, ok := body.(*redactReader); ok && rr.r == rs.r {
		return body
	}
	return rs.r.Reader(body)
}

func (rs *redactingStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	return rs.s.Get(ctx, key)
}

func (rs *redactingStore) Link(ctx context.Context, key string, ttl time.Duration) (string, error) {
	return rs.s.Link(ctx, key, ttl)
}

// JSON returns data, a JSON text, with every string in it (keys too) redacted, indented as
// json.MarshalIndent(v, "", "  ") would. Numbers are kept as written.
func (r *Redactor) JSON(data []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var out bytes.Buffer
	var stack []jsonFrame
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			out.WriteByte(byte(d))
			continue
		}
		if n := len(stack); n > 0 {
			out.WriteString(stack[n-1].separator())
		}
		switch v := tok.(type) {
		case json.Delim:
			out.WriteByte(byte(v))
			stack = append(stack, jsonFrame{object: v == '{'})
		case string:
			b, _ := json.Marshal(r.String(v))
			out.Write(b)
		default:
			b, _ := json.Marshal(v)
			out.Write(b)
		}
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, out.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	return pretty.Bytes(), nil
}

// jsonFrame is an open object or array while JSON writes a document again.
type jsonFrame struct {
	object bool
	n      int // tokens written in it so far
}

// separator is what goes before the next token: nothing first, ':' after a key, ',' otherwise.
func (f *jsonFrame) separator() string {
	defer func() { f.n++ }()
	switch {
	case f.n == 0:
		return ""
	case f.object && f.n%2 == 1:
		return ":"
	}
	return ","
}
