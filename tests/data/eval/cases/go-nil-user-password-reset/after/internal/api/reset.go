package api

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"example.com/accounts/internal/store"
)

type resetRequest struct {
	Email string `json:"email"`
}

// ResetHandler starts a password reset. It always answers 202 so that it cannot be used to
// find out which emails have accounts.
type ResetHandler struct {
	Users  *store.Users
	Tokens TokenIssuer
	Mail   Mailer
	Log    *slog.Logger
}

func (h *ResetHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req resetRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10)).Decode(&req); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	user, err := h.Users.ByEmail(r.Context(), req.Email)
	if err != nil {
		h.Log.Error("reset: lookup", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if user.DisabledAt != nil {
		// Locked accounts must go through support; answer as if it worked.
		h.Log.Info("reset: account disabled", "user", user.ID)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	token, err := h.Tokens.Issue(r.Context(), user.ID)
	if err != nil {
		h.Log.Error("reset: issue token", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if err := h.Mail.SendReset(r.Context(), user.Email, user.Name, token); err != nil {
		h.Log.Error("reset: send mail", "err", err, "user", user.ID)
	}
	w.WriteHeader(http.StatusAccepted)
}
