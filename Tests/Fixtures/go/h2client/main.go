// h2client sends N concurrent AdmissionReview POSTs over a single HTTP/2 connection with Go's
// net/http client (the stack the Kubernetes API server uses to call webhooks) and prints a JSON
// summary. Usage: h2client -url URL -ca CA.pem -body review.json -n 200
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"sync"
	"time"
)

type summary struct {
	// Bodies holds every response body (as JSON) when -bodies is set.
	Bodies      []json.RawMessage `json:"bodies,omitempty"`
	OK          int      `json:"ok"`
	Failed      int      `json:"failed"`
	Connections int      `json:"connections"`
	Protocols   []string `json:"protocols"`
	Errors      []string `json:"errors"`
}

func main() {
	url := flag.String("url", "", "webhook URL")
	caFile := flag.String("ca", "", "CA bundle (PEM)")
	bodyFile := flag.String("body", "", "AdmissionReview JSON")
	n := flag.Int("n", 200, "concurrent requests")
	keepBodies := flag.Bool("bodies", false, "include response bodies in the summary")
	timeout := flag.String("timeout", "10s", "the ?timeout= the API server would send")
	flag.Parse()

	caPEM, err := os.ReadFile(*caFile)
	check(err)
	body, err := os.ReadFile(*bodyFile)
	check(err)
	var sent struct {
		Request struct {
			UID string `json:"uid"`
		} `json:"request"`
	}
	check(json.Unmarshal(body, &sent))

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	transport := &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: pool, ServerName: "localhost"},
		ForceAttemptHTTP2: true,
		MaxConnsPerHost:   1,
	}
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}

	// One request first, so the connection exists before the burst: the burst then shows
	// multiplexing on it, not how many dials a cold client races into.
	warm, _ := http.NewRequest("GET", *url, nil)
	if resp, err := client.Do(warm); err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}

	var mu sync.Mutex
	var s summary
	conns := map[string]bool{}
	protocols := map[string]bool{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < *n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
				mu.Lock()
				conns[fmt.Sprintf("%p", info.Conn)] = true
				mu.Unlock()
			}}
			req, _ := http.NewRequest("POST", *url+"?timeout="+*timeout, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json")
			req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
			resp, err := client.Do(req)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				s.Failed++
				s.Errors = append(s.Errors, err.Error())
				return
			}
			defer resp.Body.Close()
			protocols[resp.Proto] = true
			data, _ := io.ReadAll(resp.Body)
			var got struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
				Response   struct {
					UID     string `json:"uid"`
					Allowed *bool  `json:"allowed"`
				} `json:"response"`
			}
			if *keepBodies {
				s.Bodies = append(s.Bodies, json.RawMessage(data))
			}
			if resp.StatusCode != 200 || json.Unmarshal(data, &got) != nil || got.Response.UID != sent.Request.UID ||
				got.Kind != "AdmissionReview" || got.Response.Allowed == nil {
				s.Failed++
				s.Errors = append(s.Errors, fmt.Sprintf("status %d body %s", resp.StatusCode, string(data)))
				return
			}
			s.OK++
		}()
	}
	close(start)
	wg.Wait()
	s.Connections = len(conns)
	for p := range protocols {
		s.Protocols = append(s.Protocols, p)
	}
	out, _ := json.Marshal(s)
	fmt.Println(string(out))
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}
