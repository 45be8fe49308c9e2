package events

import (
	"sync"
	"testing"
	"time"

	"github.com/iamlocal/iamlocal/internal/policy"
)

// A subscriber that never returns must not hold up Publish: once its buffer is
// full, every further record is dropped and counted, at once.
func TestPublishNeverBlocksOnAFullBuffer(t *testing.T) {
	s := NewStream()
	release := make(chan struct{})
	var mu sync.Mutex
	var got []string
	sub := s.Subscribe("stuck", 4, func(r Record) {
		<-release
		mu.Lock()
		got = append(got, r.Action)
		mu.Unlock()
	})
	other := s.Subscribe("counter", 100, func(Record) {})
	start := time.Now()
	for i := 0; i < 50; i++ {
		s.Publish(Record{Action: "s3:GetObject"})
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("50 publishes took %v", d)
	}
	// The stuck subscriber holds one record in hand and 4 in its buffer.
	if sub.Dropped() < 45 || sub.Dropped()+sub.Received() != 50 {
		t.Fatalf("dropped %d received %d", sub.Dropped(), sub.Received())
	}
	if other.Dropped() != 0 || other.Received() != 50 {
		t.Fatalf("a slow subscriber cost another one records: dropped %d received %d", other.Dropped(), other.Received())
	}
	if s.Dropped() != sub.Dropped() {
		t.Fatalf("stream dropped %d, subscriber %d", s.Dropped(), sub.Dropped())
	}
	close(release)
	sub.Sync()
	mu.Lock()
	defer mu.Unlock()
	if uint64(len(got)) != sub.Received() {
		t.Fatalf("handled %d of %d received", len(got), sub.Received())
	}
}

func TestRecordsArriveInOrderAndSyncWaits(t *testing.T) {
	s := NewStream()
	var got []string
	sub := s.Subscribe("order", 0, func(r Record) { got = append(got, r.Action) })
	for _, a := range []string{"iam:GetUser", "s3:PutObject", "ec2:RunInstances"} {
		s.Publish(Record{Action: a})
	}
	sub.Sync()
	if len(got) != 3 || got[0] != "iam:GetUser" || got[2] != "ec2:RunInstances" {
		t.Fatalf("got %v", got)
	}
	s.Close()
	s.Publish(Record{Action: "after:Close"}) // dropped, no panic
	sub.Sync()                               // returns at once after Close
	if len(got) != 3 {
		t.Fatalf("a record published after Close arrived: %v", got)
	}
}

func TestNilStreamDropsEverything(t *testing.T) {
	var s *Stream
	s.Publish(Record{Action: "iam:GetUser"})
	s.Close()
	if s.Dropped() != 0 {
		t.Fatal("nil stream counted")
	}
}

func TestEntityOf(t *testing.T) {
	cases := []struct {
		c    policy.Caller
		want string
	}{
		{policy.Caller{Kind: policy.User, Partition: "aws", Account: "111111111111", Arn: "arn:aws:iam::111111111111:user/a/kim"}, "arn:aws:iam::111111111111:user/a/kim"},
		{policy.Caller{Kind: policy.AssumedRole, Partition: "aws", Account: "111111111111", Arn: "arn:aws:sts::111111111111:assumed-role/app/s",
			RoleName: "app", RoleArn: "arn:aws:iam::111111111111:role/svc/app"}, "arn:aws:iam::111111111111:role/svc/app"},
		{policy.Caller{Kind: policy.AssumedRole, Partition: "aws", Account: "111111111111", RoleName: "app"}, "arn:aws:iam::111111111111:role/app"},
		{policy.Caller{Kind: policy.FederatedUser, Partition: "aws", Account: "111111111111", Parent: "kim"}, "arn:aws:iam::111111111111:user/kim"},
		{policy.Caller{Kind: policy.FederatedUser, Partition: "aws", Account: "111111111111"}, "arn:aws:iam::111111111111:root"},
		{policy.Caller{Kind: policy.RootUser, Arn: "arn:aws:iam::111111111111:root"}, "arn:aws:iam::111111111111:root"},
		{policy.Caller{Kind: policy.Anonymous, Arn: "anonymous"}, ""},
	}
	for _, c := range cases {
		if got := EntityOf(&c.c); got != c.want {
			t.Errorf("%+v: got %q want %q", c.c, got, c.want)
		}
	}
}

// BenchmarkPublish is the request path's cost of a decision record with two
// subscribers keeping up.
func BenchmarkPublish(b *testing.B) {
	s := NewStream()
	s.Subscribe("a", 0, func(Record) {})
	s.Subscribe("b", 0, func(Record) {})
	r := Record{Time: time.Now(), Account: "111111111111", Principal: "arn:aws:iam::111111111111:user/kim",
		Entity: "arn:aws:iam::111111111111:user/kim", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.Publish(r)
		}
	})
	b.StopTimer()
	s.Close()
}
