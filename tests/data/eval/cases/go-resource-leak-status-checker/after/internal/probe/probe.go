// Package probe checks that the public endpoints of our services answer.
package probe

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Target is one endpoint to check.
type Target struct {
	Name     string
	URL      string
	Expected int
	// Contains, when set, must appear in the first 64 KiB of the body (forces a GET).
	Contains string
}

// Result is the outcome of probing one target.
type Result struct {
	Target  Target
	Status  int
	Latency time.Duration
	Err     error
}

// OK reports whether the target answered with the expected status.
func (r Result) OK() bool {
	return r.Err == nil && r.Status == r.Target.Expected
}

// Prober probes targets with a shared client.
type Prober struct {
	Client  *http.Client
	Timeout time.Duration
}

// New returns a prober with sane defaults.
func New() *Prober {
	return &Prober{
		Client:  &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		Timeout: 5 * time.Second,
	}
}

// Run probes every target in order.
func (p *Prober) Run(ctx context.Context, targets []Target) []Result {
	results := make([]Result, 0, len(targets))
	for _, t := range targets {
		results = append(results, p.probe(ctx, t))
	}
	return results
}

func (p *Prober) probe(ctx context.Context, t Target) Result {
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	method := http.MethodHead
	if t.Contains != "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, t.URL, nil)
	if err != nil {
		return Result{Target: t, Err: fmt.Errorf("build request: %w", err)}
	}
	start := time.Now()
	resp, err := p.Client.Do(req)
	if err != nil {
		return Result{Target: t, Latency: time.Since(start), Err: err}
	}
	result := Result{Target: t, Status: resp.StatusCode, Latency: time.Since(start)}
	if t.Contains == "" {
		resp.Body.Close()
		return result
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		result.Err = fmt.Errorf("read body: %w", err)
		return result
	}
	if !strings.Contains(string(body), t.Contains) {
		result.Err = fmt.Errorf("body does not contain %q", t.Contains)
	}
	return result
}
