package page

import (
	"context"
	"errors"
	"net/http"

	"github.com/alaya-sre/alaya/approval"
)

// show renders the plan for a valid link. An invalid token and an unknown code look the same
// (404), so the page says nothing to someone guessing.
func (h *handler) show(w http.ResponseWriter, r *http.Request) {
	inc, code := r.PathValue("incident"), r.PathValue("code")
	if !validToken(h.cfg.Key, inc, code, r.URL.Query().Get("t")) {
		h.renderError(w, http.StatusNotFound, "This approval link is not valid.")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.Timeout)
	defer cancel()
	req, _, err := h.store.Get(ctx, inc, code)
	if err != nil {
		h.storeError(w, err)
		return
	}
	v := h.newView(req, h.identity(r))
	if v.Sent = sentMessage(r.URL.Query().Get("sent")); v.Sent != "" && v.Decide {
		// The worker has not taken it yet; a second click would only be deduplicated.
		v.Decide, v.NoDecide = false, "Your decision is on its way. Reload in a moment to see it recorded."
	}
	h.render(w, http.StatusOK, v)
}

func (h *handler) storeError(w http.ResponseWriter, err error) {
	if errors.Is(err, approval.ErrNotFound) {
		h.renderError(w, http.StatusNotFound, "This approval link is not valid.")
		return
	}
	h.cfg.Logger.Error("approval page: read approval", "err", err)
	h.renderError(w, http.StatusServiceUnavailable, "Approvals cannot be read right now. Try again in a moment.")
}

func sentMessage(verb string) string {
	switch verb {
	case approval.VerbApprove:
		return "Your approval was sent. Alaya checks it again and writes the decision on the incident."
	case approval.VerbReject:
		return "Your rejection was sent. Alaya writes it on the incident."
	}
	return ""
}
