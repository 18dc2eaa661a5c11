// Package httpapi is the HTTP plumbing the remote model providers share:
// JSON POSTs with a per-attempt timeout, bounded retries of 429 and 5xx
// answers with exponential backoff that honors Retry-After, errors that
// carry the HTTP status and the provider's own message, and the mapping of
// tool names onto the character set the provider APIs accept.
package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// Defaults for Client fields left zero.
const (
	DefaultMaxAttempts   = 4
	DefaultBaseDelay     = 500 * time.Millisecond
	DefaultMaxDelay      = 20 * time.Second
	DefaultMaxRetryAfter = 60 * time.Second
	DefaultTimeout       = 120 * time.Second
	maxResponseBytes     = 32 << 20
)

// Client posts JSON requests to one provider.
type Client struct {
	Provider      string        // "openai", "anthropic": the prefix of every error
	HTTP          *http.Client  // nil means a client with no overall timeout (attempts have their own)
	MaxAttempts   int           // tries per request, including the first
	BaseDelay     time.Duration // backoff before the 2nd attempt; doubles each time
	MaxDelay      time.Duration // cap of the computed backoff
	MaxRetryAfter time.Duration // a longer Retry-After is not waited for: the error is returned
	Timeout       time.Duration // per attempt, until the whole response body is read
	Logger        *slog.Logger  // retries are logged at Warn; nil means slog.Default()
	// ParseError extracts the provider's error type and message from an
	// error response body; it may return "" for both.
	ParseError func(body []byte) (typ, msg string)
}

// HTTPError is a provider's non-2xx answer.
type HTTPError struct {
	Provider  string
	Status    int
	Type      string // the provider's error type or code, if it sent one
	Message   string // the provider's message, or the start of the body
	RequestID string
	Attempts  int
}

// Error formats the error as
// "openai: HTTP 429 Too Many Requests: rate_limit_exceeded: slow down (after 4 attempts)".
func (e *HTTPError) Error() string {
	s := fmt.Sprintf("%s: HTTP %d", e.Provider, e.Status)
	if text := http.StatusText(e.Status); text != "" {
		s += " " + text
	}
	if e.Type != "" {
		s += ": " + e.Type
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.RequestID != "" {
		s += " (request id " + e.RequestID + ")"
	}
	if e.Attempts > 1 {
		s += fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	return s
}

// Retryable reports whether the status is worth another attempt.
func Retryable(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}

// PostJSON sends body as JSON to url and decodes a 2xx answer into out.
func (c *Client) PostJSON(ctx context.Context, url string, header http.Header, body, out any) error {
	payload, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("%s: encode request: %w", c.Provider, err)
	}
	attempts := c.MaxAttempts
	if attempts <= 0 {
		attempts = DefaultMaxAttempts
	}
	for attempt := 1; ; attempt++ {
		status, respHeader, respBody, err := c.once(ctx, url, header, payload)
		if err != nil {
			var ne netError
			if attempt < attempts && errors.As(err, &ne) && ctx.Err() == nil {
				if werr := c.wait(ctx, attempt, c.backoff(attempt), 0, err); werr != nil {
					return werr
				}
				continue
			}
			return err
		}
		if status/100 == 2 {
			if err := json.Unmarshal(respBody, out); err != nil {
				return fmt.Errorf("%s: decode response: %w (body starts %q)", c.Provider, err, start(respBody))
			}
			return nil
		}
		herr := &HTTPError{Provider: c.Provider, Status: status, Attempts: attempt, RequestID: requestID(respHeader)}
		if c.ParseError != nil {
			herr.Type, herr.Message = c.ParseError(respBody)
		}
		if herr.Message == "" {
			herr.Message = start(respBody)
		}
		if !Retryable(status) || attempt >= attempts {
			return herr
		}
		delay := c.backoff(attempt)
		if ra, ok := RetryAfter(respHeader.Get("Retry-After"), time.Now()); ok {
			maxRA := c.MaxRetryAfter
			if maxRA <= 0 {
				maxRA = DefaultMaxRetryAfter
			}
			if ra > maxRA {
				herr.Message += fmt.Sprintf(" (Retry-After %s exceeds the %s limit)", ra, maxRA)
				return herr
			}
			delay = ra
		}
		if err := c.wait(ctx, attempt, delay, status, herr); err != nil {
			return err
		}
	}
}

// netError marks transport failures (refused, reset) that deserve a retry;
// a per-attempt timeout does not: the server already had its chance.
type netError struct{ error }

func (e netError) Unwrap() error { return e.error }

// once makes one attempt and reads the whole response within the timeout.
func (c *Client) once(ctx context.Context, url string, header http.Header, payload []byte) (int, http.Header, []byte, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%s: %w", c.Provider, err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err == nil {
		var body []byte
		body, err = io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
		resp.Body.Close()
		if err == nil {
			if len(body) > maxResponseBytes {
				return 0, nil, nil, fmt.Errorf("%s: POST %s: response larger than %d bytes", c.Provider, url, maxResponseBytes)
			}
			return resp.StatusCode, resp.Header, body, nil
		}
	}
	switch {
	case ctx.Err() != nil:
		return 0, nil, nil, fmt.Errorf("%s: POST %s: %w", c.Provider, url, ctx.Err())
	case actx.Err() != nil:
		return 0, nil, nil, fmt.Errorf("%s: POST %s: no complete response within %s: %w", c.Provider, url, timeout, context.DeadlineExceeded)
	default:
		return 0, nil, nil, netError{fmt.Errorf("%s: POST %s: %w", c.Provider, url, err)}
	}
}

// backoff is the exponential delay before attempt+1, with jitter in its
// upper half so that clients that failed together do not retry together.
func (c *Client) backoff(attempt int) time.Duration {
	base, maxD := c.BaseDelay, c.MaxDelay
	if base <= 0 {
		base = DefaultBaseDelay
	}
	if maxD <= 0 {
		maxD = DefaultMaxDelay
	}
	d := base << (attempt - 1)
	if d > maxD || d <= 0 {
		d = maxD
	}
	return d/2 + rand.N(d/2+1)
}

// wait sleeps before the next attempt, unless the context ends first or its
// deadline would pass during the sleep; then cause is returned at once.
func (c *Client) wait(ctx context.Context, attempt int, d time.Duration, status int, cause error) error {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return fmt.Errorf("%w (no time left for a retry in %s)", cause, d)
	}
	log := c.Logger
	if log == nil {
		log = slog.Default()
	}
	log.Warn("model request failed; retrying", "provider", c.Provider, "attempt", attempt, "status", status, "wait", d, "err", cause)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("%w (canceled while waiting to retry: %w)", cause, ctx.Err())
	case <-t.C:
		return nil
	}
}

// RetryAfter parses a Retry-After header: delay-seconds or an HTTP-date.
func RetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs < 0 || secs > 1e6 {
			return 0, false
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

func requestID(h http.Header) string {
	for _, k := range []string{"X-Request-Id", "Request-Id"} {
		if v := h.Get(k); v != "" {
			return v
		}
	}
	return ""
}

// start returns the beginning of a body for error messages.
func start(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}
