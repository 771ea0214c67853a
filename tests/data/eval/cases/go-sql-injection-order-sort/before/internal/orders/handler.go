package orders

import (
	"encoding/json"
	"net/http"
	"strconv"

	"example.com/shop/internal/auth"
)

// Handler serves GET /api/orders for the signed-in customer.
type Handler struct {
	Store *Store
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	customer, ok := auth.CustomerFrom(r.Context())
	if !ok {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	offset, _ := strconv.Atoi(q.Get("offset"))

	orders, err := h.Store.List(r.Context(), customer.ID, ListOptions{Limit: limit, Offset: offset})
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(orders)
}
