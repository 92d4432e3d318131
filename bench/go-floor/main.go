// go-floor is the baseline every Go admission webhook stands on: net/http over TLS (h2 by ALPN),
// encoding/json decoding of the AdmissionReview, an "allowed" answer. Stdlib only.
// Usage: go-floor -addr 127.0.0.1:9443 -cert tls.crt -key tls.key
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net/http"
)

type review struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Request    *struct {
		UID    string          `json:"uid"`
		Object json.RawMessage `json:"object"`
	} `json:"request,omitempty"`
	Response *response `json:"response,omitempty"`
}

type response struct {
	UID     string `json:"uid"`
	Allowed bool   `json:"allowed"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9443", "listen address")
	cert := flag.String("cert", "", "certificate")
	key := flag.String("key", "", "key")
	flag.Parse()
	http.HandleFunc("/validate", func(w http.ResponseWriter, r *http.Request) {
		var in review
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Request == nil {
			http.Error(w, "bad review", http.StatusBadRequest)
			return
		}
		// Decode the object too, as a webhook reading container images would.
		var object map[string]any
		_ = json.Unmarshal(in.Request.Object, &object)
		out := review{APIVersion: in.APIVersion, Kind: "AdmissionReview", Response: &response{UID: in.Request.UID, Allowed: true}}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
	})
	log.Fatal(http.ListenAndServeTLS(*addr, *cert, *key, nil))
}
