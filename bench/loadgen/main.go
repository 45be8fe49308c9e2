// Command loadgen drives an AWS-compatible endpoint the way an SDK does — SigV4-signed
// Query requests over keep-alive connections — and reports throughput and latency.
// It is the client of bench/run.sh, which points it at iamlocal, moto_server and a
// bare Go server.
//
//	loadgen -endpoint http://127.0.0.1:4577 -op assume-role -c 16 -d 10s \
//	        -key AKIA… -secret … -role arn:aws:iam::111111111111:role/bench
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iamlocal/iamlocal/internal/sigv4"
)

func main() {
	endpoint := flag.String("endpoint", "http://127.0.0.1:4577", "target URL")
	op := flag.String("op", "assume-role", "assume-role or get-caller-identity")
	conc := flag.Int("c", 16, "concurrent clients")
	dur := flag.Duration("d", 10*time.Second, "how long to run")
	key := flag.String("key", os.Getenv("AWS_ACCESS_KEY_ID"), "access key id")
	secret := flag.String("secret", os.Getenv("AWS_SECRET_ACCESS_KEY"), "secret access key")
	role := flag.String("role", "arn:aws:iam::111111111111:role/bench", "role to assume")
	label := flag.String("label", "", "name of the target in the report")
	spread := flag.Int("spread-accounts", 0, "assume role-NN in one of this many seeded accounts (bench/seed) instead of -role")
	spreadRoles := flag.Int("spread-roles", 20, "roles per seeded account")
	ackedFile := flag.String("acked", "", "create-user: append the name of every user whose creation was acknowledged to `FILE`")
	flag.Parse()

	form := url.Values{"Version": {"2011-06-15"}}
	switch *op {
	case "assume-role":
		form.Set("Action", "AssumeRole")
		form.Set("RoleArn", *role)
		form.Set("RoleSessionName", "bench")
	case "get-caller-identity":
		form.Set("Action", "GetCallerIdentity")
	case "create-user": // a stream of durable writes, for the kill -9 test
	default:
		fmt.Fprintln(os.Stderr, "unknown -op", *op)
		os.Exit(2)
	}
	body := []byte(form.Encode())
	svc := "sts"
	if *op == "create-user" {
		svc = "iam"
	}
	var acked *os.File
	if *ackedFile != "" {
		var err error
		if acked, err = os.OpenFile(*ackedFile, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		defer acked.Close()
	}
	var userSeq atomic.Int64
	bodyFor := func(rng *rand.Rand) []byte {
		if *op == "create-user" {
			f := url.Values{"Version": {"2010-05-08"}, "Action": {"CreateUser"}, "UserName": {fmt.Sprintf("w-%d", userSeq.Add(1))}}
			return []byte(f.Encode())
		}
		if *spread == 0 {
			return body
		}
		f := url.Values{"Version": {"2011-06-15"}, "Action": {"AssumeRole"}, "RoleSessionName": {"bench"},
			"RoleArn": {fmt.Sprintf("arn:aws:iam::%012d:role/role-%02d", 200000000000+rng.IntN(*spread), rng.IntN(*spreadRoles))}}
		return []byte(f.Encode())
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *conc, MaxConnsPerHost: *conc}}

	var ok, failed atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	deadline := time.Now().Add(*dur)
	var wg sync.WaitGroup
	for i := 0; i < *conc; i++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, 7))
			var mine []time.Duration
			for time.Now().Before(deadline) {
				start := time.Now()
				b := bodyFor(rng)
				if call(client, *endpoint, b, *key, *secret, svc) {
					ok.Add(1)
					if acked != nil {
						v, _ := url.ParseQuery(string(b))
						mu.Lock()
						fmt.Fprintln(acked, v.Get("UserName")) // written only after the 200 arrived
						mu.Unlock()
					}
				} else {
					failed.Add(1)
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}(uint64(i))
	}
	wg.Wait()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[int(p*float64(len(lat)-1))]
	}
	fmt.Printf("%-10s %-20s c=%-3d %8.0f req/s  p50 %-9v p99 %-9v ok %d failed %d\n", *label, *op, *conc,
		float64(ok.Load())/dur.Seconds(), pct(0.50).Round(time.Microsecond), pct(0.99).Round(time.Microsecond), ok.Load(), failed.Load())
	if failed.Load() > 0 && ok.Load() == 0 {
		os.Exit(1)
	}
}

// call signs and sends one request; it reports whether the answer was a 200.
func call(c *http.Client, endpoint string, body []byte, key, secret, svc string) bool {
	r, err := http.NewRequest(http.MethodPost, endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return false
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sigv4.Sign(r, body, key, secret, "us-east-1", svc, time.Now())
	resp, err := c.Do(r)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
