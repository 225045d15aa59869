package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Reads that decide something must see the last write. nats.go creates every KeyValue bucket
// with AllowDirect, and a direct get is answered by any server that has the bucket's stream,
// a follower included: on a replicated bucket a follower a little behind answers with the
// value before the last write, or "not found" for a key just created. Run ledger records
// (who owns a run, whether a write landed), approvals (pending or decided), leases and
// switches are all read to decide. So the daemons' buckets answer Get from the stream's
// leader, with the stream's own message-get request, which only the leader serves; the
// compare-and-swap writes were always the leader's. Watches (the scans of approvals and runs)
// still read through a consumer that may sit on a follower: what they find is acted on only
// through a compare-and-swap or a leader read.

// leaderKV is a KeyValue whose Get the stream's leader answers.
type leaderKV struct {
	jetstream.KeyValue
	nc     *nats.Conn
	stream string // KV_<bucket>
	prefix string // $KV.<bucket>.
}

func leaderReads(kv jetstream.KeyValue, nc *nats.Conn) jetstream.KeyValue {
	b := kv.Bucket()
	return &leaderKV{KeyValue: kv, nc: nc, stream: "KV_" + b, prefix: "$KV." + b + "."}
}

// leaderGetTimeout bounds a read whose context has no deadline, like the client's own API calls.
const leaderGetTimeout = 5 * time.Second

// msgGetResponse is the answer to STREAM.MSG.GET.
type msgGetResponse struct {
	Error *struct {
		Code        int    `json:"code"`
		ErrCode     int    `json:"err_code"`
		Description string `json:"description"`
	} `json:"error,omitempty"`
	Message *struct {
		Sequence uint64    `json:"seq"`
		Header   []byte    `json:"hdrs,omitempty"`
		Data     []byte    `json:"data,omitempty"`
		Time     time.Time `json:"time"`
	} `json:"message,omitempty"`
}

// errCodeNoMessage is JetStream's error code for "no message found".
const errCodeNoMessage = 10037

// Get reads the key's last value from the stream's leader.
func (k *leaderKV) Get(ctx context.Context, key string) (jetstream.KeyValueEntry, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, leaderGetTimeout)
		defer cancel()
	}
	req, _ := json.Marshal(map[string]string{"last_by_subj": k.prefix + key})
	msg, err := k.nc.RequestWithContext(ctx, jetstream.DefaultAPIPrefix+"STREAM.MSG.GET."+k.stream, req)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	var resp msgGetResponse
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	switch {
	case resp.Error != nil && resp.Error.ErrCode == errCodeNoMessage:
		return nil, jetstream.ErrKeyNotFound
	case resp.Error != nil:
		return nil, fmt.Errorf("get %s: %s (%d)", key, resp.Error.Description, resp.Error.ErrCode)
	case resp.Message == nil:
		return nil, errors.New("get " + key + ": empty answer")
	}
	m := resp.Message
	if len(m.Header) > 0 {
		h, err := nats.DecodeHeadersMsg(m.Header)
		if err != nil {
			return nil, fmt.Errorf("get %s: %w", key, err)
		}
		if op := h.Get("KV-Operation"); op == "DEL" || op == "PURGE" {
			return nil, jetstream.ErrKeyNotFound
		}
	}
	return &entry{bucket: k.Bucket(), key: key, value: m.Data, rev: m.Sequence, created: m.Time}, nil
}

// entry is a KeyValueEntry read by leaderKV.
type entry struct {
	bucket, key string
	value       []byte
	rev         uint64
	created     time.Time
}

func (e *entry) Bucket() string                  { return e.bucket }
func (e *entry) Key() string                     { return e.key }
func (e *entry) Value() []byte                   { return e.value }
func (e *entry) Revision() uint64                { return e.rev }
func (e *entry) Created() time.Time              { return e.created }
func (e *entry) Delta() uint64                   { return 0 }
func (e *entry) Operation() jetstream.KeyValueOp { return jetstream.KeyValuePut }
