package ec2_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/iamlocal/iamlocal/internal/server"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

// freeRange finds n consecutive loopback ports nobody listens on.
func freeRange(t *testing.T, n int) server.PortRange {
	t.Helper()
	for range 50 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lo := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if lo+n-1 > 65535 {
			continue
		}
		ok := true
		for p := lo; p < lo+n && ok; p++ {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				ok = false
				continue
			}
			l.Close()
		}
		if ok {
			return server.PortRange{Lo: lo, Hi: lo + n - 1}
		}
	}
	t.Fatal("no free port range")
	return server.PortRange{}
}

// occupy listens on a port as another process would.
func occupy(t *testing.T, port int) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serve --endpoint-ports: endpoints take the first free port of the range, a full
// range is VpcEndpointLimitExceeded, ports survive restarts, and a stored port taken
// by another process moves to a free one of the range (with a warning).
func TestVpcEndpointPortRange(t *testing.T) {
	r := freeRange(t, 4)
	foreign := occupy(t, r.Lo) // another process holds the first port
	dir := t.TempDir()
	s := servertest.StartWith(t, servertest.Options{DataDir: dir, EndpointPorts: r})
	c := s.EC2(servertest.Root)
	create := func(c *ec2.Client) (string, string, error) {
		out, err := c.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: aws.String("vpc-0a1b2c3d"),
			VpcEndpointType: types.VpcEndpointTypeInterface, ServiceName: aws.String("com.amazonaws.us-east-1.ec2")})
		if err != nil {
			return "", "", err
		}
		return aws.ToString(out.VpcEndpoint.VpcEndpointId), aws.ToString(out.VpcEndpoint.DnsEntries[0].DnsName), nil
	}
	port := func(p int) string { return fmt.Sprintf("localhost:%d", p) }
	ids := map[string]string{} // DnsName → id
	for i := 1; i <= 3; i++ {
		id, dns := ok3(create(c))(t)
		if dns != port(r.Lo+i) {
			t.Fatalf("endpoint %d on %s, want %s", i, dns, port(r.Lo+i))
		}
		ids[dns] = id
		ok(c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{}, through(dns)))(t)
	}
	_, _, err := create(c)
	wantErr(t, err, "VpcEndpointLimitExceeded", 400, "--endpoint-ports range "+r.String()+" is exhausted")
	if n := s.Env.Endpoints.(*server.Listeners).Len(); n != 3 {
		t.Fatalf("%d listeners after the refused endpoint", n)
	}
	// A deleted endpoint's port is free again: the next endpoint takes it.
	ok(c.DeleteVpcEndpoints(ctx, &ec2.DeleteVpcEndpointsInput{VpcEndpointIds: []string{ids[port(r.Lo+2)]}}))(t)
	id, dns := ok3(create(c))(t)
	if dns != port(r.Lo+2) {
		t.Fatalf("after a delete: %s, want %s", dns, port(r.Lo+2))
	}
	ids[dns] = id
	s.Close()

	// Restart: every endpoint answers on its port again.
	s = servertest.StartWith(t, servertest.Options{DataDir: dir, EndpointPorts: r})
	c = s.EC2(servertest.Root)
	for dns, id := range ids {
		got := ok(c.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{VpcEndpointIds: []string{id}}))(t).VpcEndpoints[0]
		if aws.ToString(got.DnsEntries[0].DnsName) != dns {
			t.Fatalf("%s after restart: %s, want %s", id, aws.ToString(got.DnsEntries[0].DnsName), dns)
		}
		ok(c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{}, through(dns)))(t)
	}
	s.Close()

	// Restart while another process holds an endpoint's port: a warning, and the
	// endpoint moves to the range's free port, which DescribeVpcEndpoints shows.
	foreign.Close()
	occupy(t, r.Lo+1)
	var log syncBuffer
	s = servertest.StartWith(t, servertest.Options{DataDir: dir, EndpointPorts: r, Log: slog.New(slog.NewTextHandler(&log, nil))})
	c = s.EC2(servertest.Root)
	moved := ids[port(r.Lo+1)]
	if l := log.String(); !strings.Contains(l, "level=WARN") || !strings.Contains(l, moved) || !strings.Contains(l, port(r.Lo)[len("localhost:"):]) {
		t.Fatalf("no warning about the taken port: %s", l)
	}
	got := ok(c.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{VpcEndpointIds: []string{moved}}))(t).VpcEndpoints[0]
	if dns := aws.ToString(got.DnsEntries[0].DnsName); dns != port(r.Lo) {
		t.Fatalf("moved endpoint on %s, want %s", dns, port(r.Lo))
	}
	ok(c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{}, through(port(r.Lo))))(t)
	for _, p := range []int{r.Lo + 2, r.Lo + 3} {
		ok(c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{}, through(port(p))))(t)
	}
}

func ok3[A, B any](a A, b B, err error) func(testing.TB) (A, B) {
	return func(t testing.TB) (A, B) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	}
}
