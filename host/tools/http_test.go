package tools

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/skillsdev/skills/sdk/wire"
)

// servers starts the server under test (allowed by host:port) and another
// one on the same address but another port (not allowed).
func servers(t *testing.T) (allowed, other *httptest.Server) {
	t.Helper()
	other = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "other")
	}))
	t.Cleanup(other.Close)

	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Test", "yes")
		fmt.Fprint(w, "hello")
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		fmt.Fprint(w, strings.Repeat("x", 100))
	})
	mux.HandleFunc("/big-chunked", func(w http.ResponseWriter, r *http.Request) {
		for range 4 {
			fmt.Fprint(w, strings.Repeat("y", 50))
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/binary", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte{0xff, 0x00})
	})
	mux.HandleFunc("/500", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	})
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	mux.HandleFunc("/redirect-self", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ok", http.StatusFound)
	})
	mux.HandleFunc("/redirect-other", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/", http.StatusFound)
	})
	mux.HandleFunc("/redirect-localhost", func(w http.ResponseWriter, r *http.Request) {
		u, _ := url.Parse("http://" + r.Host + "/ok")
		u.Host = "localhost:" + u.Port()
		http.Redirect(w, r, u.String(), http.StatusFound)
	})
	mux.HandleFunc("/redirect-ftp", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "ftp://"+r.Host+"/x", http.StatusFound)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	allowed = httptest.NewServer(mux)
	// Release hanging handlers before Close, which waits for them.
	t.Cleanup(allowed.Close)
	t.Cleanup(func() { close(release) })
	return allowed, other
}

func TestHTTPGet(t *testing.T) {
	srv, other := servers(t)
	host := strings.TrimPrefix(srv.URL, "http://")
	otherHost := strings.TrimPrefix(other.URL, "http://")
	r := newTestRegistry(t, Options{AllowHosts: []string{host}})
	anyPort := newTestRegistry(t, Options{AllowHosts: []string{"127.0.0.1"}})
	small := newTestRegistry(t, Options{AllowHosts: []string{host}, MaxRead: 64})

	tests := []struct {
		name     string
		reg      *Registry
		url      string
		extra    string // more input fields, with a leading comma
		wantBody string
		wantEnc  string
		wantURL  string
		wantCode wire.Code
		wantMsg  string
	}{
		{name: "allowed", reg: r, url: srv.URL + "/ok", wantBody: "hello", wantURL: srv.URL + "/ok"},
		{name: "any port entry", reg: anyPort, url: other.URL + "/", wantBody: "other"},
		{name: "redirect to allowed", reg: r, url: srv.URL + "/redirect-self", wantBody: "hello", wantURL: srv.URL + "/ok"},
		{name: "binary body", reg: r, url: srv.URL + "/binary", wantBody: base64.StdEncoding.EncodeToString([]byte{0xff, 0}), wantEnc: "base64"},
		{name: "body within max_bytes", reg: r, url: srv.URL + "/big", extra: `,"max_bytes":100`, wantBody: strings.Repeat("x", 100)},

		{name: "host not allowed", reg: r, url: "http://example.invalid/x", wantCode: wire.CodeToolDenied, wantMsg: `host "example.invalid" (example.invalid:80) is not allowed: add "example.invalid"`},
		{name: "https default port not allowed", reg: r, url: "https://example.invalid/x", wantCode: wire.CodeToolDenied, wantMsg: "example.invalid:443"},
		{name: "other port not allowed", reg: r, url: other.URL + "/", wantCode: wire.CodeToolDenied, wantMsg: otherHost},
		{name: "userinfo does not fool the check", reg: r, url: "http://" + host + "@example.invalid/", wantCode: wire.CodeToolDenied, wantMsg: `"example.invalid"`},
		{name: "redirect to other host", reg: r, url: srv.URL + "/redirect-other", wantCode: wire.CodeToolDenied, wantMsg: "redirect to " + other.URL + "/: host \"127.0.0.1\" (" + otherHost + ") is not allowed"},
		{name: "redirect to another name", reg: r, url: srv.URL + "/redirect-localhost", wantCode: wire.CodeToolDenied, wantMsg: `host "localhost"`},
		{name: "redirect to ftp", reg: r, url: srv.URL + "/redirect-ftp", wantCode: wire.CodeToolDenied, wantMsg: `scheme "ftp" is not allowed`},
		{name: "redirect loop", reg: r, url: srv.URL + "/loop", wantCode: wire.CodeToolFailed, wantMsg: "stopped after 10 redirects"},
		{name: "status 500", reg: r, url: srv.URL + "/500", wantCode: wire.CodeToolFailed, wantMsg: `status 500 Internal Server Error: "boom"`},
		{name: "status 404", reg: r, url: srv.URL + "/none", wantCode: wire.CodeToolFailed, wantMsg: "status 404"},
		{name: "body over max_bytes", reg: r, url: srv.URL + "/big", extra: `,"max_bytes":99`, wantCode: wire.CodeToolFailed, wantMsg: "body of 100 bytes exceeds the limit of 99 bytes"},
		{name: "chunked body over max_bytes", reg: r, url: srv.URL + "/big-chunked", extra: `,"max_bytes":120`, wantCode: wire.CodeToolFailed, wantMsg: "body exceeds the limit of 120 bytes"},
		{name: "body over MaxRead", reg: small, url: srv.URL + "/big", extra: `,"max_bytes":1000`, wantCode: wire.CodeToolFailed, wantMsg: "exceeds the limit of 64 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, werr := call(t, tt.reg, "http_get", `{"url":`+quote(tt.url)+tt.extra+`}`)
			if tt.wantCode != "" {
				wantErr(t, werr, tt.wantCode, tt.wantMsg)
				return
			}
			if werr != nil {
				t.Fatal(werr)
			}
			if out["status"] != float64(200) {
				t.Errorf("status = %v", out["status"])
			}
			if out["body"] != tt.wantBody {
				t.Errorf("body = %q, want %q", out["body"], tt.wantBody)
			}
			if enc, _ := out["encoding"].(string); enc != tt.wantEnc {
				t.Errorf("encoding = %q, want %q", enc, tt.wantEnc)
			}
			if tt.wantURL != "" && out["url"] != tt.wantURL {
				t.Errorf("url = %v, want %s", out["url"], tt.wantURL)
			}
		})
	}

	t.Run("headers", func(t *testing.T) {
		out, werr := call(t, r, "http_get", `{"url":`+quote(srv.URL+"/ok")+`}`)
		if werr != nil {
			t.Fatal(werr)
		}
		h, _ := out["headers"].(map[string]any)
		if v, _ := h["X-Test"].([]any); len(v) != 1 || v[0] != "yes" {
			t.Errorf("headers = %v, want X-Test: [yes]", out["headers"])
		}
	})
}

// A server that never answers is cut off by the call's context.
func TestHTTPGetContext(t *testing.T) {
	srv, _ := servers(t)
	r := newTestRegistry(t, Options{AllowHosts: []string{"127.0.0.1"}})
	tests := []struct {
		name     string
		ctx      func() (context.Context, context.CancelFunc)
		wantCode wire.Code
	}{
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 200*time.Millisecond)
		}, wire.CodeTimeout},
		{"cancel", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(200*time.Millisecond, cancel)
			return ctx, cancel
		}, wire.CodeCanceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := tt.ctx()
			defer cancel()
			_, werr := callCtx(t, ctx, r, "http_get", `{"url":`+quote(srv.URL+"/hang")+`}`)
			wantErr(t, werr, tt.wantCode, "GET "+srv.URL+"/hang")
		})
	}
}

func TestHTTPGetConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	r := newTestRegistry(t, Options{AllowHosts: []string{"127.0.0.1"}})
	_, werr := call(t, r, "http_get", `{"url":`+quote(u)+`}`)
	wantErr(t, werr, wire.CodeToolFailed, "GET "+u)
}

// The caller's client is used but not modified.
func TestHTTPGetOwnClient(t *testing.T) {
	srv, _ := servers(t)
	var used bool
	client := &http.Client{Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
		used = true
		return http.DefaultTransport.RoundTrip(req)
	})}
	r := newTestRegistry(t, Options{AllowHosts: []string{"127.0.0.1"}, HTTPClient: client})
	if client.CheckRedirect != nil {
		t.Fatal("Builtins modified the caller's client")
	}
	if _, werr := call(t, r, "http_get", `{"url":`+quote(srv.URL+"/redirect-self")+`}`); werr != nil {
		t.Fatal(werr)
	}
	if !used {
		t.Fatal("the caller's transport was not used")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestAllowlist(t *testing.T) {
	a, err := parseAllowHosts([]string{"Example.COM", "api.example.org:8443", "[::1]:8080", "fe80::1", "[fe80::2]", "trailing.dot."})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		url  string
		want bool
	}{
		{"http://example.com/", true},
		{"https://EXAMPLE.com:9999/", true},
		{"http://example.com./", true},
		{"http://sub.example.com/", false},
		{"https://api.example.org:8443/", true},
		{"https://api.example.org/", false},
		{"http://[::1]:8080/", true},
		{"http://[::1]/", false},
		{"http://[fe80::1]:1/", true},
		{"http://[fe80::2]/", true},
		{"http://trailing.dot/", true},
		{"http://example.org/", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			u, err := url.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if got := a.check("http_get", u) == nil; got != tt.want {
				t.Fatalf("allowed = %v, want %v", got, tt.want)
			}
		})
	}
}
