package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
)

func TestParseFlags(t *testing.T) {
	c, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.listen != ":8443" || c.probeAddr != ":8081" || c.metricsAddr != ":8080" || c.timeWindow != 5*time.Minute ||
		c.maxBody != 64<<10 || c.watchNamespace != "" || c.tlsCert != "" || c.events != "all" {
		t.Fatalf("defaults = %+v", c)
	}
	if c, err := parseFlags([]string{"-v=5"}); err != nil || c.verbosity != 5 {
		t.Fatalf("-v=5: %+v, %v", c, err)
	}
	c, err = parseFlags([]string{"--listen=:9000", "--time-window=2m", "--max-body-bytes=1024", "--watch-namespace=a,b",
		"--tls-cert-file=c.pem", "--tls-key-file=k.pem", "--external-path-prefix=/hooks", "--restore-namespace=ops", "--events=warnings"})
	if err != nil || c.events != "warnings" || c.listen != ":9000" || c.timeWindow != 2*time.Minute || c.maxBody != 1024 || c.watchNamespace != "a,b" ||
		c.tlsCert != "c.pem" || c.pathPrefix != "/hooks" || c.restoreNS != "ops" {
		t.Fatalf("parsed = %+v, %v", c, err)
	}
	for _, bad := range [][]string{
		{"--tls-cert-file=c.pem"},
		{"--tls-key-file=k.pem"},
		{"--time-window=0s"},
		{"--max-body-bytes=-1"},
		{"--no-such-flag"},
		{"--events=none"},
		{"-v=6"}, // client-go dumps headers from 7, bodies (Secrets) from 8
		{"-v=8"},
		{"-v=-1"},
	} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("%v: accepted", bad)
		}
	}
}

func TestHandlerRoutes(t *testing.T) {
	hit := ""
	h := Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit = r.URL.Path }))
	for path, want := range map[string]bool{
		"/notify": true, "/notify/": true, "/notify/payment/ns/p": true, "/notify/refund/ns/r": true,
		"/": false, "/metrics": false, "/notifyx": false,
	} {
		hit = ""
		req, _ := http.NewRequest(http.MethodPost, "http://x"+path, strings.NewReader("{}"))
		w := &recorder{header: http.Header{}}
		h.ServeHTTP(w, req)
		if (hit != "") != want {
			t.Errorf("%s: reached the receiver = %v, want %v (status %d)", path, hit != "", want, w.status)
		}
	}
}

type recorder struct {
	header http.Header
	status int
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *recorder) WriteHeader(code int)        { r.status = code }

// TestServerGracefulShutdown: a notification in flight when the manager
// stops is finished and answered; then Start returns.
func TestServerGracefulShutdown(t *testing.T) {
	inHandler := make(chan struct{})
	release := make(chan struct{})
	s := &server{cfg: config{listen: "127.0.0.1:0", shutdownTimeout: 10 * time.Second}, log: logr.Discard(),
		handler: Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(inHandler)
			<-release
			_, _ = io.WriteString(w, "done")
		}))}
	if s.NeedLeaderElection() {
		t.Fatal("the receiver must run on every replica")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Start(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for !s.listening.Load() {
		if time.Now().After(deadline) {
			t.Fatal("not listening")
		}
		time.Sleep(10 * time.Millisecond)
	}
	addr := s.addr.Load().(net.Addr).String()
	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Post("http://"+addr+"/notify", "application/json", strings.NewReader("{}"))
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- result{body: string(b)}
	}()
	<-inHandler
	cancel()
	select {
	case err := <-done:
		t.Fatalf("Start returned %v with a request in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if r := <-got; r.err != nil || r.body != "done" {
		t.Fatalf("in-flight request: %q, %v", r.body, r.err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Start: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Start did not return after shutdown")
	}
	if s.listening.Load() {
		t.Fatal("still marked listening")
	}
}

// TestConnectionCap: with --max-connections=1 a second connection is not
// served while the first one is being handled, and is served after it.
func TestConnectionCap(t *testing.T) {
	entered := make(chan string, 2)
	release := make(chan struct{})
	s := &server{cfg: config{listen: "127.0.0.1:0", shutdownTimeout: 10 * time.Second, maxConns: 1}, log: logr.Discard(),
		handler: Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			entered <- r.URL.Path
			<-release
		}))}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = s.Start(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for !s.listening.Load() {
		if time.Now().After(deadline) {
			t.Fatal("not listening")
		}
		time.Sleep(10 * time.Millisecond)
	}
	addr := s.addr.Load().(net.Addr).String()
	post := func(path string) {
		// Fresh connections (no keep-alive reuse between the two).
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		if resp, err := c.Post("http://"+addr+path, "application/json", strings.NewReader("{}")); err == nil {
			resp.Body.Close()
		}
	}
	go post("/notify/first")
	if got := <-entered; got != "/notify/first" {
		t.Fatalf("first handled: %s", got)
	}
	go post("/notify/second")
	select {
	case got := <-entered:
		t.Fatalf("%s was served while the only allowed connection was busy", got)
	case <-time.After(300 * time.Millisecond): // a bounded look for a violation, not synchronisation
	}
	close(release)
	select {
	case got := <-entered:
		if got != "/notify/second" {
			t.Fatalf("second handled: %s", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the second connection was never served after the first closed")
	}
}
