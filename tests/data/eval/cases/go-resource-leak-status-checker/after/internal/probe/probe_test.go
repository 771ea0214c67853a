package probe

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestProbeContains(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"status":"ok","version":"1.42.0"}`))
	}))
	defer srv.Close()

	p := New()
	results := p.Run(context.Background(), []Target{
		{Name: "match", URL: srv.URL, Expected: 200, Contains: `"status":"ok"`},
		{Name: "mismatch", URL: srv.URL, Expected: 200, Contains: `"status":"degraded"`},
		{Name: "head", URL: srv.URL, Expected: 200},
	})
	if !results[0].OK() {
		t.Errorf("match: got %+v, want OK", results[0])
	}
	if results[1].OK() {
		t.Errorf("mismatch: got OK, want error")
	}
	if !results[2].OK() {
		t.Errorf("head: got %+v, want OK", results[2])
	}
}
