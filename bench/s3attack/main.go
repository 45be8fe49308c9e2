// Command s3attack reproduces the S3 body attacks of issue 11 against a real
// `iamlocal serve` on a loopback port with a temporary data directory, sampling the
// server's memory from /proc/PID/status (VmRSS, VmHWM):
//
//  1. 16 concurrent anonymous PUTs of 64 MiB to an existing bucket;
//  2. 8 anonymous PUTs declaring 64 MiB that send 60 MiB and go silent, and 2 signed
//     ones that do the same (these reach the body: the body deadline must end them);
//  3. 1,500 Query connections with a partial body.
//
// Every loop is bounded in count and time; it connects to 127.0.0.1 only.
//
//	go build -o bin/iamlocal ./cmd/iamlocal && go run ./bench/s3attack -bin bin/iamlocal
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iamlocal/iamlocal/internal/sigv4"
)

const (
	keyID  = "AKIAIAMLOCALATTACK01"
	secret = "attackRootSecret00000000000000000000000000"
)

func main() {
	bin := flag.String("bin", "bin/iamlocal", "the iamlocal binary")
	queryConns := flag.Int("query-conns", 1500, "partial-body Query connections")
	wait := flag.Duration("stall-wait", 45*time.Second, "how long to watch stalled connections")
	flag.Parse()
	dir, err := os.MkdirTemp("", "s3attack")
	check(err)
	defer os.RemoveAll(dir)
	srv, addr := start(*bin, dir)
	defer srv.Process.Kill()
	pid := srv.Process.Pid
	mem := newSampler(pid)
	defer mem.stop()
	fmt.Printf("server pid %d on %s; at start %s\n", pid, addr, mem.now())

	createBucket(addr, "victim")
	fmt.Printf("after CreateBucket: %s\n", mem.now())

	t0 := time.Now()
	codes := bigPuts(addr, 16, 64<<20, false)
	fmt.Printf("16 x 64 MiB anonymous PUTs: answers %v in %v; peak %s\n", codes, time.Since(t0).Round(time.Millisecond), mem.now())
	t0 = time.Now()
	codes = bigPuts(addr, 16, 64<<20, true)
	fmt.Printf("16 x 64 MiB signed PUTs (streamed to disk; past the byte budget SlowDown): answers %v in %v; peak %s\n",
		codes, time.Since(t0).Round(time.Millisecond), mem.now())

	closedAnon := stalled(addr, 8, false, *wait)
	closedSigned := stalled(addr, 2, true, *wait)
	fmt.Printf("stalled 60 MiB PUTs: anonymous closed %s; signed closed %s (watched up to %v); %s\n",
		closedAnon, closedSigned, *wait, mem.now())

	open12 := partialQueries(addr, *queryConns)
	fmt.Printf("%d partial-body Query connections: %s; %s\n", *queryConns, open12, mem.now())
	fmt.Printf("peak over the run: %s\n", mem.now())
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "s3attack:", err)
		os.Exit(1)
	}
}

// start runs iamlocal serve on a free loopback port and waits for its banner.
func start(bin, dir string) (*exec.Cmd, string) {
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data", dir)
	cmd.Env = append(os.Environ(), "IAMLOCAL_ROOT_ACCESS_KEY_ID="+keyID, "IAMLOCAL_ROOT_SECRET_ACCESS_KEY="+secret)
	out, err := cmd.StdoutPipe()
	check(err)
	cmd.Stderr = io.Discard
	check(cmd.Start())
	lines := bufio.NewScanner(out)
	deadline := time.Now().Add(20 * time.Second)
	for lines.Scan() && time.Now().Before(deadline) {
		if rest, ok := strings.CutPrefix(lines.Text(), "iamlocal serving on http://"); ok {
			addr, _, _ := strings.Cut(rest, " ")
			go io.Copy(io.Discard, out)
			return cmd, addr
		}
	}
	cmd.Process.Kill()
	check(fmt.Errorf("no banner from %s", bin))
	return nil, ""
}

func createBucket(addr, name string) {
	r, _ := http.NewRequest("PUT", "http://"+addr+"/"+name, nil)
	sigv4.Sign(r, nil, keyID, secret, "us-east-1", "s3", time.Now())
	resp, err := http.DefaultClient.Do(r)
	check(err)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		check(fmt.Errorf("CreateBucket: %s", resp.Status))
	}
}

// sampler records the server's VmRSS and VmHWM every 50 ms.
type sampler struct {
	pid       int
	peak      atomic.Int64 // KiB
	done      chan struct{}
	hwm, last atomic.Int64
}

func newSampler(pid int) *sampler {
	s := &sampler{pid: pid, done: make(chan struct{})}
	go func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			s.sample()
			select {
			case <-s.done:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *sampler) sample() {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid))
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		n, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			s.last.Store(n)
			if n > s.peak.Load() {
				s.peak.Store(n)
			}
		case "VmHWM:":
			s.hwm.Store(n)
		}
	}
}

func (s *sampler) now() string {
	s.sample()
	return fmt.Sprintf("VmRSS %d MB, VmHWM %d MB", s.last.Load()>>10, s.hwm.Load()>>10)
}

func (s *sampler) stop() { close(s.done) }

// bigPuts sends n concurrent PUTs of size bytes (anonymous, or signed with
// UNSIGNED-PAYLOAD) and returns the statuses.
func bigPuts(addr string, n int, size int64, signed bool) map[int]int {
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, _ := http.NewRequest("PUT", fmt.Sprintf("http://%s/victim/k%d", addr, i), io.LimitReader(zeros{}, size))
			r.ContentLength = size
			if signed {
				r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
				sigv4.Sign(r, nil, keyID, secret, "us-east-1", "s3", time.Now())
			}
			c := &http.Client{Timeout: 60 * time.Second}
			code := -1
			if resp, err := c.Do(r); err == nil {
				code = resp.StatusCode
				resp.Body.Close()
			}
			mu.Lock()
			codes[code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	return codes
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// stalled opens n PUTs declaring 64 MiB, writes 60 MiB (as far as the server takes
// it) and goes silent; it reports when the server closed each, within wait.
func stalled(addr string, n int, signed bool, wait time.Duration) string {
	start := time.Now()
	var closedAt []time.Duration
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				return
			}
			defer c.Close()
			head := fmt.Sprintf("PUT /victim/stall%d HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n", i, 64<<20)
			if signed {
				r, _ := http.NewRequest("PUT", fmt.Sprintf("http://%s/victim/stall%d", addr, i), nil)
				r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
				sigv4.Sign(r, nil, keyID, secret, "us-east-1", "s3", time.Now())
				head = fmt.Sprintf("PUT /victim/stall%d HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", i, addr, 64<<20)
				for _, k := range []string{"X-Amz-Content-Sha256", "X-Amz-Date", "Authorization"} {
					head += k + ": " + r.Header.Get(k) + "\r\n"
				}
			}
			io.WriteString(c, head+"\r\n")
			// Write 60 MiB as long as the server reads it; a server that answered and
			// closed makes the write fail early.
			c.SetWriteDeadline(time.Now().Add(wait))
			io.CopyN(c, zeros{}, 60<<20)
			c.SetReadDeadline(start.Add(wait))
			_, err = io.Copy(io.Discard, c)
			if err == nil { // EOF: the server closed it
				mu.Lock()
				closedAt = append(closedAt, time.Since(start).Round(100*time.Millisecond))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(closedAt) == 0 {
		return fmt.Sprintf("0/%d", n)
	}
	return fmt.Sprintf("%d/%d (last after %v)", len(closedAt), n, maxDur(closedAt))
}

func maxDur(ds []time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}

// partialQueries opens n Query connections that send half a body, then counts how
// many the server has closed 12 s later.
func partialQueries(addr string, n int) string {
	conns := make([]net.Conn, 0, n)
	for range n {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			break
		}
		io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nAction=GetCallerIdentity&Version=2011-06-15")
		conns = append(conns, c)
	}
	var closed atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(12 * time.Second)
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			c.SetReadDeadline(deadline)
			if _, err := io.Copy(io.Discard, c); err == nil {
				closed.Add(1)
			}
		}()
	}
	wg.Wait()
	return fmt.Sprintf("%d opened, %d closed by the server within 12 s", len(conns), closed.Load())
}
