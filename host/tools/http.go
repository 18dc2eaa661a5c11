package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/skillsdev/skills/sdk/wire"
)

// maxRedirects matches net/http's default limit.
const maxRedirects = 10

// allowlist is the set of hosts http_get may reach. Hostnames are compared
// lowercased and without a trailing dot; IPv6 literals without brackets.
type allowlist struct {
	anyPort map[string]bool // "example.com": every port
	exact   map[string]bool // "example.com:8443": that port only
}

func parseAllowHosts(entries []string) (allowlist, error) {
	a := allowlist{anyPort: map[string]bool{}, exact: map[string]bool{}}
	for _, raw := range entries {
		e := strings.ToLower(strings.TrimSpace(raw))
		if e == "" {
			return a, errors.New("empty entry")
		}
		if strings.Contains(e, "/") || strings.Contains(e, "@") {
			return a, fmt.Errorf("%q: want a host or host:port, not a URL", raw)
		}
		if host, port, err := net.SplitHostPort(e); err == nil {
			n, perr := strconv.Atoi(port)
			if perr != nil || n < 1 || n > 65535 {
				return a, fmt.Errorf("%q: port %q is not a number in 1-65535", raw, port)
			}
			host = normHost(host)
			if host == "" {
				return a, fmt.Errorf("%q: empty host", raw)
			}
			a.exact[net.JoinHostPort(host, strconv.Itoa(n))] = true
			continue
		}
		// No port: a bare hostname, IPv4, or IPv6 literal with or without brackets.
		host := normHost(strings.TrimSuffix(strings.TrimPrefix(e, "["), "]"))
		if host == "" || strings.ContainsAny(host, "[]") {
			return a, fmt.Errorf("%q: not a host", raw)
		}
		a.anyPort[host] = true
	}
	return a, nil
}

func normHost(h string) string { return strings.TrimSuffix(strings.ToLower(h), ".") }

// check refuses a URL whose host is not allowed, naming the host and the
// entry that would allow it.
func (a allowlist) check(tool string, u *url.URL) *wire.Error {
	host := normHost(u.Hostname())
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	hostPort := net.JoinHostPort(host, port)
	if a.anyPort[host] || a.exact[hostPort] {
		return nil
	}
	return denied(tool, fmt.Sprintf("host %q (%s) is not allowed: add %q (any port) or %q to the host's allowed hosts (Options.AllowHosts) to allow it",
		host, hostPort, host, hostPort))
}

// httpGetter serves http_get.
type httpGetter struct {
	client  *http.Client
	allow   allowlist
	maxRead int64
}

func newHTTPGetter(base *http.Client, allow allowlist, maxRead int64) *httpGetter {
	var c http.Client
	if base != nil {
		c = *base
	} else {
		// A transport of its own: no connection pool shared with the rest
		// of the process, and nothing another package configures leaks in.
		c.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return failed("http_get", fmt.Sprintf("stopped after %d redirects", maxRedirects))
		}
		if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
			return denied("http_get", fmt.Sprintf("redirect to %q: scheme %q is not allowed", req.URL.Redacted(), req.URL.Scheme))
		}
		if werr := allow.check("http_get", req.URL); werr != nil {
			werr.Message = "redirect to " + req.URL.Redacted() + ": " + werr.Message
			return werr
		}
		return nil
	}
	return &httpGetter{client: &c, allow: allow, maxRead: maxRead}
}

// checkURL validates the url argument and applies the allowlist to the
// first hop; CheckRedirect applies it to every later one.
func (g *httpGetter) checkURL(tool, raw string) (*url.URL, *wire.Error) {
	if raw == "" {
		return nil, invalid(tool, "url: required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, invalid(tool, fmt.Sprintf("url: %v", err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, invalid(tool, fmt.Sprintf("url: scheme %q is not supported; use http or https", u.Scheme))
	}
	if u.Hostname() == "" {
		return nil, invalid(tool, fmt.Sprintf("url %q: no host", raw))
	}
	if werr := g.allow.check(tool, u); werr != nil {
		return nil, werr
	}
	return u, nil
}

func (g *httpGetter) tool() Tool {
	const name = "http_get"
	return Tool{
		Name: name,
		Description: "Fetches a URL with HTTP GET. Only hosts the host operator allowed can be reached, redirects included. " +
			"Returns the status, response headers and body (text, or base64 with encoding \"base64\" when not UTF-8). " +
			"A status of 400 or more, or a body over max_bytes, is an error.",
		InputSchema: json.RawMessage(`{"type":"object","properties":{` +
			`"url":{"type":"string","description":"http or https URL"},` +
			`"max_bytes":{"type":"integer","minimum":1,"description":"refuse a body longer than this (capped by the host)"}},` +
			`"required":["url"],"additionalProperties":false}`),
		Run: func(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
			var in struct {
				URL      string `json:"url"`
				MaxBytes *int64 `json:"max_bytes"`
			}
			if err := decodeInput(name, input, &in); err != nil {
				return nil, err
			}
			limit, werr := maxBytes(name, in.MaxBytes, g.maxRead)
			if werr != nil {
				return nil, werr
			}
			return g.get(ctx, name, in.URL, limit)
		},
	}
}

// httpOutput is http_get's answer.
type httpOutput struct {
	Status   int         `json:"status"`
	URL      string      `json:"url"` // after redirects
	Headers  http.Header `json:"headers,omitempty"`
	Body     string      `json:"body"`
	Encoding string      `json:"encoding,omitempty"` // "base64" when the body is not UTF-8
}

func (g *httpGetter) get(ctx context.Context, tool, rawURL string, limit int64) (json.RawMessage, error) {
	u, werr := g.checkURL(tool, rawURL)
	if werr != nil {
		return nil, werr
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, invalid(tool, fmt.Sprintf("url: %v", err))
	}
	req.Header.Set("User-Agent", "skills-http_get/1")
	resp, err := g.client.Do(req)
	if err != nil {
		return nil, httpError(ctx, tool, u, err)
	}
	defer resp.Body.Close()
	final := resp.Request.URL.Redacted()

	if resp.ContentLength > limit {
		return nil, failed(tool, fmt.Sprintf("GET %s: body of %d bytes exceeds the limit of %d bytes", final, resp.ContentLength, limit))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, httpError(ctx, tool, resp.Request.URL, err)
	}
	if int64(len(body)) > limit {
		return nil, failed(tool, fmt.Sprintf("GET %s: body exceeds the limit of %d bytes", final, limit))
	}
	if resp.StatusCode >= 400 {
		return nil, failed(tool, fmt.Sprintf("GET %s: status %s%s", final, resp.Status, snippet(body)))
	}
	content, enc := encodeText(body)
	return marshal(tool, httpOutput{
		Status:   resp.StatusCode,
		URL:      final,
		Headers:  resp.Header,
		Body:     content,
		Encoding: enc,
	})
}

// httpError classifies a failed request: a policy refusal from
// CheckRedirect keeps its code, the end of ctx becomes CodeTimeout or
// CodeCanceled, anything else (refused connection, TLS, reset) CodeToolFailed.
func httpError(ctx context.Context, tool string, u *url.URL, err error) *wire.Error {
	var we *wire.Error
	if errors.As(err, &we) {
		return we
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		e := contextError(tool, ctxErr)
		e.Message = fmt.Sprintf("GET %s: %s", u.Redacted(), e.Message)
		return e
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its text repeats the method and URL
	}
	return failed(tool, fmt.Sprintf("GET %s: %v", u.Redacted(), err))
}

// snippet quotes the start of an error response, which usually says why.
func snippet(body []byte) string {
	const n = 200
	if len(body) == 0 {
		return ""
	}
	cut := body
	if len(cut) > n {
		cut = trimPartialRune(cut[:n])
	}
	if !utf8.Valid(cut) {
		return ""
	}
	s := strings.TrimSpace(string(cut))
	if len(cut) < len(body) {
		s += "..."
	}
	return ": " + strconv.Quote(s)
}
