package page

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/alaya-sre/alaya/approval"
	"github.com/alaya-sre/alaya/incident"
)

// maxFormBytes caps a decision form; it holds a few short fields.
const maxFormBytes = 8 << 10

// maxReasonChars keeps a rejection reason to one readable line in the note.
const maxReasonChars = 300

// submit takes a decision from a trusted identity, checks it with the same policy as a note
// and publishes it as that note. It answers with a redirect to the page (so a reload does not
// post again) or with the page and the refusal.
func (h *handler) submit(w http.ResponseWriter, r *http.Request) {
	inc, code := r.PathValue("incident"), r.PathValue("code")
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil || !validToken(h.cfg.Key, inc, code, r.PostForm.Get("t")) {
		h.renderError(w, http.StatusNotFound, "This approval link is not valid.")
		return
	}
	identity := h.identity(r)
	if !h.canDecide() || identity == "" {
		h.renderError(w, http.StatusForbidden, "This page cannot tell who you are, so it cannot take a decision: post the note on the incident.")
		return
	}
	if !validFormToken(h.cfg.Key, r.PostForm.Get("csrf"), identity, inc, code, h.cfg.Now()) {
		h.renderError(w, http.StatusForbidden, "This form is stale or was not shown to you. Reload the page and try again.")
		return
	}
	verb := r.PostForm.Get("verb")
	if verb != approval.VerbApprove && verb != approval.VerbReject {
		h.renderError(w, http.StatusBadRequest, "Choose Approve or Reject.")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.Timeout)
	defer cancel()
	req, _, err := h.store.Get(ctx, inc, code)
	if err != nil {
		h.storeError(w, err)
		return
	}
	h.decide(ctx, w, r, req, identity, verb)
}

// decide runs the policy for identity and publishes the decision, or shows why not.
func (h *handler) decide(ctx context.Context, w http.ResponseWriter, r *http.Request, req *approval.Request, identity, verb string) {
	if r.PostForm.Get("hash") != req.PlanHash {
		h.refuse(w, req, identity, errors.New("the plan changed since this page was loaded; reload to see the new plan"), http.StatusConflict)
		return
	}
	user, err := h.policy.Dir.UserByEmail(ctx, identity)
	if err != nil {
		h.cfg.Logger.Warn("approval page: identity is not a known user", "err", err)
		h.refuse(w, req, identity, errors.New(identity+" is not a PagerDuty user Alaya can find"), http.StatusForbidden)
		return
	}
	if err := h.precheck(ctx, req, user.Ref()); err != nil {
		h.refusal(w, req, identity, err)
		return
	}
	ev := decisionEvent(h.cfg.Key, req, user.Ref(), verb, reason(r.PostForm.Get("reason")), r.PostForm.Get("csrf"), h.cfg.Now())
	if _, _, err := h.cfg.Publisher.Publish(ctx, ev); err != nil {
		h.cfg.Logger.Error("approval page: publish decision", "err", err)
		h.refuse(w, req, identity, errors.New("the decision could not be queued; nothing was done, try again"), http.StatusServiceUnavailable)
		return
	}
	q := url.Values{"t": {Token(h.cfg.Key, req.Incident, req.Code)}, "sent": {verb}}
	http.Redirect(w, r, path(req.Incident, req.Code)+"?"+q.Encode(), http.StatusSeeOther)
}

// precheck runs the note's policy now, so the person sees a refusal on the page rather than
// only on the incident. The worker checks again when it takes the event: the plan hash there
// is recomputed from the run, here it is the stored one (the form already pinned it).
func (h *handler) precheck(ctx context.Context, req *approval.Request, author incident.Ref) error {
	if h.cfg.Incidents == nil {
		return nil
	}
	inc, err := h.cfg.Incidents.Incident(ctx, req.Incident)
	if err != nil {
		return err
	}
	now, err := h.store.Now(ctx) // the server's time, as the worker will compare it
	if err != nil {
		return err
	}
	return h.policy.Check(ctx, req, author, inc, req.PlanHash, now)
}

// refusal shows a policy refusal, or a lookup failure as "try again".
func (h *handler) refusal(w http.ResponseWriter, req *approval.Request, identity string, err error) {
	var ref *approval.Refusal
	if !errors.As(err, &ref) {
		h.cfg.Logger.Error("approval page: check decision", "err", err)
		h.refuse(w, req, identity, errors.New("Alaya could not check your decision right now; nothing was done, try again"), http.StatusServiceUnavailable)
		return
	}
	status := http.StatusConflict
	if errors.Is(err, approval.ErrNotAllowed) || errors.Is(err, approval.ErrSelf) {
		status = http.StatusForbidden
	}
	h.refuse(w, req, identity, errors.New("Not accepted: "+ref.Detail), status)
}

func (h *handler) refuse(w http.ResponseWriter, req *approval.Request, identity string, err error, status int) {
	v := h.newView(req, identity)
	v.Error = err.Error()
	h.render(w, status, v)
}

// reason flattens the free text to one bounded line, so it cannot add a command line of its
// own to the note.
func reason(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > maxReasonChars {
		s = string(r[:maxReasonChars])
	}
	return s
}
